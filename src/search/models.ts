// Builds the teacher supernet and the student from a search config, and views them as the
// functions the LBT math expects (src/lbt/types.ts).
import { netFromModule, teacherFromModule, type Net, type TeacherNet } from '../lbt/index.js';
import { type EdgeOps, createPdartsSupernet } from '../nas/p-darts.js';
import { createPcDartsSupernet } from '../nas/pc-darts.js';
import type { DatasetMeta } from '../data/source.js';
import { archFromList } from '../nas/arch.js';
import { createDartsSupernet, type SearchNetwork } from '../nas/supernet.js';
import { type ResNet, resnet18, resnet50 } from '../students/resnet.js';
import type { SearchConfig } from '../config/schema.js';
import * as t from '../torch/index.js';

export interface DataShape {
  classes: number;
  channels: number;
  /** The data's style: the supernet's stem when supernet.stem is auto. */
  style: DatasetMeta['style'];
}

/** The classes, input channels and style of a dataset. */
export function dataShape(meta: DatasetMeta): DataShape {
  return { classes: meta.numClasses, channels: meta.shape[0], style: meta.style };
}

export interface PdartsStage {
  layers: number;
  opsNormal: EdgeOps;
  opsReduce: EdgeOps;
  skipDropRate: number;
}

/** The teacher supernet of the configured space (a P-DARTS stage needs its op lists). */
export function buildSupernet(cfg: SearchConfig, data: DataShape, stage?: PdartsStage): SearchNetwork {
  const s = cfg.supernet;
  const stem = s.stem === 'auto' ? data.style : s.stem;
  const shape = { steps: s.steps, multiplier: s.multiplier ?? s.steps, stemMultiplier: s.stemMultiplier, stem };
  const common = { C: s.channels, numClasses: data.classes, inChannels: data.channels, ...shape };
  switch (cfg.method) {
    case 'darts':
      return createDartsSupernet({ ...common, layers: s.layers });
    case 'pc-darts':
      return createPcDartsSupernet({ ...common, layers: s.layers, k: s.pcK });
    case 'p-darts':
      return createPdartsSupernet({
        ...common,
        layers: stage?.layers ?? s.layers,
        maxSkip: cfg.pdarts.maxSkip,
        ...(stage ? { opsNormal: stage.opsNormal, opsReduce: stage.opsReduce, skipDropRate: stage.skipDropRate } : {}),
      });
  }
}

export function buildStudent(cfg: SearchConfig, data: DataShape): ResNet {
  const o = {
    numClasses: data.classes,
    inChannels: data.channels,
    width: cfg.student.width,
    ...(cfg.student.blocks ? { blocks: cfg.student.blocks as [number, number, number, number] } : {}),
  };
  return cfg.student.arch === 'resnet50' ? resnet50(o) : resnet18(o);
}

/**
 * net with its forward under autocast (engine.autocast) and the logits back in float32, so that
 * the losses, softmaxes and gradients outside the forward stay float32; net itself when null.
 */
export function autocastNet<N extends Net>(net: N, autocast: t.AutocastDevice | null): N {
  if (autocast === null) return net;
  return {
    ...net,
    forward: (x, w, a) => {
      const y = t.withAutocast(autocast, () => net.forward(x, w, a));
      return y.dtype === 'float32' ? y : y.to({ dtype: 'float32' });
    },
  };
}

export function teacherNet(sup: SearchNetwork, autocast: t.AutocastDevice | null = null): TeacherNet {
  return autocastNet(
    teacherFromModule(sup, sup.archParameters(), (x, a) => sup.forward(x, archFromList(a))),
    autocast,
  );
}

export function studentNet(student: ResNet, autocast: t.AutocastDevice | null = null): Net {
  return autocastNet(netFromModule(student), autocast);
}
