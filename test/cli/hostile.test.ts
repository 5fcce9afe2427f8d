// Hostile and careless use of `lbt`, one test per case of issue 17 (numbered as there): each asserts
// the exit code, the one line the user sees (`lbt: ...`, no stack trace) and, where a run directory
// is involved, that nothing in it changed. Cases that need a kill -9 are in test/search/kill.test.ts;
// the pieces below the CLI (locks, checkpoints, OS errors) have their own tests in test/runs.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint } from '../../src/runs/checkpoint.js';
import { acquireRunLock } from '../../src/runs/lock.js';
import * as t from '../../src/torch/index.js';
import { randomImages, writeIdxSet } from '../data/helpers.js';
import { assertUnchanged, dirBytes, writeForeignLock } from '../runs/run-files.js';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const env = { ...process.env, LBT_NUM_THREADS: '1' };
const tiny = [
  ...['--scale', 'smoke', '--set', 'epochs=2', '--set', 'stepsPerEpoch=null', '--set', 'batchSize=4'],
  ...['--set', 'dataset.trainSize=8', '--set', 'dataset.valSize=8', '--set', 'dataset.unlabeledSize=8'],
  ...['--set', 'retrain=null', '--quiet', '--no-report'],
];
const base = mkdtempSync(join(tmpdir(), 'lbt-hostile-'));
/** The completed run most cases work on (made by case 1). */
const RUN = join(base, 'run');

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `lbt ARGS` (5 minutes at most, for a loaded machine: a hang is a failure, not a stuck suite). */
function lbt(...args: string[]): Result {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.error, undefined, `lbt ${args.join(' ')} did not end: ${r.error?.message}`);
  return r;
}

/** Asserts the exit code and that stderr is one `lbt: ` line matching `message` (a stopped run adds its resume hint). */
function refused(r: Result, code: number, message: RegExp): void {
  assert.equal(r.status, code, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith('resume with: ')), `one line:\n${r.stderr}`);
  assert.ok(lines[0]!.startsWith('lbt: '), r.stderr);
  assert.match(lines[0]!, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

/** Runs `lbt ARGS` against the run directory `dir` and asserts the refusal and that no file of `dir` changed. */
function refusedUnchanged(dir: string, code: number, message: RegExp, ...args: string[]): void {
  const before = dirBytes(dir);
  refused(lbt(...args), code, message);
  assertUnchanged(dir, before, args.join(' '));
}

/** Runs `lbt ARGS` as a user without privileges (as root: as nobody, through setpriv), for permission errors. */
function lbtUnprivileged(...args: string[]): Result {
  const root = process.getuid?.() === 0;
  const as = root ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
  const r = spawnSync(as[0]!, [...as.slice(1), CLI, ...args], { env, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.error, undefined, `lbt ${args.join(' ')} did not end: ${r.error?.message}`);
  return r;
}

/** A directory every user may read (mkdtemp's are the owner's only). */
function openDir(name: string): string {
  const dir = join(base, name);
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(base, 0o755);
  return dir;
}

test('1. a second writer of a run directory is refused (--force included) while the first finishes intact', async () => {
  const first = spawn(process.execPath, [CLI, 'search', ...tiny, '--out', RUN], { env, stdio: 'ignore' });
  const done = new Promise<number | null>((resolve) => first.on('exit', resolve));
  while (!existsSync(join(RUN, 'checkpoint.safetensors'))) await new Promise((r) => setTimeout(r, 20));
  const busy = /: is in use by pid \d+ on this host since .* \(lbt search .*\): wait for it to finish, or stop it/;
  refused(lbt('search', ...tiny, '--set', 'seed=7', '--force', '--out', RUN), 75, busy);
  refused(lbt('search', '--resume', RUN, '--quiet'), 75, busy);
  assert.equal(await done, 0, 'the first writer finished');
  assert.equal(JSON.parse(readFileSync(join(RUN, 'config.json'), 'utf8')).seed, 2, "the first writer's config");
  const ck = loadCheckpoint(join(RUN, 'checkpoint.safetensors'));
  assert.equal((ck.meta.config as { seed: number }).seed, 2, "the first writer's checkpoint");
  t.disposeAll(ck.tensors);
  assert.equal(existsSync(join(RUN, 'run.lock')), false, 'the lock is released at exit');
});

test('1. a lock held by another host is refused with how to take it; a stale lock of this host is taken over', () => {
  const dir = join(base, 'other-host');
  cpSync(RUN, dir, { recursive: true });
  const lock = writeForeignLock(dir);
  refusedUnchanged(
    dir,
    75,
    /is in use by pid 1 on host not-.*: if that process is gone, continue with --break-lock/,
    'search',
    '--resume',
    dir,
  );
  const dead = spawnSync('true').pid!; // a pid that has exited
  writeFileSync(join(dir, 'run.lock'), JSON.stringify({ ...lock, host: hostname(), pid: dead }));
  const r = lbt('search', '--resume', dir, '--quiet', '--no-report');
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`lbt: note: .*other-host: took over the lock of pid ${dead} on this host .*: pid ${dead} is not running`),
  );
  assert.equal(existsSync(join(dir, 'run.lock')), false);
});

test('1. an experiment directory that another lbt experiment runs is refused, --force included', () => {
  const dir = join(base, 'experiment');
  mkdirSync(dir);
  const lock = acquireRunLock(dir); // this process plays the other experiment
  try {
    for (const force of [[], ['--force']])
      refusedUnchanged(
        dir,
        75,
        /experiment: is in use by pid \d+ on this host/,
        ...['experiment', '--preset', 'default', '--scale', 'smoke', '--seeds', '1', '--no-retrain', '--quiet', '--out', dir],
        ...force,
      );
  } finally {
    lock.release();
  }
});

test('2. a checkpoint whose header was edited is refused, not resumed into another state', () => {
  const dir = join(base, 'edited');
  cpSync(RUN, dir, { recursive: true });
  const p = join(dir, 'checkpoint.safetensors');
  const bytes = readFileSync(p);
  const at = bytes.indexOf('\\"stepInEpoch\\":0');
  assert.ok(at > 0);
  bytes[at + 16] = '1'.charCodeAt(0); // "stepInEpoch":0 → 1: a valid header of another position
  writeFileSync(p, bytes);
  refusedUnchanged(
    dir,
    2,
    /checkpoint .*edited\/checkpoint\.safetensors: does not match its SHA-256 \(corrupt or edited\)/,
    'search',
    '--resume',
    dir,
  );
});

test('3. NaN validation losses or Inf in BatchNorm buffers stop the run; the checkpoint it names is finite', () => {
  for (const lr of ['1e8', '1e10']) {
    const dir = join(base, `nan-${lr}`);
    const r = lbt('search', ...tiny, '--set', 'deterministic=true', '--set', `weights.lr=${lr}`, '--out', dir);
    const named =
      /non-finite value: (teacher validation loss is NaN|NaN or Inf in teacher\/\S+runningVar.*\(checkpoint not saved\)) at stage 0 epoch 0 step \d; stopped, the last good checkpoint is \S+checkpoint\.safetensors \(step \d\)/;
    refused(r, 1, named);
    const ck = loadCheckpoint(join(dir, 'checkpoint.safetensors')); // refuses NaN or Inf
    t.disposeAll(ck.tensors);
    assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status, 'failed');
    refused(lbt('search', '--resume', dir, '--quiet', '--no-report'), 1, named); // resumes, then stops the same way
  }
});

test('4. a batch larger than a split is refused before anything is written', () => {
  const dir = join(base, 'big-batch');
  refused(
    lbt('search', ...tiny, '--set', 'batchSize=100000', '--out', dir),
    2,
    /^lbt: batchSize 100000 is larger than D_tr \(8 images\): at most 8 fits$/,
  );
  assert.equal(existsSync(dir), false);
});

test('4. a supernet too large for memory even at one example is refused before anything is written', () => {
  const dir = join(base, 'big-network');
  refused(
    lbt('search', ...tiny, '--set', 'supernet.channels=100000', '--out', dir),
    2,
    /^lbt: the supernet needs at least [\d.]+ GB for the activations of one example, and [\d.]+ GB of memory is there: make supernet\.channels or supernet\.layers smaller$/,
  );
  assert.equal(existsSync(dir), false);
});

test('6. a run directory killed before its first checkpoint is started again by the same command', () => {
  const dir = join(base, 'never-started');
  mkdirSync(dir);
  for (const f of ['config.json', 'splits.json']) cpSync(join(RUN, f), join(dir, f));
  const summary = JSON.parse(readFileSync(join(RUN, 'run.json'), 'utf8'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...summary, status: 'running' }));
  writeFileSync(join(dir, '.checkpoint.safetensors.tmp-99999-0'), 'half a checkpoint');
  const r = lbt('search', ...tiny, '--out', dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'genotype.json'), 'utf8'), readFileSync(join(RUN, 'genotype.json'), 'utf8'));
  assert.equal(existsSync(join(dir, '.checkpoint.safetensors.tmp-99999-0')), false, 'the temporary file is gone');
});

test('7. a checkpoint that cannot be written (file too large: ulimit -f) is one line; --resume then completes the run', () => {
  const dir = join(base, 'file-size-limit');
  // the config, splits and records fit in 200 kB; the checkpoint (over 1 MB) does not: EFBIG (node ignores SIGXFSZ)
  const args = [CLI, 'search', ...tiny, '--out', dir];
  const r = spawnSync('prlimit', ['--fsize=200000', process.execPath, ...args], { env, encoding: 'utf8', timeout: 300_000 });
  refused(
    r,
    2,
    /file-size-limit\/checkpoint\.safetensors: cannot write: file too large for the file system or the file-size limit \(ulimit -f\): free or raise it, then resume the run \(EFBIG\)$/,
  );
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status, 'failed');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-') || f === 'run.lock'),
    [],
    'no temporary file, no lock left',
  );
  const again = lbt('search', '--resume', dir, '--quiet', '--no-report');
  assert.equal(again.status, 0, again.stderr);
  assert.equal(readFileSync(join(dir, 'genotype.json'), 'utf8'), readFileSync(join(RUN, 'genotype.json'), 'utf8'));
});

test('7. --out that is a file or under a file is one line', () => {
  const file = join(base, 'a-file');
  writeFileSync(file, 'x');
  refused(lbt('search', ...tiny, '--out', file), 2, /a-file: is a file, not a directory: give another --out$/);
  refused(
    lbt('search', ...tiny, '--out', join(file, 'run')),
    2,
    /a-file\/run: cannot create the run directory: a part of the path is a file, not a directory \(ENOTDIR\)$/,
  );
});

test('7. --out in a directory without write permission is one line', () => {
  const ro = openDir('read-only');
  chmodSync(ro, 0o555);
  const r = lbtUnprivileged('search', ...tiny, '--out', join(ro, 'run'));
  refused(
    r,
    2,
    /read-only\/run: cannot create the run directory: permission denied: check the permissions \(or give another --out\) \(EACCES\)$/,
  );
});

test('7. --resume of a run whose config.json has a wrong type, or of another kind of run, is one line', () => {
  const dir = join(base, 'bad-config');
  cpSync(RUN, dir, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, epochs: 'two' }));
  refusedUnchanged(
    dir,
    2,
    /bad-config\/config\.json: not a valid search config: epochs: Invalid input: expected number, received string$/,
    'search',
    '--resume',
    dir,
  );
  refusedUnchanged(RUN, 2, /run: is a search run, not one of `lbt train`/, 'train', '--resume', RUN);
  const train = join(base, 'train-kind');
  cpSync(RUN, train, { recursive: true });
  const summary = JSON.parse(readFileSync(join(train, 'run.json'), 'utf8'));
  writeFileSync(join(train, 'run.json'), JSON.stringify({ ...summary, kind: 'train' }));
  refusedUnchanged(train, 2, /train-kind: is a train run: continue it with lbt train --resume$/, 'search', '--resume', train);
});

test('7. lbt report on records of the wrong shape names the file and line', () => {
  const dir = join(base, 'bad-records');
  cpSync(RUN, dir, { recursive: true });
  writeFileSync(join(dir, 'metrics.jsonl'), `${readFileSync(join(dir, 'metrics.jsonl'), 'utf8')}{"kind":"epoch","epoch":"x"}\n`);
  refusedUnchanged(
    dir,
    2,
    /bad-records\/metrics\.jsonl:\d+: not a metrics record: epoch: Invalid input: expected number, received string$/,
    'report',
    dir,
    '--out',
    join(base, 'report'),
    '--quiet',
  );
  const snap = join(base, 'bad-snapshot');
  cpSync(RUN, snap, { recursive: true });
  writeFileSync(join(snap, 'genotypes', 'epoch-000.json'), '{"epoch":0,"step":2,"weights":[]}');
  refusedUnchanged(
    snap,
    2,
    /epoch-000\.json: not a valid architecture snapshot: genotype: /,
    'report',
    snap,
    '--out',
    join(base, 'report'),
    '--quiet',
  );
});

/** A small Fashion-MNIST-format directory (40 training, 8 test images) whose train images file `spoil` replaces. */
function idxDir(name: string, spoil: (file: string) => void): string {
  const dir = join(base, name);
  mkdirSync(dir);
  const tr = randomImages(40, 10, 1, 784);
  const te = randomImages(8, 10, 2, 784);
  writeIdxSet(dir, 'train', tr.images, tr.labels, 28, 28, false);
  writeIdxSet(dir, 't10k', te.images, te.labels, 28, 28, false);
  const f = join(dir, 'train-images-idx3-ubyte');
  rmSync(f);
  spoil(f);
  return dir;
}

const withData = (dir: string, out: string) => [
  'search',
  ...tiny,
  ...['--set', 'dataset.name=fashion-mnist', '--set', `dataset.dir=${dir}`, '--out', out],
];

test('7, 8. a data file that is a directory, a FIFO or over 2 GiB is one line (and no hang)', () => {
  const cases: [string, (f: string) => void, RegExp][] = [
    ['data-dir', (f) => mkdirSync(f), /train-images-idx3-ubyte: the data file is a directory, not a file$/],
    [
      'data-fifo',
      (f) => spawnSync('mkfifo', [f]),
      /train-images-idx3-ubyte: the data file is not a regular file \(a FIFO, socket or device\): give a file$/,
    ],
    [
      'data-huge',
      (f) => {
        writeFileSync(f, '');
        truncateSync(f, 2 ** 31 + 1); // sparse: no disk used
      },
      /train-images-idx3-ubyte: the data file is 2\.0 GiB, more than can be read at once: is it the right file\?$/,
    ],
  ];
  for (const [name, spoil, message] of cases) {
    const out = join(base, `${name}-run`);
    refused(lbt(...withData(idxDir(name, spoil), out)), 2, message);
    assert.equal(existsSync(out), false);
  }
});

test('8, 10. a config that is a FIFO, and random bytes named .tar.gz, are one line', () => {
  const fifo = join(base, 'config.yaml');
  spawnSync('mkfifo', [fifo]);
  refused(lbt('search', '--config', fifo, '--out', join(base, 'never')), 2, /config\.yaml: not a regular file$/);
  const cifar = join(base, 'cifar');
  mkdirSync(cifar);
  writeFileSync(join(cifar, 'cifar-10-binary.tar.gz'), randomImages(1, 1, 3).images);
  const sets = ['--set', 'dataset.name=cifar10', '--set', `dataset.dir=${cifar}`];
  refused(
    lbt('search', ...tiny, ...sets, '--out', join(base, 'never')),
    2,
    /cifar-10-binary\.tar\.gz: not a gzip-compressed tar archive/,
  );
});

test('8. lbt genotype draw of a genotype with thousands of nodes is refused at once', () => {
  const n = 3000;
  const genes = Array.from({ length: 2 * n }, (_, k) => ['sep_conv_3x3', Math.floor(k / 2) + (k % 2)]);
  const g = { format: 'lbt-genotype', version: 1, normal: genes, normalConcat: [n + 1], reduce: genes, reduceConcat: [n + 1] };
  const file = join(base, 'huge-genotype.json');
  writeFileSync(file, JSON.stringify(g));
  const svg = join(base, 'huge.svg');
  refused(
    lbt('genotype', 'draw', file, '--out', svg),
    2,
    /huge-genotype\.json: a cell of 3000 nodes is too large to draw \(at most 64\)$/,
  );
  assert.equal(existsSync(svg), false);
});

test('9. __proto__, constructor and prototype keys are refused; supernet.multiplier is checked', () => {
  for (const [set, key, word] of [
    ['__proto__.x=1', '__proto__.x', '__proto__'],
    ['student.constructor=1', 'student.constructor', 'constructor'],
    ['supernet={"prototype":{"layers":2}}', 'supernet.prototype', 'prototype'],
  ] as const) {
    refused(
      lbt('search', ...tiny, '--set', set, '--out', join(base, 'never')),
      2,
      new RegExp(`^lbt: --set: ${key.replace(/\./g, '\\.')}: "${word}" is not a config key$`),
    );
  }
  const file = join(base, 'proto.json');
  writeFileSync(file, '{"__proto__": {"epochs": 3}}');
  refused(
    lbt('search', '--config', file, '--out', join(base, 'never')),
    2,
    /proto\.json: __proto__: "__proto__" is not a config key$/,
  );
  refused(
    lbt('search', ...tiny, '--set', 'supernet.multiplier=5', '--out', join(base, 'never')),
    2,
    /supernet\.multiplier: at most supernet\.steps \(4\)$/,
  );
  assert.equal(existsSync(join(base, 'never')), false);
});

test('9. --resume with flags that would change the run is refused, even invalid ones', () => {
  const how =
    /--resume continues a run with its own config and directory: (--set|--preset|--config|--scale|--out|--force)(, --\w+)* cannot be given with it/;
  for (const extra of [
    ['--set', 'epochs=3'],
    ['--set', 'nonsense'],
    ['--preset', 'no-such-preset'],
    ['--config', '/no/such/file.yaml'],
    ['--scale', 'smoke'],
    ['--out', join(base, 'elsewhere')],
    ['--force'],
  ])
    refusedUnchanged(RUN, 2, how, 'search', '--resume', RUN, ...extra);
});

test('7. a data file without read permission is one line naming it (EACCES)', () => {
  const dir = openDir('data-no-read');
  const tr = randomImages(40, 10, 1, 784);
  const te = randomImages(8, 10, 2, 784);
  writeIdxSet(dir, 'train', tr.images, tr.labels, 28, 28, false);
  writeIdxSet(dir, 't10k', te.images, te.labels, 28, 28, false);
  chmodSync(join(dir, 'train-images-idx3-ubyte'), 0o000);
  const out = join(base, 'data-no-read-run');
  refused(
    lbtUnprivileged(...withData(dir, out)),
    2,
    /data-no-read\/train-images-idx3-ubyte: cannot read the data file: permission denied: make it readable by this user \(EACCES\)$/,
  );
  assert.equal(existsSync(out), false);
});

test('10. an unreadable data directory is reported as unreadable, not as missing', () => {
  const dir = openDir('data-unreadable');
  const tr = randomImages(40, 10, 1, 784);
  writeIdxSet(dir, 'train', tr.images, tr.labels, 28, 28, false);
  chmodSync(dir, 0o000);
  const r = lbtUnprivileged(...withData(dir, join(base, 'never')));
  chmodSync(dir, 0o755);
  refused(
    r,
    2,
    /data-unreadable\/train-images-idx3-ubyte: cannot access: permission denied: make it readable by this user \(EACCES\)$/,
  );
});
