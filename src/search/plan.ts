// How long a search runs and where it is: stages (P-DARTS: 3, others: 1) of epochs of steps, the
// learning rate of each epoch, and the position a checkpoint stores. Pure functions of the config.
import type { SearchConfig } from '../config/schema.js';
import * as t from '../torch/index.js';

export interface SearchPlan {
  stages: number;
  /** Epochs per stage. */
  epochs: number;
  stepsPerEpoch: number;
  /** Over all stages. */
  totalEpochs: number;
  totalSteps: number;
}

/** The plan of a search over `trainImages` images of D_tr (an epoch is one pass, or cfg.stepsPerEpoch steps). */
export function planSearch(cfg: SearchConfig, trainImages: number): SearchPlan {
  const stages = cfg.method === 'p-darts' ? cfg.pdarts.layers.length : 1;
  const pass = Math.ceil(trainImages / cfg.batchSize);
  const stepsPerEpoch = Math.min(cfg.stepsPerEpoch ?? pass, pass);
  const totalEpochs = stages * cfg.epochs;
  return { stages, epochs: cfg.epochs, stepsPerEpoch, totalEpochs, totalSteps: totalEpochs * stepsPerEpoch };
}

/** Where the loop is, as a checkpoint stores it: the next step to run is step `stepInEpoch` of `epoch` of `stage`. */
export interface Position {
  stage: number;
  /** 0-based, within the stage. */
  epoch: number;
  stepInEpoch: number;
  /** Global steps done (monotone over the whole run, across stages). */
  step: number;
}

export const START: Position = Object.freeze({ stage: 0, epoch: 0, stepInEpoch: 0, step: 0 });

export const afterStep = (p: Position): Position => ({ ...p, stepInEpoch: p.stepInEpoch + 1, step: p.step + 1 });
export const afterEpoch = (p: Position): Position => ({ ...p, epoch: p.epoch + 1, stepInEpoch: 0 });
export const afterStage = (p: Position): Position => ({ stage: p.stage + 1, epoch: 0, stepInEpoch: 0, step: p.step });

/** Weight lr of epoch e: DARTS steps its cosine scheduler before each epoch, so epoch e uses cosine(e+1); warm-up first. */
export function weightLr(cfg: SearchConfig, epoch: number): number {
  const w = cfg.weights;
  const cos = t.optim.cosineLr(epoch + 1, cfg.epochs, w.lr, w.lrMin);
  return w.warmupEpochs > 0 && epoch < w.warmupEpochs ? t.optim.warmupLr(epoch, w.warmupEpochs, w.lr) : cos;
}

/** Student lr of epoch e: constant (LBT-DARTS reference), or cosine as the weights. */
export function studentLr(cfg: SearchConfig, epoch: number): number {
  const s = cfg.student;
  return s.schedule === 'cosine' ? t.optim.cosineLr(epoch + 1, cfg.epochs, s.lr, cfg.weights.lrMin) : s.lr;
}
