// The search network ("supernet", darts-family.md §2): stem, `layers` search cells with
// reductions at L/3 and 2L/3, global pooling and a linear classifier. The architecture
// parameters are not module parameters: they live in `arch`, and forward() is functional in them.
import * as t from '../torch/index.js';
import { type ArchParams, type ArchValues, archList, archValues, initArchTensor, loadArchValues } from './arch.js';
import { type Genotype, makeGenotype } from './genotype.js';
import { deriveDarts } from './derive.js';
import { type Edge, MixedOp } from './mixed-op.js';
import { ModuleList } from './module-list.js';
import type { Stride } from './operations.js';
import { nodeEdges, numEdges, PRIMITIVES } from './primitives.js';
import { SearchCell } from './search-cell.js';

export type SearchSpace = 'darts' | 'pc-darts' | 'p-darts';

export interface SearchNetworkConfig {
  space: SearchSpace;
  C: number;
  numClasses: number;
  layers: number;
  steps?: number;
  multiplier?: number;
  stemMultiplier?: number;
  inChannels?: number;
  /** 'cifar': Conv3x3 → BN. 'imagenet': three stride-2 convs (PC-DARTS ImageNet search). */
  stem?: 'cifar' | 'imagenet';
  /** Alpha columns (ops per edge). */
  numOps: number;
  /** PC-DARTS edge normalisation (betas). */
  edgeNormalization?: boolean;
  makeEdge: (C: number, stride: Stride, index: number, reduction: boolean) => Edge;
  derive: (arch: ArchValues) => Genotype;
}

/** Concatenated per-node softmaxes of betas [numEdges]: node i's incoming edges sum to 1. */
export function normalizeBetas(betas: t.Tensor, steps: number): t.Tensor {
  return t.scope(() => {
    const parts: t.Tensor[] = [];
    for (let i = 0; i < steps; i++) {
      const { start, count } = nodeEdges(i);
      parts.push(t.softmax(t.narrow(betas, 0, start, count), 0));
    }
    return t.cat(parts, 0);
  });
}

export class SearchNetwork extends t.nn.Module {
  readonly config: Readonly<Required<Omit<SearchNetworkConfig, 'makeEdge' | 'derive'>>>;
  readonly stem: t.nn.Layer | null = null;
  readonly stem0: t.nn.Layer | null = null;
  readonly stem1: t.nn.Layer | null = null;
  readonly cells: ModuleList<SearchCell>;
  readonly classifier: t.nn.Linear;
  /** The live architecture parameters (owned: disposed with the network). */
  arch: ArchParams;
  /** Training-mode forwards use the fused cell forward (false: the straightforward one, the tests' oracle). */
  fused = true;
  readonly #derive: (arch: ArchValues) => Genotype;

  constructor(c: SearchNetworkConfig) {
    super();
    const steps = c.steps ?? 4;
    const multiplier = c.multiplier ?? steps;
    if (!(Number.isInteger(multiplier) && multiplier >= 1 && multiplier <= steps))
      throw new RangeError(
        `SearchNetwork: multiplier ${multiplier} must be 1..steps (${steps}): the cell output concatenates its last nodes`,
      );
    const cfg = {
      space: c.space,
      C: c.C,
      numClasses: c.numClasses,
      layers: c.layers,
      steps,
      multiplier,
      stemMultiplier: c.stemMultiplier ?? 3,
      inChannels: c.inChannels ?? 3,
      stem: c.stem ?? 'cifar',
      numOps: c.numOps,
      edgeNormalization: c.edgeNormalization ?? false,
    };
    this.config = Object.freeze(cfg);
    this.#derive = c.derive;
    const { Conv2d, BatchNorm2d, ReLU, Sequential } = t.nn;
    const cStem = cfg.stemMultiplier * cfg.C;
    if (cfg.stem === 'cifar') {
      this.stem = this.registerModule(
        'stem',
        new Sequential(new Conv2d(cfg.inChannels, cStem, 3, { padding: 1, bias: false }), new BatchNorm2d(cStem)),
      );
    } else {
      const half = Math.floor(cStem / 2);
      this.stem0 = this.registerModule(
        'stem0',
        new Sequential(
          new Conv2d(cfg.inChannels, half, 3, { stride: 2, padding: 1, bias: false }),
          new BatchNorm2d(half),
          new ReLU(),
          new Conv2d(half, cStem, 3, { stride: 2, padding: 1, bias: false }),
          new BatchNorm2d(cStem),
        ),
      );
      this.stem1 = this.registerModule(
        'stem1',
        new Sequential(new ReLU(), new Conv2d(cStem, cStem, 3, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(cStem)),
      );
    }
    let [cPrevPrev, cPrev, cCur] = [cStem, cStem, cfg.C];
    let reductionPrev = cfg.stem === 'imagenet';
    const cells: SearchCell[] = [];
    for (let i = 0; i < cfg.layers; i++) {
      const reduction = isReductionCell(i, cfg.layers);
      if (reduction) cCur *= 2;
      cells.push(
        new SearchCell({
          steps: cfg.steps,
          multiplier: cfg.multiplier,
          cPrevPrev,
          cPrev,
          C: cCur,
          reduction,
          reductionPrev,
          makeEdge: (C, stride, index) => c.makeEdge(C, stride, index, reduction),
        }),
      );
      reductionPrev = reduction;
      [cPrevPrev, cPrev] = [cPrev, cfg.multiplier * cCur];
    }
    this.cells = this.registerModule('cells', new ModuleList(cells));
    this.classifier = this.registerModule('classifier', new t.nn.Linear(cPrev, cfg.numClasses));
    const e = numEdges(cfg.steps);
    this.arch = { normal: initArchTensor([e, cfg.numOps]), reduce: initArchTensor([e, cfg.numOps]) };
    if (cfg.edgeNormalization) {
      this.arch.betasNormal = initArchTensor([e]);
      this.arch.betasReduce = initArchTensor([e]);
    }
  }

  /** The architecture tensors in the reference order: normal, reduce[, betasNormal, betasReduce]. */
  archParameters(): t.Tensor[] {
    return archList(this.arch);
  }

  /** Logits [N, numClasses]; `arch` may be any tensors of the right shapes (e.g. α ± ε·v). */
  forward(x: t.Tensor, arch: ArchParams = this.arch): t.Tensor {
    const { numOps, edgeNormalization, steps } = this.config;
    const e = numEdges(steps);
    for (const [name, a] of [
      ['normal', arch.normal],
      ['reduce', arch.reduce],
    ] as const) {
      const s = a.shape;
      if (s.length !== 2 || s[0] !== e || s[1] !== numOps) {
        throw new RangeError(`SearchNetwork.forward: arch.${name} must be [${e}, ${numOps}], got [${s}]`);
      }
    }
    if (edgeNormalization && (!arch.betasNormal || !arch.betasReduce)) {
      throw new RangeError('SearchNetwork.forward: this space needs arch.betasNormal and arch.betasReduce');
    }
    return t.scope(() => {
      const wNormal = t.softmax(arch.normal, -1);
      const wReduce = t.softmax(arch.reduce, -1);
      const bNormal = edgeNormalization ? normalizeBetas(arch.betasNormal as t.Tensor, steps) : null;
      const bReduce = edgeNormalization ? normalizeBetas(arch.betasReduce as t.Tensor, steps) : null;
      let s0: t.Tensor;
      let s1: t.Tensor;
      if (this.stem) {
        s0 = s1 = this.stem.forward(x);
      } else {
        s0 = (this.stem0 as t.nn.Layer).forward(x);
        s1 = (this.stem1 as t.nn.Layer).forward(s0);
      }
      for (const cell of this.cells.items) {
        const out = cell.reduction
          ? cell.forward(s0, s1, wReduce, bReduce, this.fused)
          : cell.forward(s0, s1, wNormal, bNormal, this.fused);
        [s0, s1] = [s1, out];
      }
      return this.classifier.forward(t.flatten(t.adaptiveAvgPool2d(s1, 1), 1));
    });
  }

  /** The genotype this space's rule derives from the current architecture values (its concat: the last `multiplier` nodes). */
  genotype(arch: ArchParams = this.arch): Genotype {
    const { steps, multiplier } = this.config;
    return withConcat(this.#derive(archValues(arch)), steps, multiplier);
  }

  /** Copies values into the live architecture tensors (shapes must match). */
  loadArch(values: ArchValues): void {
    loadArchValues(this.arch, values);
  }

  /** Sets P-DARTS's dropout rate after every stride-1 skip (no effect on other spaces). */
  setSkipDropRate(p: number): void {
    for (const cell of this.cells.items) for (const e of cell.ops.items) if (e instanceof MixedOp) e.setSkipDropRate(p);
  }

  override dispose(): void {
    for (const cell of this.cells.items) cell.disposePlan();
    super.dispose();
    t.disposeAll(this.arch);
  }
}

/** `g` with the concat of a cell of `steps` nodes whose output is its last `multiplier` (reference: range(2+steps-multiplier, steps+2)). */
export function withConcat(g: Genotype, steps: number, multiplier: number): Genotype {
  if (multiplier === steps) return g;
  const concat = Array.from({ length: multiplier }, (_, i) => 2 + steps - multiplier + i);
  return makeGenotype(g.normal, g.reduce, concat, concat);
}

/** Cells L/3 and 2L/3 (integer division) are reduction cells. */
export function isReductionCell(i: number, layers: number): boolean {
  return i === Math.floor(layers / 3) || i === Math.floor((2 * layers) / 3);
}

/** The cell shape and stem every search space takes (reference model_search.py's steps, multiplier, stem_multiplier). */
export interface CellShapeOptions {
  /** Intermediate nodes per cell (4). */
  steps?: number;
  /** Nodes concatenated into the cell output: the last `multiplier` of them (default: all `steps`). */
  multiplier?: number;
  /** Stem channels = stemMultiplier * C (3). */
  stemMultiplier?: number;
  /** 'cifar' (default) or the ImageNet search stem of PC-DARTS's model_search_imagenet.py (three stride-2 convs). */
  stem?: 'cifar' | 'imagenet';
}

/** The cell-shape and stem fields of a SearchNetworkConfig (only those given). */
export function cellShape(o: CellShapeOptions): CellShapeOptions {
  return {
    ...(o.steps !== undefined && { steps: o.steps }),
    ...(o.multiplier !== undefined && { multiplier: o.multiplier }),
    ...(o.stemMultiplier !== undefined && { stemMultiplier: o.stemMultiplier }),
    ...(o.stem !== undefined && { stem: o.stem }),
  };
}

export interface DartsSupernetOptions extends CellShapeOptions {
  C?: number;
  numClasses?: number;
  layers?: number;
  inChannels?: number;
}

/** DARTS (quark0/darts model_search.py): C=16, 8 cells, 10 classes by default. */
export function createDartsSupernet(o: DartsSupernetOptions = {}): SearchNetwork {
  const steps = o.steps ?? 4;
  return new SearchNetwork({
    space: 'darts',
    C: o.C ?? 16,
    numClasses: o.numClasses ?? 10,
    layers: o.layers ?? 8,
    ...cellShape(o),
    inChannels: o.inChannels ?? 3,
    numOps: PRIMITIVES.length,
    makeEdge: (C, stride) => new MixedOp(C, stride),
    derive: (a) => deriveDarts(a.normal, a.reduce, steps),
  });
}
