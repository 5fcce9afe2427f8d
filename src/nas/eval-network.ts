// The evaluation networks built from a genotype (darts-family.md §4): NetworkCIFAR and
// NetworkImageNet, with the auxiliary head after cell 2L/3 and drop-path.
import * as t from '../torch/index.js';
import { type AuxiliaryHead, auxiliaryHeadCIFAR, auxiliaryHeadImageNet } from './aux-heads.js';
import { EvalCell } from './eval-cell.js';
import type { Genotype } from './genotype.js';
import { ModuleList } from './module-list.js';
import { isReductionCell } from './supernet.js';

export interface EvalOutput {
  logits: t.Tensor;
  /** The auxiliary head's logits, only in training mode with an auxiliary head. */
  logitsAux: t.Tensor | null;
}

export interface EvalNetworkConfig {
  genotype: Genotype;
  /** Initial channels (36 on CIFAR, 48 on ImageNet). */
  C: number;
  numClasses: number;
  /** Cells (20 on CIFAR, 14 on ImageNet). */
  layers: number;
  auxiliary: boolean;
  inChannels?: number;
}

/** Counts parameters as the reference's count_parameters_in_MB does: the auxiliary head excluded. */
export function countParametersNoAux(m: t.nn.Module): number {
  return m.numParameters((name) => !name.includes('auxiliary'));
}

abstract class EvalNetwork extends t.nn.Module {
  readonly cells: ModuleList<EvalCell>;
  readonly auxiliaryHead: AuxiliaryHead | null = null;
  readonly classifier: t.nn.Linear;
  readonly auxAt: number;
  /** Drop-path probability; set it each epoch (see dropPathSchedule). */
  dropPathProb = 0;

  protected constructor(
    cfg: EvalNetworkConfig,
    cStart: [cPrevPrev: number, cPrev: number, C: number],
    reductionPrev: boolean,
    makeAux: (C: number) => AuxiliaryHead,
  ) {
    super();
    this.buildStems(cfg); // first, so parameters are listed in the reference order
    let [cPrevPrev, cPrev, cCur] = cStart;
    this.auxAt = Math.floor((2 * cfg.layers) / 3);
    const cells: EvalCell[] = [];
    let cAux = 0;
    for (let i = 0; i < cfg.layers; i++) {
      const reduction = isReductionCell(i, cfg.layers);
      if (reduction) cCur *= 2;
      const cell = new EvalCell({ genotype: cfg.genotype, cPrevPrev, cPrev, C: cCur, reduction, reductionPrev });
      cells.push(cell);
      reductionPrev = reduction;
      [cPrevPrev, cPrev] = [cPrev, cell.multiplier * cCur];
      if (i === this.auxAt) cAux = cPrev;
    }
    this.cells = this.registerModule('cells', new ModuleList(cells));
    if (cfg.auxiliary) this.auxiliaryHead = this.registerModule('auxiliaryHead', makeAux(cAux));
    this.classifier = this.registerModule('classifier', new t.nn.Linear(cPrev, cfg.numClasses));
  }

  /** Called by the base constructor, before the cells: register the stem modules. */
  protected abstract buildStems(cfg: EvalNetworkConfig): void;
  protected abstract stems(x: t.Tensor): [t.Tensor, t.Tensor];

  forward(x: t.Tensor): EvalOutput {
    return t.scope(() => {
      let [s0, s1] = this.stems(x);
      let logitsAux: t.Tensor | null = null;
      this.cells.items.forEach((cell, i) => {
        [s0, s1] = [s1, cell.forward(s0, s1, this.dropPathProb)];
        if (i === this.auxAt && this.auxiliaryHead && this.training) logitsAux = this.auxiliaryHead.forward(s1);
      });
      // Global average pooling: AdaptiveAvgPool2d(1) (CIFAR); equals AvgPool2d(7) on 224x224 ImageNet.
      const logits = this.classifier.forward(t.flatten(t.adaptiveAvgPool2d(s1, 1), 1));
      return { logits, logitsAux };
    });
  }
}

/** NetworkCIFAR (C=36, 20 cells): stem Conv3x3(→3C) + BN. DARTS_V2: 3,349,342 params (+476,426 aux). */
export class NetworkCIFAR extends EvalNetwork {
  declare readonly stem: t.nn.Sequential;
  constructor(cfg: EvalNetworkConfig) {
    const cStem = 3 * cfg.C;
    super(cfg, [cStem, cStem, cfg.C], false, (c) => auxiliaryHeadCIFAR(c, cfg.numClasses));
  }
  protected buildStems(cfg: EvalNetworkConfig): void {
    const cStem = 3 * cfg.C;
    this.registerModule(
      'stem',
      new t.nn.Sequential(
        new t.nn.Conv2d(cfg.inChannels ?? 3, cStem, 3, { padding: 1, bias: false }),
        new t.nn.BatchNorm2d(cStem),
      ),
    );
  }
  protected stems(x: t.Tensor): [t.Tensor, t.Tensor] {
    const s = this.stem.forward(x);
    return [s, s];
  }
}

export interface ImageNetNetworkConfig extends EvalNetworkConfig {
  /** BN(768) in the auxiliary head: P-DARTS has it, DARTS/PC-DARTS do not (default false). */
  auxBn768?: boolean;
}

/** NetworkImageNet (C=48, 14 cells, 224x224): two stride-4 and stride-2 stems. */
export class NetworkImageNet extends EvalNetwork {
  declare readonly stem0: t.nn.Sequential;
  declare readonly stem1: t.nn.Sequential;
  constructor(cfg: ImageNetNetworkConfig) {
    super(cfg, [cfg.C, cfg.C, cfg.C], true, (c) => auxiliaryHeadImageNet(c, cfg.numClasses, cfg.auxBn768 ?? false));
  }
  protected buildStems(cfg: EvalNetworkConfig): void {
    const { BatchNorm2d, Conv2d, ReLU, Sequential } = t.nn;
    const C = cfg.C;
    this.registerModule(
      'stem0',
      new Sequential(
        new Conv2d(cfg.inChannels ?? 3, C / 2, 3, { stride: 2, padding: 1, bias: false }),
        new BatchNorm2d(C / 2),
        new ReLU(),
        new Conv2d(C / 2, C, 3, { stride: 2, padding: 1, bias: false }),
        new BatchNorm2d(C),
      ),
    );
    this.registerModule(
      'stem1',
      new Sequential(new ReLU(), new Conv2d(C, C, 3, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(C)),
    );
  }
  protected stems(x: t.Tensor): [t.Tensor, t.Tensor] {
    const s0 = this.stem0.forward(x);
    return [s0, this.stem1.forward(s0)];
  }
}
