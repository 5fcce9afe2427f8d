// What a search writes to be watched: arch.jsonl (the architecture at the start, every logged step
// and epoch end), the teaching signal in step records, and a TensorBoard event file whose every
// record has valid CRCs and whose values equal metrics.jsonl and arch.jsonl, also after SIGKILL
// and --resume (the resumed run's files hold each step once).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readJsonl } from '../../src/runs/run-dir.js';
import type { ArchSnapshot, MetricsRecord, StepRecord } from '../../src/runs/types.js';
import { type DecodedEvent, readEventFile } from '../runs/tfrecord-reader.js';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const env = { ...process.env, LBT_NUM_THREADS: '1' };
const tiny = ['--scale', 'smoke', '--set', 'epochs=2', '--set', 'stepsPerEpoch=null', '--set', 'batchSize=8'];
tiny.push('--set', 'checkpointEvery=2', '--set', 'logEvery=1', '--set', 'dataset.trainSize=32', '--set', 'retrain=null');
tiny.push('--quiet', '--no-report');

async function killAfterStep(dir: string, step: number): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'search', ...tiny, '--out', dir], { env, stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      const m = existsSync(join(dir, 'metrics.jsonl')) ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8') : '';
      if (m.includes(`"step":${step},`)) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(poll);
      reject(new Error('the search ended before it was killed'));
    });
  });
  await new Promise((r) => child.once('exit', r));
}

const values = (e: DecodedEvent) => new Map(e.values.map((v) => [v.tag, v.simpleValue]));

test('arch.jsonl, the teaching signal and the event file of a search killed and resumed', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'lbt-watch-')), 'run');
  await killAfterStep(dir, 3);
  const r = spawnSync(process.execPath, [CLI, 'search', '--resume', dir, '--quiet', '--no-report'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);

  const metrics = readJsonl<MetricsRecord>(join(dir, 'metrics.jsonl'));
  const arch = readJsonl<ArchSnapshot>(join(dir, 'arch.jsonl'));
  assert.deepEqual(
    arch.map((s) => s.step),
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
    'the start, every logged step once (the killed session’s step 3 replaced)',
  );
  assert.ok(arch.every((s) => s.weights.normal.length === 14 && s.weights.normal.every((row) => row.length === 8)));
  assert.ok(
    Math.abs((arch[0]?.weights.normal[0]?.[3] as number) - 1 / 8) < 1e-3,
    'the architecture starts uniform (α = 1e-3·N(0,1))',
  );
  const steps = metrics.filter((m): m is StepRecord => m.kind === 'step');
  assert.deepEqual(
    steps.map((s) => s.step),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  for (const s of steps) {
    const ts = s.teaching;
    assert.ok(ts && [ts.aV, ts.gV, ts.uA, ts.uT].every((x) => Number.isFinite(x) && (x as number) > 0), `teaching at ${s.step}`);
    assert.equal(ts.uARatio, (ts.uA as number) / (ts.aV as number));
  }
  assert.deepEqual(metrics[0], { ...metrics[0], event: 'start', plan: { totalSteps: 8, totalEpochs: 2 } });

  const files = readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.'));
  assert.equal(files.length, 1, 'the resume rewrote the event file');
  const events = await readEventFile(readFileSync(join(dir, files[0] as string))); // throws on any bad CRC
  assert.equal(events[0]?.fileVersion, 'brain.Event:2');
  assert.deepEqual(
    events.filter((e) => e.sessionStatus === 1).map((e) => e.step),
    [3],
    'one session start, after the checkpoint',
  );
  const scalarEvents = events.filter((e) => e.values.some((v) => v.tag === 'train/teacher_loss'));
  assert.deepEqual(
    scalarEvents.map((e) => e.step),
    steps.map((s) => s.step),
  );
  scalarEvents.forEach((e, i) => {
    const s = steps[i] as StepRecord;
    const v = values(e);
    assert.equal(v.get('train/teacher_loss'), Math.fround(s.teacher.train?.loss as number));
    assert.equal(v.get('train/student_acc'), Math.fround(s.student?.train?.acc as number));
    assert.equal(v.get('teaching/uARatio'), Math.fround(s.teaching?.uARatio as number));
    assert.equal(v.get('teaching/gV'), Math.fround(s.teaching?.gV as number));
  });
  const epochs = metrics.filter((m) => m.kind === 'epoch');
  const epochEvents = events.filter((e) => e.values.some((v) => v.tag === 'epoch/teacher_val_loss'));
  assert.equal(epochEvents.length, epochs.length);
  epochEvents.forEach((e, i) => {
    const m = epochs[i];
    assert.ok(m?.kind === 'epoch');
    assert.equal(values(e).get('epoch/teacher_val_acc'), Math.fround(m.teacher.val?.acc as number));
    assert.equal(values(e).get('epoch/agreement'), Math.fround(m.agreement as number));
    assert.equal(values(e).get('epoch/alpha_entropy_normal'), Math.fround(m.alphaEntropy?.normal as number));
  });
  const archEvents = events.filter((e) => e.values.some((v) => v.tag.startsWith('alpha-normal-')));
  assert.deepEqual(
    archEvents.map((e) => e.step),
    arch.map((s) => s.step),
  );
  archEvents.forEach((e, i) => {
    const w = arch[i]?.weights;
    assert.equal(values(e).get('alpha-normal-n0<-k-2/sep_conv_3x3'), Math.fround(w?.normal[0]?.[4] as number));
    assert.equal(values(e).get('alpha-reduce-n3<-n2/none'), Math.fround(w?.reduce[13]?.[0] as number));
    assert.equal(e.values.length, 2 * 14 * 8);
  });
});
