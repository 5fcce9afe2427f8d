// Checkpoints: bit-exact round trip of tensors, optimizer states, RNG and metadata; corrupt and
// truncated files refused naming the file; atomic replacement with the previous one kept.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as t from '../../src/torch/index.js';
import {
  CheckpointError,
  captureRng,
  loadCheckpoint,
  namespaced,
  previousPath,
  restoreRng,
  saveCheckpoint,
  ungroup,
} from '../../src/runs/checkpoint.js';

const dir = () => mkdtempSync(join(tmpdir(), 'lbt-ckpt-'));
const meta = (step: number) => ({
  kind: 'search' as const,
  config: { method: 'darts', epochs: 50 },
  epoch: 3,
  stepInEpoch: 7,
  step,
  stage: 1,
  ...captureRng(),
  dataIterators: { train: { epoch: 3, cursor: 448, seed: 2 } },
  extra: { opsOn: [[0, 3, 4]] },
});

function bits(x: t.Tensor): number[] {
  const d = x.data();
  return [...new Uint8Array(d.buffer, d.byteOffset, d.byteLength)];
}

test('round trip: tensors, optimizer states and metadata come back bit-exact', () => {
  const p = join(dir(), 'checkpoint.safetensors');
  const before = t.liveTensors();
  t.scope(() => {
    t.manualSeed(7);
    const w = t.randn([3, 4]);
    const alpha = t.tensor(new Float64Array([1e-3, -2.5e-300, Number.MIN_VALUE, 0.1]), [2, 2], { dtype: 'float64' });
    const idx = t.tensor(new BigInt64Array([1n, -(2n ** 62n)]), [2], { dtype: 'int64' });
    const mom = t.randn([3, 4]);
    const tensors = new Map([...namespaced('teacher', new Map([['w', w]])), ['arch/alpha', alpha], ['data/idx', idx]]);
    const sgd = { kind: 'sgd' as const, step: 12, lr: 0.0249763207, tensors: new Map([['momentum.0', mom]]) };
    const adam = { kind: 'adam' as const, step: 12, lr: 3e-4, tensors: new Map([['m.0', alpha]]), counts: [12] };
    const m = meta(99);
    saveCheckpoint(p, { tensors, optimizers: { weights: sgd, arch: adam }, meta: m });
    const back = loadCheckpoint(p);
    assert.deepEqual([...back.tensors.keys()].sort(), ['arch/alpha', 'data/idx', 'teacher/w']);
    assert.deepEqual(bits(back.tensors.get('teacher/w')!), bits(w));
    assert.deepEqual(bits(back.tensors.get('arch/alpha')!), bits(alpha));
    assert.equal(back.tensors.get('arch/alpha')!.dtype, 'float64');
    assert.deepEqual(back.tensors.get('data/idx')!.toArray(), [1, -(2 ** 62)]);
    assert.deepEqual([...ungroup('teacher', back.tensors).keys()], ['w']);
    assert.equal(back.optimizers.weights!.kind, 'sgd');
    assert.equal(back.optimizers.weights!.lr, 0.0249763207);
    assert.equal(back.optimizers.weights!.step, 12);
    assert.deepEqual(bits(back.optimizers.weights!.tensors.get('momentum.0')!), bits(mom));
    assert.deepEqual(back.optimizers.arch!.counts, [12]);
    assert.deepEqual(back.meta, m);
    t.disposeAll([back.tensors, back.optimizers.weights!.tensors, back.optimizers.arch!.tensors]);
  });
  assert.equal(t.liveTensors(), before, 'no tensor leaked');
});

test('the RNG state round-trips: the same random numbers after restore', () => {
  t.manualSeed(3);
  const state = captureRng();
  const a = t.scope(() => t.randn([5]).toArray());
  restoreRng(state);
  const b = t.scope(() => t.randn([5]).toArray());
  assert.deepEqual(a, b);
});

function saveSimple(p: string, step: number, value: number): void {
  t.scope(() => saveCheckpoint(p, { tensors: new Map([['w', t.full([4], value)]]), optimizers: {}, meta: meta(step) }));
}

test('a truncated checkpoint is refused with an error naming the file', () => {
  const p = join(dir(), 'checkpoint.safetensors');
  saveSimple(p, 1, 1.5);
  const full = readFileSync(p);
  for (const len of [4, 100, full.length - 3]) {
    writeFileSync(p, full.subarray(0, len));
    assert.throws(
      () => loadCheckpoint(p),
      (e: unknown) =>
        e instanceof CheckpointError && e.path === p && e.message.startsWith(`checkpoint ${p}: corrupt or truncated`),
      `length ${len}`,
    );
  }
});

test('a corrupted header or corrupted tensor bytes are refused', () => {
  const p = join(dir(), 'checkpoint.safetensors');
  saveSimple(p, 1, 1.5);
  const good = readFileSync(p);
  const badHeader = Buffer.from(good);
  badHeader[10] = 0x7b; // '{' inside the JSON header
  writeFileSync(p, badHeader);
  assert.throws(() => loadCheckpoint(p), new RegExp(`^CheckpointError: checkpoint ${p}: corrupt or truncated`));
  const badData = Buffer.from(good);
  badData[badData.length - 1]! ^= 0x01; // one bit of the last float
  writeFileSync(p, badData);
  assert.throws(() => loadCheckpoint(p), /does not match its SHA-256/);
  assert.throws(
    () => loadCheckpoint(join(dir(), 'none.safetensors')),
    /none\.safetensors: cannot read: no such file or directory \(ENOENT\)/,
  );
  // a safetensors file that is not ours
  writeFileSync(
    p,
    t.scope(() => t.encodeSafetensors(new Map([['w', t.ones([2])]]))),
  );
  assert.throws(() => loadCheckpoint(p), /no lbt metadata/);
});

test('atomic: a failed write leaves the previous checkpoint intact and no temporary file', () => {
  const d = dir();
  const p = join(d, 'checkpoint.safetensors');
  saveSimple(p, 1, 1);
  const first = readFileSync(p);
  // failure after the new file is complete, before the rename
  assert.throws(
    () =>
      t.scope(() =>
        saveCheckpoint(
          p,
          { tensors: new Map([['w', t.full([4], 2)]]), optimizers: {}, meta: meta(2) },
          {
            beforeRename: () => {
              throw new Error('disk on fire');
            },
          },
        ),
      ),
    /disk on fire/,
  );
  // failure while encoding (a disposed tensor)
  const dead = t.ones([2]);
  dead.dispose();
  assert.throws(() => saveCheckpoint(p, { tensors: new Map([['w', dead]]), optimizers: {}, meta: meta(3) }));
  assert.deepEqual(readFileSync(p), first);
  assert.deepEqual(readdirSync(d), ['checkpoint.safetensors']);
  const back = loadCheckpoint(p);
  assert.equal(back.meta.step, 1);
  t.disposeAll(back.tensors);
});

test('a new checkpoint replaces the old one, which is kept as checkpoint.prev', () => {
  const d = dir();
  const p = join(d, 'checkpoint.safetensors');
  assert.equal(previousPath(p), join(d, 'checkpoint.prev.safetensors'));
  saveSimple(p, 1, 1);
  saveSimple(p, 2, 2);
  saveSimple(p, 3, 3);
  assert.deepEqual(readdirSync(d).sort(), ['checkpoint.prev.safetensors', 'checkpoint.safetensors']);
  const cur = loadCheckpoint(p);
  const prev = loadCheckpoint(previousPath(p));
  assert.equal(cur.meta.step, 3);
  assert.deepEqual(cur.tensors.get('w')!.toArray(), [3, 3, 3, 3]);
  assert.equal(prev.meta.step, 2);
  t.disposeAll([cur.tensors, prev.tensors]);
  // a corrupt current one points at the kept previous one
  writeFileSync(p, readFileSync(p).subarray(0, 200));
  assert.throws(() => loadCheckpoint(p), /corrupt or truncated/);
  const bad = Buffer.from(readFileSync(previousPath(p)));
  bad[bad.length - 1]! ^= 1;
  writeFileSync(p, bad);
  assert.throws(() => loadCheckpoint(p), /the previous checkpoint is .*checkpoint\.prev\.safetensors/);
});

test('the optim/ prefix is reserved', () => {
  const p = join(dir(), 'c.safetensors');
  assert.throws(
    () => t.scope(() => saveCheckpoint(p, { tensors: new Map([['optim/x', t.ones([1])]]), optimizers: {}, meta: meta(1) })),
    /reserved prefix/,
  );
});

test('the checksum covers the metadata: an edited header that still parses is refused', () => {
  const p = join(dir(), 'checkpoint.safetensors');
  saveSimple(p, 40, 1.5);
  const good = readFileSync(p);
  const at = good.indexOf('\\"step\\":40');
  assert.ok(at > 0, 'the step is in the header');
  const edited = Buffer.from(good);
  edited[at + 10] = '8'.charCodeAt(0); // "step":40 → "step":48, same length, valid JSON
  writeFileSync(p, edited);
  assert.throws(
    () => loadCheckpoint(p),
    new RegExp(`^CheckpointError: checkpoint ${p}: does not match its SHA-256 \\(corrupt or edited\\)`),
  );
});

test('a tensor holding NaN or Inf (a BatchNorm buffer, a momentum) is not saved: the last good checkpoint stays', () => {
  const p = join(dir(), 'checkpoint.safetensors');
  saveSimple(p, 1, 1.5);
  const good = readFileSync(p);
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () =>
        t.scope(() => {
          const tensors = new Map([
            ['teacher/w', t.full([4], 1)],
            ['teacher/bn.runningVar', t.tensor([1, bad, 1], [3])],
          ]);
          const mom = { kind: 'sgd' as const, step: 1, lr: 0.1, tensors: new Map([['momentum.0', t.full([4], bad)]]) };
          saveCheckpoint(p, { tensors, optimizers: { weights: mom }, meta: meta(2) });
        }),
      (e: unknown) =>
        e instanceof t.NonFiniteError &&
        e.message === 'non-finite value: NaN or Inf in optim/weights/momentum.0, teacher/bn.runningVar (checkpoint not saved)',
    );
    assert.deepEqual(readFileSync(p), good, 'the last good checkpoint is untouched');
  }
  assert.deepEqual(
    readdirSync(join(p, '..')).filter((f) => f.includes('.tmp-')),
    [],
  );
});
