// One line about a run, the same in the run list, on the live page and in the static report:
// state, method, dataset, progress, step time, ETA and result.
import type { RunResult, RunSummary } from '../../runs/types.js';
import { datasetName, methodLabel } from '../table.js';
import type { Progress, TimingRow } from './rows.js';

/** A run's state as shown: run.json's status, or `stale` for a running run whose process is gone. */
export type RunState = RunSummary['status'] | 'stale';

export interface RunHeader {
  kind: RunSummary['kind'];
  state: RunState;
  label: string;
  dataset: string;
  step: number;
  totalSteps: number | null;
  epochsDone: number;
  totalEpochs: number | null;
  /** Seconds the run has been going (all sessions). */
  elapsed: number;
  /** Mean seconds per step over the last few logged steps. */
  secondsPerStep: number | null;
  /** Seconds left at that pace, while running. */
  eta: number | null;
  testError: number | null;
  paramsM: number | null;
  error: string | null;
  device: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});

/** The total steps and epochs a config asks for, when the train split size is known (search runs). */
export function plannedTotals(config: Obj, trainSize: number | null): { totalSteps: number | null; totalEpochs: number | null } {
  const epochs = Number(config.epochs);
  if (!Number.isFinite(epochs)) return { totalSteps: null, totalEpochs: null };
  const stages = config.method === 'p-darts' ? ((obj(config.pdarts).layers as unknown[] | undefined)?.length ?? 3) : 1;
  const batch = Number(config.batchSize);
  const cap = config.stepsPerEpoch === null || config.stepsPerEpoch === undefined ? Infinity : Number(config.stepsPerEpoch);
  const perEpoch =
    trainSize !== null && batch > 0 ? Math.min(Math.ceil(trainSize / batch), cap) : Number.isFinite(cap) ? cap : null;
  return { totalSteps: perEpoch === null ? null : perEpoch * epochs * stages, totalEpochs: epochs * stages };
}

export interface HeaderInput {
  summary: RunSummary;
  config: Obj;
  progress: Progress;
  timing: readonly TimingRow[];
  result: RunResult | null;
  /** The train split's size (splits.json), for the step total of runs whose records carry no plan. */
  trainSize?: number | null;
  stale?: boolean;
  /** Now, in ms since the epoch (for the elapsed time of a running run). */
  now?: number;
}

export function runHeader(h: HeaderInput): RunHeader {
  const { summary: s, config, progress: p } = h;
  const planned = plannedTotals(config, h.trainSize ?? null);
  const totalSteps = p.totalSteps ?? planned.totalSteps;
  const recent = h.timing.slice(-5);
  const sps = recent.length ? recent.reduce((a, r) => a + r.secondsPerStep, 0) / recent.length : null;
  const running = s.status === 'running' && !h.stale;
  return {
    kind: s.kind,
    state: s.status === 'running' && h.stale ? 'stale' : s.status,
    label: s.label ?? (s.kind === 'search' ? methodLabel(config) : `train ${String(config.genotype ?? '')}`.trim()),
    dataset: datasetName(String(obj(config.dataset).name ?? '?')),
    step: p.step,
    totalSteps,
    epochsDone: p.epochsDone,
    totalEpochs: p.totalEpochs ?? planned.totalEpochs,
    elapsed: running
      ? Math.max(p.time, s.wallSeconds + Math.max(0, ((h.now ?? Date.now()) - Date.parse(s.updatedAt)) / 1000))
      : s.wallSeconds,
    secondsPerStep: sps,
    eta: running && sps !== null && totalSteps !== null ? Math.max(0, totalSteps - p.step) * sps : null,
    testError: h.result?.testError ?? null,
    paramsM: h.result?.paramsM ?? null,
    error: s.error ?? null,
    device: s.deviceName ?? s.device,
  };
}

/** 75 → "1m 15s", 4000 → "1h 6m". */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** "step 35/75 (47%) · epoch 1/3". */
export function progressText(h: RunHeader): string {
  const steps =
    h.totalSteps !== null && h.totalSteps > 0
      ? `step ${h.step}/${h.totalSteps} (${Math.floor((100 * Math.min(h.step, h.totalSteps)) / h.totalSteps)}%)`
      : `step ${h.step}`;
  const epochs =
    h.totalEpochs !== null
      ? ` · epoch ${Math.min(h.epochsDone + (h.state === 'running' ? 1 : 0), h.totalEpochs)}/${h.totalEpochs}`
      : '';
  return steps + epochs;
}

/** "4.1 s/step · ETA 2m 44s" while running; "took 5m 3s" when finished. */
export function timeText(h: RunHeader): string {
  const pace = h.secondsPerStep !== null ? `${h.secondsPerStep.toFixed(h.secondsPerStep < 10 ? 2 : 1)} s/step` : '';
  if (h.state === 'running')
    return [pace, h.eta !== null ? `ETA ${duration(h.eta)}` : '', `running ${duration(h.elapsed)}`].filter(Boolean).join(' · ');
  return [pace, `took ${duration(h.elapsed)}`].filter(Boolean).join(' · ');
}

export function resultText(h: RunHeader): string {
  if (h.testError === null) return h.error ?? '';
  return `test error ${h.testError.toFixed(2)}%${h.paramsM !== null ? `, ${h.paramsM.toFixed(2)} M params` : ''}`;
}
