// Run and experiment directories written by hand for the server tests (the file formats of
// src/runs/types.ts), plus a directory outside the served one holding a secret.
import { appendFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRIMITIVES } from '../../src/nas/primitives.js';
import type { ArchSnapshot, MetricsRecord, RunSummary } from '../../src/runs/types.js';

export const SECRET = 'TOP-SECRET-7f3a';

export function summary(o: Partial<RunSummary> = {}): RunSummary {
  return {
    format: 1,
    kind: 'search',
    status: 'completed',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:10:00.000Z',
    wallSeconds: 600,
    phaseSeconds: { search: 600 },
    sessions: 1,
    device: 'cpu',
    deviceName: '2-core test CPU',
    gitRev: null,
    host: 'test-host',
    node: 'v20',
    ...o,
  };
}

export const CONFIG = {
  method: 'darts',
  order: 'second',
  lbt: true,
  epochs: 2,
  batchSize: 8,
  stepsPerEpoch: 2,
  dataset: { name: 'fashion-mnist' },
  student: { arch: 'resnet18', width: 0.25 },
};

const uniform = (k: number) => Array.from({ length: 14 }, () => Array.from({ length: k }, () => 1 / k));

export function snapshot(step: number, epoch: number, tilt = 0): ArchSnapshot {
  const w = uniform(8).map((row) => row.map((v, j) => (j === 4 ? v + tilt : j === 0 ? v - tilt : v)));
  return {
    epoch,
    step,
    genotype: {
      format: 'lbt-genotype',
      version: 1,
      normal: [
        ['sep_conv_3x3', 0],
        ['sep_conv_3x3', 1],
        ['skip_connect', 0],
        ['sep_conv_3x3', 1],
        ['sep_conv_3x3', 1],
        ['dil_conv_3x3', 0],
        ['sep_conv_5x5', 2],
        ['max_pool_3x3', 0],
      ],
      reduce: [
        ['max_pool_3x3', 0],
        ['max_pool_3x3', 1],
        ['skip_connect', 2],
        ['max_pool_3x3', 1],
        ['max_pool_3x3', 0],
        ['skip_connect', 2],
        ['skip_connect', 2],
        ['avg_pool_3x3', 0],
      ],
      normalConcat: [2, 3, 4, 5],
      reduceConcat: [2, 3, 4, 5],
    },
    ops: PRIMITIVES,
    weights: { normal: w, reduce: w },
  };
}

export const stepRecord = (step: number, time: number): MetricsRecord => ({
  kind: 'step',
  epoch: Math.floor((step - 1) / 2),
  step,
  lr: 0.025,
  teacher: { train: { loss: 2.3 - 0.1 * step, acc: 0.1 * step } },
  student: { train: { loss: 2.4 - 0.1 * step, acc: 0.05 * step } },
  time,
});

export const epochRecord = (epoch: number, step: number, time: number): MetricsRecord => ({
  kind: 'epoch',
  epoch,
  step,
  lr: 0.025,
  teacher: { train: { loss: 2, acc: 0.3 }, val: { loss: 2.1, acc: 0.25 + 0.1 * epoch } },
  student: { train: { loss: 2.2, acc: 0.2 }, val: { loss: 2.3, acc: 0.15 + 0.1 * epoch } },
  agreement: 0.5,
  pseudoAcc: 0.4,
  alphaEntropy: { normal: 2.07, reduce: 2.07 },
  skipConnects: 1,
  seconds: 6,
  time,
});

const lines = (rs: readonly unknown[]) => rs.map((r) => `${JSON.stringify(r)}\n`).join('');

/** A finished search run with two epochs, a result and a report. */
export function writeRun(dir: string, o: { status?: RunSummary['status']; steps?: number; report?: boolean } = {}): void {
  mkdirSync(join(dir, 'genotypes'), { recursive: true });
  const running = o.status === 'running';
  const now = new Date().toISOString();
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify(summary({ status: o.status ?? 'completed', ...(running && { updatedAt: now, wallSeconds: 6 }) })),
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG));
  const steps = o.steps ?? 4;
  const recs: MetricsRecord[] = [{ kind: 'event', step: 0, event: 'start', time: 0 }];
  for (let s = 1; s <= steps; s++) {
    recs.push(stepRecord(s, 3 * s));
    if (s % 2 === 0) recs.push(epochRecord(s / 2 - 1, s, 3 * s + 0.5));
  }
  writeFileSync(join(dir, 'metrics.jsonl'), lines(recs));
  writeFileSync(join(dir, 'genotypes', 'epoch-000.json'), JSON.stringify(snapshot(2, 0, 0.01)));
  if ((o.status ?? 'completed') === 'completed') {
    writeFileSync(join(dir, 'genotypes', 'epoch-001.json'), JSON.stringify(snapshot(4, 1, 0.02)));
    writeFileSync(join(dir, 'result.json'), JSON.stringify({ testError: 9.5, paramsM: 0.12, testExamples: 2000, epochs: 4 }));
  }
  if (o.report !== false) writeFileSync(join(dir, 'report.html'), '<!DOCTYPE html><title>r</title><p>the report</p>');
}

export function append(dir: string, file: string, records: readonly unknown[]): void {
  appendFileSync(join(dir, file), lines(records));
}

/**
 * root/runs: a finished run `done`, a running run `live`, an experiment `exp` (seeds 0 and 1, seed 0
 * with a retrain), and traps: `link-out` (a symlink to a run outside), `done/leak.html` (a symlink to
 * the secret), `done2` whose report.html is that symlink. root/outside holds the secret.
 */
export function servedTree(): { root: string; runs: string; outside: string } {
  const root = mkdtempSync(join(tmpdir(), 'lbt-serve-'));
  const runs = join(root, 'runs');
  const outside = join(root, 'outside');
  writeRun(join(outside, 'stolen'));
  writeFileSync(join(outside, 'stolen', 'report.html'), SECRET);
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  writeRun(join(runs, 'done'));
  writeRun(join(runs, 'live'), { status: 'running', steps: 2, report: false });
  const exp = join(runs, 'exp');
  mkdirSync(exp, { recursive: true });
  writeFileSync(
    join(exp, 'experiment.json'),
    JSON.stringify({ format: 'lbt-experiment/1', preset: 'default', sets: [], retrain: true }),
  );
  writeRun(join(exp, 'seed-0'));
  writeRun(join(exp, 'seed-0', 'retrain'));
  writeFileSync(join(exp, 'seed-0', 'result.json'), JSON.stringify({ testError: 9, paramsM: 0.1, testExamples: 10, epochs: 1 }));
  writeRun(join(exp, 'seed-1'));
  writeFileSync(join(exp, 'seed-1', 'result.json'), JSON.stringify({ testError: 11, paramsM: 0.1, testExamples: 10, epochs: 1 }));
  symlinkSync(join(outside, 'stolen'), join(runs, 'link-out'));
  writeRun(join(runs, 'done2'), { report: false });
  symlinkSync(join(outside, 'secret.txt'), join(runs, 'done2', 'report.html'));
  return { root, runs, outside };
}
