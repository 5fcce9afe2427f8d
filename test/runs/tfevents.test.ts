// TensorBoard event files, read back with an independent reader (tfrecord-reader.ts): the framing
// and both CRCs of every record, hand-checked bytes of one event, and the values equal to the
// records they came from (float32, as TensorBoard stores them).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { recordScalars, snapshotScalars, TfRunLog } from '../../src/runs/tf-summaries.js';
import { encodeEvent, EventWriter, frameRecord, histogramOf, maskedCrc32c, SESSION_START } from '../../src/runs/tfevents.js';
import type { ArchSnapshot, EpochRecord, MetricsRecord, StepRecord } from '../../src/runs/types.js';
import { crc32c, decodeEvent, masked, readEventFile, readRecords } from './tfrecord-reader.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'lbt-tfevents-'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('the reader and the writer agree on CRC32C and its mask; the CRC32C check value is 0xE3069283', async () => {
  const nine = new TextEncoder().encode('123456789');
  assert.equal(await crc32c(nine), 0xe3069283);
  for (const bytes of [nine, new Uint8Array(0), new Uint8Array(1000).map((_, i) => (i * 37) & 255)])
    assert.equal(maskedCrc32c(bytes), await masked(bytes));
});

test('one event, byte for byte: wall_time 1.5, step 0, file_version "brain.Event:2"', async () => {
  // field 1 (double, wire type 1): tag 0x09, 1.5 as little-endian IEEE 754 = 00 00 00 00 00 00 f8 3f;
  // step 0 is the proto3 default and not written; field 3 (string, wire type 2): tag 0x1a, length 13
  const data = encodeEvent({ wallTime: 1.5, step: 0, fileVersion: 'brain.Event:2' });
  assert.equal(hex(data), `09000000000000f83f1a0d${Buffer.from('brain.Event:2').toString('hex')}`);
  const rec = frameRecord(data);
  assert.equal(hex(rec.subarray(0, 8)), '1800000000000000', 'length 24, uint64 little-endian');
  assert.equal(rec.length, 8 + 4 + 24 + 4);
  const [back] = await readRecords(rec);
  assert.deepEqual(decodeEvent(back as Uint8Array), { wallTime: 1.5, step: 0, fileVersion: 'brain.Event:2', values: [] });
  // a flipped bit anywhere is caught
  for (const at of [3, 10, 20, 38]) {
    const bad = rec.slice();
    bad[at] = (bad[at] as number) ^ 4;
    await assert.rejects(readRecords(bad), /CRC|truncated/);
  }
});

test('scalars, a histogram and a session start; a step above 2^31 survives int64', async () => {
  const dir = tmp();
  const w = new EventWriter(dir, { wallTime: 1700000000.25, host: 'box' });
  w.sessionStart(7, 1700000000.5);
  w.scalars(3_000_000_000, 1700000001, { 'a/x': 0.1, 'a/nan': Number.NaN, 'a/y': -2 });
  w.histograms(5, 1700000002, { h: [0.125, 0.125, 0.5, 0.25] });
  w.close();
  assert.deepEqual(readdirSync(dir), ['events.out.tfevents.1700000000.box']);
  const ev = await readEventFile(readFileSync(w.path));
  assert.equal(ev.length, 4);
  assert.deepEqual(ev[0], { wallTime: 1700000000.25, step: 0, fileVersion: 'brain.Event:2', values: [] });
  assert.equal(ev[1]?.sessionStatus, SESSION_START);
  assert.equal(ev[1]?.step, 7);
  assert.equal(ev[2]?.step, 3_000_000_000);
  assert.deepEqual(
    ev[2]?.values.map((v) => [v.tag, v.simpleValue]),
    [
      ['a/x', Math.fround(0.1)],
      ['a/y', -2],
    ],
    'NaN is left out',
  );
  const h = ev[3]?.values[0]?.histo;
  assert.deepEqual(
    { ...h, bucket: undefined, bucketLimit: undefined },
    {
      min: 0.125,
      max: 0.5,
      num: 4,
      sum: 1,
      sumSquares: 0.125 ** 2 * 2 + 0.25 + 0.0625,
      bucket: undefined,
      bucketLimit: undefined,
    },
  );
  assert.equal(
    h?.bucket.reduce((a, b) => a + b, 0),
    4,
  );
  assert.equal(h?.bucketLimit.at(-1), 0.5);
  // a second writer in the same second gets its own file
  const w2 = new EventWriter(dir, { wallTime: 1700000000.9, host: 'box' });
  w2.close();
  assert.deepEqual(readdirSync(dir).sort(), ['events.out.tfevents.1700000000.box', 'events.out.tfevents.1700000000.box.1']);
});

test('histogramOf: equal buckets between min and max, every value counted once', () => {
  const h = histogramOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5);
  assert.deepEqual(h.bucketLimit, [2, 4, 6, 8, 10]);
  assert.deepEqual(h.bucket, [2, 2, 2, 2, 3]);
  const one = histogramOf([0.125, 0.125], 5);
  assert.deepEqual([one.bucketLimit, one.bucket], [[0.125], [2]]);
});

const stepRec = (s: number): StepRecord => ({
  kind: 'step',
  epoch: 0,
  step: s,
  lr: 0.025,
  teacher: { train: { loss: 2.31 / s, acc: 0.1 * s } },
  student: { train: { loss: 2.2 / s, acc: 0.05 * s } },
  time: 1.5 * s,
});
const epochRec: EpochRecord = {
  kind: 'epoch',
  epoch: 0,
  step: 4,
  lr: 0.0245,
  teacher: { train: { loss: 1.9, acc: 0.31 }, val: { loss: 2.01, acc: 0.28 } },
  student: { train: { loss: 2.05, acc: 0.22 }, val: { loss: 2.11, acc: 0.2 } },
  agreement: 0.4375,
  pseudoAcc: 0.3,
  alphaEntropy: { normal: 2.0793, reduce: 2.0791 },
  skipConnects: 2,
  seconds: 6.2,
  dataSeconds: 0.3,
  time: 6.4,
};
const snapshot: ArchSnapshot = {
  epoch: 0,
  step: 4,
  genotype: {
    ...({ format: 'lbt-genotype', version: 1 } as const),
    ...{ normal: [['sep_conv_3x3', 1]], reduce: [['max_pool_3x3', 0]], normalConcat: [2], reduceConcat: [2] },
  },
  ops: ['none', 'skip_connect', 'sep_conv_3x3'],
  weights: {
    normal: [
      [0.3, 0.3, 0.4],
      [0.2, 0.5, 0.3],
    ],
    reduce: [
      [0.1, 0.6, 0.3],
      [0.25, 0.25, 0.5],
    ],
  },
  betas: { normal: [0.45, 0.55], reduce: [0.5, 0.5] },
};

/** Where each tag's value lives in its record, written out independently of recordScalars. */
const stepTags = (r: StepRecord) => ({
  'train/teacher_loss': r.teacher.train?.loss,
  'train/teacher_acc': r.teacher.train?.acc,
  'train/student_loss': r.student?.train?.loss,
  'train/student_acc': r.student?.train?.acc,
  'train/lr': r.lr,
});

test('a run log: every metric of the records and every weight of a snapshot, as float32 at its step', async () => {
  const dir = tmp();
  const log = new TfRunLog(dir, 1700000000, { host: 'h' });
  const records: MetricsRecord[] = [{ kind: 'event', step: 0, event: 'start', time: 0 }, stepRec(2), stepRec(4), epochRec];
  for (const r of records) log.record(r);
  log.snapshot(snapshot, 6.5);
  log.close();
  const ev = await readEventFile(readFileSync(log.path));
  assert.equal(ev[0]?.fileVersion, 'brain.Event:2');
  const [s2, s4, ep, arch, histo] = ev.slice(1);
  assert.equal(ev.length, 6, 'the start event has no scalars');
  for (const [e, r] of [
    [s2, stepRec(2)],
    [s4, stepRec(4)],
  ] as const) {
    assert.equal(e?.step, r.step);
    assert.equal(e?.wallTime, 1700000000 + r.time);
    assert.deepEqual(
      Object.fromEntries(e?.values.map((v) => [v.tag, v.simpleValue]) ?? []),
      Object.fromEntries(Object.entries(stepTags(r)).map(([k, v]) => [k, Math.fround(v as number)])),
    );
  }
  const got = Object.fromEntries(ep?.values.map((v) => [v.tag, v.simpleValue]) ?? []);
  assert.equal(got['epoch/teacher_val_acc'], Math.fround(0.28));
  assert.equal(got['epoch/student_val_loss'], Math.fround(2.11));
  assert.equal(got['epoch/agreement'], Math.fround(0.4375));
  assert.equal(got['epoch/pseudo_label_acc'], Math.fround(0.3));
  assert.equal(got['epoch/alpha_entropy_reduce'], Math.fround(2.0791));
  assert.equal(got['epoch/skip_connects'], 2);
  assert.equal(Object.keys(got).length, Object.keys(recordScalars(epochRec)).length);
  assert.equal(Object.keys(got).length, 16, '8 model values, agreement, pseudo, 2 entropies, skips, 2 times, lr');
  assert.equal(arch?.step, 4);
  assert.equal(arch?.wallTime, 1700000006.5);
  const w = Object.fromEntries(arch?.values.map((v) => [v.tag, v.simpleValue]) ?? []);
  assert.equal(w['alpha-normal-n0<-k-1/skip_connect'], Math.fround(0.5));
  assert.equal(w['alpha-reduce-n0<-k-2/skip_connect'], Math.fround(0.6));
  assert.equal(w['beta-normal/n0<-k-1'], Math.fround(0.55));
  assert.equal(Object.keys(w).length, 12 + 4);
  assert.deepEqual(Object.keys(snapshotScalars(snapshot)).sort(), Object.keys(w).sort());
  assert.deepEqual(
    histo?.values.map((v) => [v.tag, v.histo?.num]),
    [
      ['alpha/normal', 6],
      ['alpha/reduce', 6],
    ],
  );
});

test('a torn last record (a killed writer) is reported, the records before it are whole', async () => {
  const dir = tmp();
  const w = new EventWriter(dir, { wallTime: 1, host: 'h' });
  w.scalars(1, 2, { x: 1 });
  w.close();
  const buf = readFileSync(w.path);
  writeFileSync(w.path, buf.subarray(0, buf.length - 3));
  await assert.rejects(readRecords(readFileSync(w.path)), /truncated/);
});
