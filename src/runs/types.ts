// What a run directory holds, in one place: the search loop writes exactly these records (through
// run-dir.ts) and `lbt report` reads exactly these. Plain JSON data; no tensors.
//
//   RUN/
//     run.json                 RunSummary: kind, status, timings, device, git revision, label
//     config.json              the resolved config (SearchConfig or TrainConfig), as parsed
//     splits.json              Splits: example indices of each subset
//     metrics.jsonl            one MetricsRecord per line (step and epoch records, in order)
//     genotypes/epoch-NNN.json ArchSnapshot after each search epoch (P-DARTS: stage-S-epoch-NNN.json)
//     arch.jsonl               one ArchSnapshot per line: at the start, at every logged step, at every epoch end
//     events.out.tfevents.*    the same records and snapshots as TensorBoard events (tf-summaries.ts)
//     genotype.json            the final genotype of a search (nas/genotype.ts's GenotypeFile)
//     result.json              RunResult: test error and parameter count of a trained network
//     checkpoint.safetensors   the last checkpoint (checkpoint.ts), checkpoint.prev.safetensors before it

import { z } from 'zod';
import { GenotypeFile } from '../nas/genotype.js';

export const RUN_FORMAT = 1 as const;

export const RUN_FILES = Object.freeze({
  summary: 'run.json',
  config: 'config.json',
  splits: 'splits.json',
  metrics: 'metrics.jsonl',
  arch: 'arch.jsonl',
  genotypes: 'genotypes',
  genotype: 'genotype.json',
  result: 'result.json',
  checkpoint: 'checkpoint.safetensors',
  checkpointPrev: 'checkpoint.prev.safetensors',
});

export const RunKind = z.enum(['search', 'train']);
export type RunKind = z.infer<typeof RunKind>;
export const RunStatus = z.enum(['running', 'completed', 'failed', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;

/** run.json. Times are ISO strings; durations are seconds summed over every resumed session. */
export const RunSummary = z.object({
  format: z.literal(RUN_FORMAT),
  kind: RunKind,
  status: RunStatus,
  /** Row label for report tables, e.g. "LBT(RN18,DARTS-2nd)"; derived from the config when absent. */
  label: z.string().optional(),
  /** Preset the run came from, if any. */
  preset: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().optional(),
  /** Wall-clock seconds the run has been running, over all sessions (resumes add up). */
  wallSeconds: z.number(),
  /** Seconds per phase ("search", "retrain", "test", "data"...), summed over sessions. */
  phaseSeconds: z.record(z.string(), z.number()),
  /** Number of sessions: 1 + resumes. */
  sessions: z.number().int().positive(),
  device: z.string(),
  /** Human-readable device, e.g. "2-core x86_64 CPU" or "NVIDIA H100". */
  deviceName: z.string().optional(),
  gitRev: z.string().nullable(),
  host: z.string(),
  node: z.string(),
  command: z.array(z.string()).optional(),
  /** For a train run: the search run whose genotype it trains (its search cost is counted). */
  searchRun: z.string().optional(),
  /** Why the run failed or stopped (e.g. "loss is NaN at epoch 3 step 120"). */
  error: z.string().optional(),
  /** The process of the session writing the run (on `host`): a running run whose process is gone is stale. */
  pid: z.number().int().optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

/** Loss and accuracy (accuracy as a fraction in [0, 1]). */
export interface LossAcc {
  loss: number;
  acc: number;
}

/** A model's numbers at one point: train (running mean over the epoch or the logging window) and validation. */
export interface ModelMetrics {
  train?: LossAcc;
  val?: LossAcc;
}

/** What step and epoch records share. */
interface TrainingRecord {
  /** 0-based epoch (within the stage for P-DARTS). */
  epoch: number;
  /** Global optimisation steps done so far (monotone over the whole run, across stages). */
  step: number;
  stage?: number;
  lr: number;
  teacher: ModelMetrics;
  student?: ModelMetrics;
  /** Fraction of unlabeled examples where the student's argmax equals the teacher's. */
  agreement?: number;
  /** Accuracy of the teacher's pseudo-labels, where D_u's labels are known. */
  pseudoAcc?: number;
  /** Seconds since the run started (this session's start plus earlier sessions). */
  time: number;
}

/**
 * The sizes of the hypergradient's terms at one step (global L2 norms), measured on logged steps
 * only: aV = ‖a_v‖ and gV = ‖g_v‖ (the teacher's own validation signal, on A and on T'), uA =
 * ‖γξ_sλ·u_A‖ and uT = ‖γξ_sλ·u_T‖ (the student's, directly on A and through T'); uARatio = uA/aV,
 * uTRatio = uT/gV. Terms a method does not have are left out.
 */
export interface TeachingSignal {
  aV?: number;
  gV?: number;
  uA?: number;
  uT?: number;
  uARatio?: number;
  uTRatio?: number;
}

export interface StepRecord extends TrainingRecord {
  kind: 'step';
  /** Search steps with an architecture update: the hypergradient's term sizes. */
  teaching?: TeachingSignal;
}

export interface EpochRecord extends TrainingRecord {
  kind: 'epoch';
  /** Mean entropy (nats) of softmax(alpha) over the edges, per cell type. */
  alphaEntropy?: { normal: number; reduce: number };
  /** Skip-connects in the normal cell of the current genotype. */
  skipConnects?: number;
  /** Wall seconds of this epoch, and the part spent waiting for data. */
  seconds: number;
  dataSeconds?: number;
}

/** Written when the run ends or is stopped with a reason (also repeated in run.json). */
export interface EventRecord {
  kind: 'event';
  step: number;
  event: 'start' | 'resume' | 'stage' | 'nan' | 'stop' | 'done';
  message?: string;
  /** start and resume: the steps and epochs the whole run will take (for progress and ETA). */
  plan?: { totalSteps: number; totalEpochs: number };
  time: number;
}

export type MetricsRecord = StepRecord | EpochRecord | EventRecord;

/**
 * genotypes/epoch-NNN.json: the genotype and the architecture weights after one epoch.
 * weights are softmax(alpha) per edge (rows) over `ops` (columns). For P-DARTS, where the ops
 * left on differ per edge, `edgeOps[i]` names the columns of row i instead.
 */
export interface ArchSnapshot {
  epoch: number;
  stage?: number;
  step: number;
  genotype: GenotypeFile;
  ops: readonly string[];
  edgeOps?: { normal: readonly (readonly string[])[]; reduce: readonly (readonly string[])[] };
  weights: { normal: readonly (readonly number[])[]; reduce: readonly (readonly number[])[] };
  /** PC-DARTS edge normalisation: softmax(beta) per node, flattened to one value per edge. */
  betas?: { normal: readonly number[]; reduce: readonly number[] };
  /** Seconds since the run started when the snapshot was taken. */
  time?: number;
}

// What lbt reads back from metrics.jsonl and genotypes/*.json, checked so that a file of another
// shape is one line naming it (numbers may be null: JSON writes NaN as null). Unknown keys are kept.
const num = z.number().nullable();
const LossAccSchema = z.looseObject({ loss: num, acc: num });
const ModelMetricsSchema = z.looseObject({ train: LossAccSchema.optional(), val: LossAccSchema.optional() });
const trainingFields = {
  epoch: z.number().int().nonnegative(),
  step: z.number().int().nonnegative(),
  stage: z.number().int().nonnegative().optional(),
  lr: num,
  teacher: ModelMetricsSchema,
  student: ModelMetricsSchema.optional(),
  agreement: num.optional(),
  pseudoAcc: num.optional(),
  time: num,
};
export const MetricsRecordSchema = z.discriminatedUnion('kind', [
  z.looseObject({ kind: z.literal('step'), ...trainingFields }),
  z.looseObject({
    kind: z.literal('epoch'),
    ...trainingFields,
    alphaEntropy: z.looseObject({ normal: num, reduce: num }).optional(),
    skipConnects: z.number().int().nonnegative().optional(),
    seconds: num,
  }),
  z.looseObject({ kind: z.literal('event'), step: z.number().int().nonnegative(), event: z.string(), time: num }),
]);

const matrix = z.array(z.array(num));
export const ArchSnapshotSchema = z.looseObject({
  epoch: z.number().int().nonnegative(),
  stage: z.number().int().nonnegative().optional(),
  step: z.number().int().nonnegative(),
  genotype: GenotypeFile,
  ops: z.array(z.string()),
  edgeOps: z.looseObject({ normal: z.array(z.array(z.string())), reduce: z.array(z.array(z.string())) }).optional(),
  weights: z.looseObject({ normal: matrix, reduce: matrix }),
  betas: z.looseObject({ normal: z.array(num), reduce: z.array(num) }).optional(),
});

/** result.json of a trained network (`lbt train`, or the retrain after a search). */
export const RunResult = z.object({
  /** Top-1 test error in percent. */
  testError: z.number(),
  /** Top-5 test error in percent (ImageNet). */
  top5Error: z.number().optional(),
  /** Parameters without the auxiliary head, in millions (reference count_parameters_in_MB). */
  paramsM: z.number(),
  testExamples: z.number().int().nonnegative(),
  epochs: z.number().int().nonnegative(),
  /** The genotype that was trained (so a train run dir stands alone). */
  genotype: GenotypeFile.optional(),
});
export type RunResult = z.infer<typeof RunResult>;
