// Run directories: never overwritten without force, the files written where run-types.ts says,
// metrics appended one line per record, resume dropping what came after the checkpoint.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunDirError } from '../../src/runs/errors.js';
import { readRunFile, writeFileAtomic } from '../../src/runs/files.js';
import { RunDir, readMetrics, readRun, snapshotName } from '../../src/runs/run-dir.js';
import type { ArchSnapshot, EpochRecord, StepRecord } from '../../src/runs/types.js';

const base = () => mkdtempSync(join(tmpdir(), 'lbt-run-'));
const step = (s: number, epoch = 0): StepRecord => ({
  kind: 'step',
  epoch,
  step: s,
  lr: 0.025,
  teacher: { train: { loss: 2 / s, acc: 0.1 * s } },
  time: s,
});
const epochRec = (epoch: number, s: number): EpochRecord => ({
  kind: 'epoch',
  epoch,
  step: s,
  lr: 0.02,
  teacher: { train: { loss: 1, acc: 0.5 }, val: { loss: 1.1, acc: 0.45 } },
  seconds: 3,
  time: s,
});
const snap = (epoch: number, s: number): ArchSnapshot => ({
  epoch,
  step: s,
  genotype: {
    format: 'lbt-genotype' as const,
    version: 1 as const,
    normalConcat: [2],
    reduceConcat: [2],
    normal: [
      ['skip_connect', 0],
      ['sep_conv_3x3', 1],
    ],
    reduce: [
      ['max_pool_3x3', 1],
      ['max_pool_3x3', 0],
    ],
  },
  ops: ['none', 'skip_connect'],
  weights: { normal: [[0.25, 0.75]], reduce: [[0.5, 0.5]] },
});

test('refuses to overwrite a non-empty directory without force', () => {
  const d = join(base(), 'run');
  RunDir.create(d, { kind: 'search', config: { a: 1 } }).finish('completed');
  assert.throws(
    () => RunDir.create(d, { kind: 'search', config: { a: 2 } }),
    (e: unknown) => e instanceof RunDirError && e.message === `${d}: exists and is not empty (pass --force to replace it)`,
  );
  assert.deepEqual(JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')), { a: 1 }, 'left as it was');
  RunDir.create(d, { kind: 'search', config: { a: 3 }, force: true }).close();
  assert.deepEqual(JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')), { a: 3 });
  // force never deletes a directory that is not a run
  const other = join(base(), 'home');
  mkdirSync(other);
  writeFileSync(join(other, 'thesis.tex'), 'x');
  assert.throws(() => RunDir.create(other, { kind: 'search', config: {}, force: true }), /not a run directory/);
  assert.ok(existsSync(join(other, 'thesis.tex')));
  // an existing empty directory is fine
  const empty = join(base(), 'empty');
  mkdirSync(empty);
  RunDir.create(empty, { kind: 'train', config: {} }).close();
});

test('writes config, splits, metrics (one JSON object per line), snapshots, genotype, result, run.json', () => {
  const d = join(base(), 'run');
  const run = RunDir.create(d, { kind: 'search', config: { method: 'darts' }, label: 'X', device: 'cpu' });
  run.writeSplits({
    format: 'lbt-splits/1',
    dataset: 'cifar10',
    seed: 2,
    unlabeledFrom: 'cifar100',
    testFrom: 'test',
    train: [3, 1],
    valid: [0, 2],
    unlabeled: [5],
    test: null,
  });
  run.log(step(1));
  run.log(step(2));
  run.log(epochRec(0, 2));
  run.writeSnapshot(snap(0, 2));
  run.writeSnapshot({ ...snap(1, 4), stage: 2 });
  run.addPhaseSeconds('search', 7200);
  run.writeGenotype({
    format: 'lbt-genotype' as const,
    version: 1 as const,
    normalConcat: [2],
    reduceConcat: [2],
    normal: [
      ['sep_conv_3x3', 0],
      ['skip_connect', 1],
    ],
    reduce: [
      ['max_pool_3x3', 1],
      ['max_pool_3x3', 0],
    ],
  });
  run.writeResult({ testError: 2.5, paramsM: 3.3, testExamples: 10000, epochs: 600 });
  const lines = readFileSync(join(d, 'metrics.jsonl'), 'utf8').split('\n');
  assert.equal(lines.length, 4, 'three records and the final newline');
  assert.deepEqual(JSON.parse(lines[1]!), step(2));
  run.finish('completed');
  assert.deepEqual(readdirSync(join(d, 'genotypes')).sort(), ['epoch-000.json', 'stage-2-epoch-001.json']);
  assert.equal(snapshotName(7), 'epoch-007.json');
  const r = readRun(d);
  assert.equal(r.summary.status, 'completed');
  assert.equal(r.summary.format, 1);
  assert.equal(r.summary.label, 'X');
  assert.equal(r.summary.phaseSeconds.search, 7200);
  assert.equal(r.summary.sessions, 1);
  assert.ok(r.summary.wallSeconds >= 0 && r.summary.wallSeconds < 60);
  assert.deepEqual(r.metrics, [step(1), step(2), epochRec(0, 2)]);
  assert.deepEqual(
    r.snapshots.map((s) => [s.stage, s.epoch]),
    [
      [undefined, 0],
      [2, 1],
    ],
  );
  assert.deepEqual(r.config, { method: 'darts' });
  assert.equal(r.result?.testError, 2.5);
  assert.deepEqual(JSON.parse(readFileSync(join(d, 'splits.json'), 'utf8')).valid, [0, 2]);
  assert.ok(!readdirSync(d).some((f) => f.includes('.tmp-')), 'no temporary files');
});

test('a torn last line (killed writer) is skipped; a bad line in the middle is an error naming file:line', () => {
  const d = base();
  const p = join(d, 'metrics.jsonl');
  writeFileSync(p, `${JSON.stringify(step(1))}\n${JSON.stringify(step(2))}\n{"kind":"st`);
  assert.deepEqual(readMetrics(p), [step(1), step(2)]);
  writeFileSync(p, `${JSON.stringify(step(1))}\nnot json\n${JSON.stringify(step(2))}\n`);
  assert.throws(() => readMetrics(p), new RegExp(`^RunDirError: ${p}:2: not a JSON record$`));
});

test('resume drops the records and snapshots written after the checkpoint step and counts the session', () => {
  const d = join(base(), 'run');
  const run = RunDir.create(d, { kind: 'search', config: {} });
  for (let s = 1; s <= 6; s++) run.log(step(s));
  run.log(epochRec(0, 6));
  run.writeSnapshot(snap(0, 6));
  for (let s = 7; s <= 9; s++) run.log(step(s, 1));
  run.writeSnapshot(snap(1, 12)); // from a later epoch the killed session had reached
  run.close(); // killed: no finish()
  const again = RunDir.resume(d, { step: 6 });
  again.log(step(7, 1));
  again.finish('completed');
  const r = readRun(d);
  assert.deepEqual(
    r.metrics.map((m) => m.step),
    [1, 2, 3, 4, 5, 6, 6, 7],
  );
  assert.deepEqual(
    r.snapshots.map((s) => s.epoch),
    [0],
  );
  assert.equal(r.summary.sessions, 2);
  assert.equal(r.summary.status, 'completed');
  assert.throws(() => RunDir.resume(join(base(), 'nothing'), { step: 0 }), /nothing: not a run directory \(no run\.json\)/);
});

test('readRun refuses a directory without run.json', () => {
  const d = base();
  assert.throws(() => readRun(d), new RegExp(`${d}: not a run directory`));
});

test('a run that never got its first checkpoint is replaced without --force; a completed one is not; --force keeps out a live writer', () => {
  const d = join(base(), 'run');
  RunDir.create(d, { kind: 'search', config: { a: 1 } }).close(); // killed before its first checkpoint
  writeFileSync(join(d, '.checkpoint.safetensors.tmp-123-0'), 'half');
  const again = RunDir.create(d, { kind: 'search', config: { a: 2 } });
  const files = readdirSync(d).sort();
  assert.deepEqual(
    files.filter((f) => !f.startsWith('events.out.tfevents.')),
    ['config.json', 'genotypes', 'run.json', 'run.lock'],
  );
  assert.equal(files.filter((f) => f.startsWith('events.out.tfevents.')).length, 1, "the new run's event file only");
  assert.throws(
    () => RunDir.create(d, { kind: 'search', config: { a: 3 }, force: true }),
    /run: is in use by pid \d+ on this host/,
  );
  again.finish('completed');
  assert.equal(existsSync(join(d, 'run.lock')), false, 'finish releases the lock');
  assert.throws(() => RunDir.create(d, { kind: 'search', config: { a: 3 } }), /exists and is not empty \(pass --force/);
});

test('resume keeps exactly the records a checkpoint counted (resume events not counted) and removes temporary files', () => {
  const d = join(base(), 'run');
  const run = RunDir.create(d, { kind: 'search', config: {} });
  run.log(step(1));
  run.log(step(2));
  assert.equal(run.records, 2);
  run.close();
  const again = RunDir.resume(d, { step: 2, records: 2 });
  again.log({ kind: 'event', step: 2, event: 'resume', time: 0 });
  assert.equal(again.records, 2, 'a resume event is not counted');
  again.log(epochRec(0, 2)); // an epoch record at the checkpoint's step, written after it
  again.log({ kind: 'event', step: 2, event: 'done', time: 0 });
  again.close();
  writeFileSync(join(d, '.metrics.jsonl.tmp-77-1'), '');
  writeFileSync(join(d, 'genotypes', '.epoch-000.json.tmp-77-2'), '');
  const third = RunDir.resume(d, { step: 2, records: 3 });
  third.close();
  assert.deepEqual(
    readMetrics(join(d, 'metrics.jsonl')).map((r) => r.kind),
    ['step', 'step', 'event', 'epoch'],
    'two steps, the first resume event, the epoch record; the done event after the checkpoint dropped',
  );
  assert.deepEqual(
    readdirSync(d).filter((f) => f.includes('.tmp-')),
    [],
  );
  assert.deepEqual(readdirSync(join(d, 'genotypes')), []);
  assert.equal(readRun(d).summary.sessions, 3);
});

test('a full disk while appending a record is one error naming the file and what to do', () => {
  const d = join(base(), 'run');
  const run = RunDir.create(d, { kind: 'search', config: {} });
  symlinkSync('/dev/full', join(d, 'metrics.jsonl')); // every write: ENOSPC
  assert.throws(
    () => run.log(step(1)),
    new RegExp(
      `^RunDirError: ${d}/metrics\\.jsonl: cannot write: no space left on the device: free some space, then resume the run \\(ENOSPC\\)$`,
    ),
  );
  run.finish('failed', 'disk full'); // marking the run failed must not throw over the first error
  assert.equal(JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')).status, 'failed');
});

test('writeFileAtomic and readRunFile: OS errors and non-regular files are one line naming the path', () => {
  const d = base();
  assert.throws(
    () => writeFileAtomic(join(d, 'no', 'such', 'dir', 'x.json'), '{}'),
    new RegExp(`^RunDirError: ${d}/no/such/dir/x\\.json: cannot write: no such file or directory \\(ENOENT\\)$`),
  );
  assert.throws(() => readRunFile(d, 'config'), new RegExp(`^RunDirError: ${d}: the config is not a regular file$`));
  const fifo = join(d, 'fifo');
  spawnSync('mkfifo', [fifo]);
  assert.throws(() => readRunFile(fifo, 'run summary'), /fifo: the run summary is not a regular file$/);
  writeFileSync(join(d, 'big'), 'x'.repeat(100));
  assert.throws(() => readRunFile(join(d, 'big'), 'config', 10), /big: the config is 100 bytes, more than the 10 it may be$/);
});
