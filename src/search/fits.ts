// Before a search allocates anything: its batch size against each split and against memory.
import type { SearchConfig } from '../config/schema.js';
import type { SplitData } from '../data/load.js';
import { numEdges, PRIMITIVES } from '../nas/primitives.js';
import { isReductionCell } from '../nas/supernet.js';
import { checkBatchFitsMemory, checkBatchFitsSplits } from '../runs/memory.js';

/**
 * A lower bound of the bytes one example's activations take in the supernet's forward pass: the
 * stem, each cell's two preprocessed inputs, every op output on every edge ('none' keeps nothing;
 * PC-DARTS ops see C/K channels) and the cell output. Intermediates inside ops are left out.
 */
export function supernetFloorBytes(
  cfg: SearchConfig,
  shape: readonly [number, number, number],
  style: 'cifar' | 'imagenet' = 'cifar',
): number {
  const s = cfg.supernet;
  const [cin, h0, w0] = shape;
  const ops = PRIMITIVES.length - 1;
  const share = cfg.method === 'pc-darts' ? 1 / s.pcK : 1;
  const layers = cfg.method === 'p-darts' ? Math.max(...cfg.pdarts.layers) : s.layers;
  const down = (s.stem === 'auto' ? style : s.stem) === 'imagenet' ? 8 : 1;
  let [h, w, c] = [Math.ceil(h0 / down), Math.ceil(w0 / down), s.channels];
  let floats = cin * h0 * w0 + s.stemMultiplier * s.channels * h * w;
  for (let i = 0; i < layers; i++) {
    const red = isReductionCell(i, layers);
    if (red) c *= 2;
    const [ho, wo] = red ? [Math.ceil(h / 2), Math.ceil(w / 2)] : [h, w];
    floats += 2 * c * h * w + numEdges(s.steps) * ops * share * c * ho * wo + (s.multiplier ?? s.steps) * c * ho * wo;
    [h, w] = [ho, wo];
  }
  return floats * 4;
}

/** Refuses a batch size larger than D_tr, D_val or D_u, or one whose supernet activations cannot fit in memory. */
export function checkSearchFits(cfg: SearchConfig, data: SplitData): void {
  checkBatchFitsSplits(cfg.batchSize, [
    ['D_tr', data.train.indices.length],
    ['D_val', data.valid.indices.length],
    ['D_u', data.unlabeled.indices.length],
  ]);
  const perExample = supernetFloorBytes(cfg, data.meta.shape, data.meta.style);
  const shrink = cfg.method === 'p-darts' ? 'supernet.channels or pdarts.layers' : 'supernet.channels or supernet.layers';
  checkBatchFitsMemory('batchSize', cfg.batchSize, perExample, 'the supernet', cfg.device, shrink);
}
