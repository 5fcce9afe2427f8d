// The search/retrain config: reference defaults, per-method defaults, strictness, error messages
// naming key and source, YAML/JSON files, --set overrides, presets and the smoke overlay.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { METHOD_DEFAULTS, SearchConfig, TrainConfig } from '../../src/config/schema.js';
import { ConfigError } from '../../src/config/errors.js';
import { deepMerge, parseSet } from '../../src/config/layers.js';
import { describeOptions, formatOptions } from '../../src/config/help.js';
import { loadSearchConfig, loadTrainConfig } from '../../src/config/load.js';
import { listPresets } from '../../src/config/presets.js';

const tmp = mkdtempSync(join(tmpdir(), 'lbt-config-'));
function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

test('search defaults are the DARTS reference values (darts-family.md §3, paper §4.2)', () => {
  const c = loadSearchConfig();
  assert.equal(c.method, 'darts');
  assert.equal(c.epochs, 50);
  assert.equal(c.batchSize, 64);
  assert.equal(c.seed, 2);
  assert.equal(c.lambda, 1);
  assert.equal(c.gamma, 1);
  assert.equal(c.weights.lr, 0.025);
  assert.equal(c.weights.lrMin, 0.001);
  assert.equal(c.weights.momentum, 0.9);
  assert.equal(c.weights.weightDecay, 3e-4);
  assert.equal(c.weights.gradClip, 5);
  assert.equal(c.arch.lr, 3e-4);
  assert.deepEqual(c.arch.betas, [0.5, 0.999]);
  assert.equal(c.arch.weightDecay, 1e-3);
  // multiplier null: all steps nodes (the reference's multiplier = steps = 4); stem auto: the data's style
  assert.deepEqual(c.supernet, { channels: 16, layers: 8, steps: 4, multiplier: null, stemMultiplier: 3, stem: 'auto', pcK: 4 });
  assert.deepEqual(c.pdarts, { layers: [5, 11, 17], opsKept: [5, 3, 1], dropout: [0, 0.4, 0.7], maxSkip: 2 });
  assert.equal(c.archWarmupEpochs, 0);
  assert.equal(c.retrain, null);
  assert.deepEqual(c, SearchConfig.parse({}), 'no layer: the schema defaults alone');
});

test('per-method defaults: PC-DARTS batch 256, lr 0.1 to 0, arch 6e-4, warm-up 15; P-DARTS batch 96, first order', () => {
  const pc = loadSearchConfig({ sets: ['method=pc-darts'] });
  assert.equal(pc.batchSize, 256);
  assert.equal(pc.weights.lr, 0.1);
  assert.equal(pc.weights.lrMin, 0);
  assert.equal(pc.arch.lr, 6e-4);
  assert.equal(pc.archWarmupEpochs, 15);
  assert.equal(pc.order, 'first');
  assert.equal(pc.weights.momentum, 0.9, 'untouched keys keep the schema default');
  const pd = loadSearchConfig({ sets: ['method=p-darts'] });
  assert.equal(pd.batchSize, 96);
  assert.equal(pd.arch.lr, 6e-4);
  assert.equal(pd.arch.gradClip, 5);
  assert.equal(pd.order, 'first');
  assert.equal(pd.epochs, 25);
  assert.equal(pd.archWarmupEpochs, 10);
  // the user's values win over the method's
  assert.equal(loadSearchConfig({ sets: ['method=pc-darts', 'batchSize=32'] }).batchSize, 32);
  assert.equal(Object.keys(METHOD_DEFAULTS).length, 3);
});

test('retrain defaults: CIFAR 20 cells C=36 batch 96 600 epochs; ImageNet 14 cells C=48 label smoothing 0.1', () => {
  const c = loadTrainConfig();
  assert.deepEqual(
    [c.layers, c.channels, c.batchSize, c.epochs, c.lr, c.lrMin, c.auxWeight, c.cutoutLength, c.dropPath, c.gradClip],
    [20, 36, 96, 600, 0.025, 0, 0.4, 16, 0.2, 5],
  );
  assert.equal(c.cutout, true);
  const i = loadTrainConfig({ sets: ['dataset.name=imagenet'] });
  assert.deepEqual([i.layers, i.channels, i.labelSmoothing, i.epochs, i.dropPath], [14, 48, 0.1, 250, 0]);
  assert.equal(loadTrainConfig({ sets: ['dataset.name=imagenet', 'layers=12'] }).layers, 12);
  assert.deepEqual(c, TrainConfig.parse({}));
});

test('an unknown key is an error naming the dotted key and the file', () => {
  const f = file('unknown.yaml', 'student:\n  arch: resnet18\n  widht: 0.5\n');
  assert.throws(
    () => loadSearchConfig({ file: f }),
    (e: unknown) => e instanceof ConfigError && e.message === `${f}: student.widht: unknown key`,
  );
  assert.throws(() => loadSearchConfig({ sets: ['epoch=3'] }), /^ConfigError: --set: epoch: unknown key$/);
});

test('a wrong type is an error naming the key and the file it came from', () => {
  const f = file('wrong.json', JSON.stringify({ batchSize: 'big', weights: { lr: 0.1 } }));
  assert.throws(
    () => loadSearchConfig({ file: f, sets: ['weights.lr=0.2'] }),
    (e: unknown) => e instanceof ConfigError && e.source === f && e.key === 'batchSize' && /expected number/.test(e.message),
  );
  const g = file('enum.yaml', 'method: enas\n');
  assert.throws(() => loadSearchConfig({ file: g }), new RegExp(`${g}: method: Invalid option`));
  // the --set that overrode a file value is the source named
  const h = file('ok.yaml', 'epochs: 3\n');
  assert.throws(() => loadSearchConfig({ file: h, sets: ['epochs=-1'] }), /^ConfigError: --set: epochs: /);
  assert.throws(() => loadSearchConfig({ sets: ['student.blocks=[1,1,1]'] }), /--set: student\.blocks: /);
});

test('YAML and JSON files give the same config', () => {
  const y = file('a.yaml', 'method: pc-darts\nlambda: 0.5\nstudent:\n  arch: resnet50\ndataset:\n  name: cifar100\n');
  const j = file(
    'a.json',
    JSON.stringify({ method: 'pc-darts', lambda: 0.5, student: { arch: 'resnet50' }, dataset: { name: 'cifar100' } }),
  );
  const a = loadSearchConfig({ file: y });
  assert.deepEqual(a, loadSearchConfig({ file: j }));
  assert.equal(a.student.arch, 'resnet50');
  assert.equal(a.lambda, 0.5);
  assert.equal(a.batchSize, 256, 'the method in the file selects its defaults');
  assert.throws(() => loadSearchConfig({ file: file('bad.yaml', 'a: [1, 2\n') }), /bad\.yaml: not valid YAML/);
  assert.throws(() => loadSearchConfig({ file: file('list.yaml', '- 1\n- 2\n') }), /list\.yaml: the top level must be a mapping/);
  assert.throws(() => loadSearchConfig({ file: join(tmp, 'missing.yaml') }), /missing\.yaml: cannot read: ENOENT/);
});

test('--set: dotted keys, JSON values where they parse, strings otherwise, later sets win', () => {
  assert.deepEqual(parseSet('student.arch=resnet50'), { student: { arch: 'resnet50' } });
  assert.deepEqual(parseSet('arch.betas=[0.9,0.99]'), { arch: { betas: [0.9, 0.99] } });
  assert.deepEqual(parseSet('dataset.dir=/x=y'), { dataset: { dir: '/x=y' } });
  assert.throws(() => parseSet('nokey'), /--set: nokey: expected key=value/);
  assert.throws(() => parseSet('a..b=1'), /empty segment/);
  const c = loadSearchConfig({ sets: ['student.arch=resnet50', 'lbt=false', 'retrain={"epochs":2}', 'epochs=7', 'epochs=8'] });
  assert.equal(c.student.arch, 'resnet50');
  assert.equal(c.lbt, false);
  assert.equal(c.epochs, 8);
  assert.equal(c.retrain?.epochs, 2);
  assert.equal(c.retrain?.channels, 36, 'a retrain section is filled with the retrain defaults');
  assert.deepEqual(deepMerge({ a: { b: 1, c: 2 } }, { a: { c: 3 } }), { a: { b: 1, c: 3 } });
});

test('dataset.unlabeled: paper by default, heldout, or a folder {dir}; anything else names the three forms', () => {
  assert.equal(loadSearchConfig({}).dataset.unlabeled, 'paper');
  assert.equal(loadSearchConfig({ sets: ['dataset.unlabeled=heldout'] }).dataset.unlabeled, 'heldout');
  const folder = loadSearchConfig({ preset: 'lbt-rn18-darts2nd-cifar10', sets: ['dataset.unlabeled.dir=/data/unlabeled'] });
  assert.deepEqual(folder.dataset.unlabeled, { dir: '/data/unlabeled' });
  const y = file(
    'unlabeled.yaml',
    'method: darts\ndataset:\n  name: folder\n  dir: /data/mine\n  imageSize: 32\n  style: cifar\n  unlabeled: {dir: /data/u}\n',
  );
  const c = loadSearchConfig({ file: y, sets: ['dataset.unlabeled=heldout'] });
  assert.deepEqual(
    [c.dataset.name, c.dataset.imageSize, c.dataset.style, c.dataset.unlabeled],
    ['folder', 32, 'cifar', 'heldout'],
  );
  assert.throws(
    () => loadSearchConfig({ sets: ['dataset.unlabeled=/data/unlabeled'] }),
    (e: unknown) =>
      e instanceof ConfigError && /dataset\.unlabeled.*expected paper, heldout or a folder as \{dir: PATH\}/.test(e.message),
  );
  assert.throws(() => loadSearchConfig({ sets: ['dataset.unlabeled.path=/x'] }), /dataset\.unlabeled/);
  assert.throws(() => loadSearchConfig({ sets: ['dataset.style=big'] }), /dataset\.style/);
  // D_u is the search's: a retrain's and `lbt train`'s dataset section has no such key
  const r = loadSearchConfig({ file: y, sets: ['retrain={}'] });
  assert.equal(r.retrain?.dataset, null);
  assert.deepEqual(loadTrainConfig({ file: y }).dataset.name, 'folder');
  assert.throws(() => loadTrainConfig({ sets: ['dataset.unlabeled=heldout'] }), /dataset\.unlabeled.*unknown key/);
});

test('cross-field checks: ablations need lbt, P-DARTS lists one entry per stage', () => {
  assert.throws(
    () => loadSearchConfig({ sets: ['lbt=false', 'studentOnly=true'] }),
    /studentOnly: studentOnly is an LBT ablation/,
  );
  assert.throws(() => loadSearchConfig({ sets: ['pdarts.layers=[5,11]'] }), /pdarts: .*one entry per stage \(got 2, 3, 3\)/);
});

test('every preset parses, has a description, and parses at smoke scale', () => {
  const presets = listPresets();
  for (const name of ['default', 'lbt-rn18-darts2nd-cifar10', 'darts2nd-cifar10'])
    assert.ok(
      presets.some((p) => p.name === name),
      name,
    );
  for (const p of presets) {
    assert.ok(p.description.length > 10, `${p.name} has a description`);
    assert.doesNotThrow(() => loadSearchConfig({ preset: p.name }), p.name);
    const s = loadSearchConfig({ preset: p.name, scale: 'smoke' });
    assert.equal(s.epochs, 1);
    assert.equal(s.stepsPerEpoch, 1);
    assert.equal(s.dataset.trainSize, 16);
    assert.doesNotThrow(() => loadTrainConfig({ preset: p.name, scale: 'smoke' }), p.name);
  }
  const d = loadSearchConfig({ preset: 'default' });
  assert.equal(d.dataset.name, 'fashion-mnist');
  assert.equal(d.order, 'second');
  assert.equal(d.lbt, true);
  assert.equal(d.student.arch, 'resnet18');
  assert.ok(d.retrain !== null);
  const b = loadSearchConfig({ preset: 'darts2nd-cifar10' });
  assert.equal(b.lbt, false);
  assert.throws(() => loadSearchConfig({ preset: 'nope' }), /no preset named "nope".*known: .*default/);
  assert.throws(() => loadSearchConfig({ preset: '../etc/passwd' }), /not a valid name/);
});

test('smoke overlay: on top of the preset, under --set; shrinks a retrain section only where one is on', () => {
  const s = loadSearchConfig({ preset: 'default', scale: 'smoke', sets: ['supernet.channels=4'] });
  assert.equal(s.supernet.layers, 3);
  assert.equal(s.supernet.channels, 4, '--set wins over the scale');
  assert.equal(s.student.width, 0.125);
  assert.equal(s.retrain?.epochs, 1);
  assert.equal(s.retrain?.stepsPerEpoch, 1);
  assert.equal(s.dataset.name, 'fashion-mnist', 'the preset survives where the scale is silent');
  assert.equal(
    loadSearchConfig({ preset: 'darts2nd-cifar10', scale: 'smoke', sets: ['retrain=null'] }).retrain,
    null,
    'the retrain can be turned off',
  );
  assert.equal(
    loadSearchConfig({ preset: 'darts2nd-cifar10', scale: 'smoke' }).retrain?.layers,
    3,
    'the scale shrinks a preset retrain',
  );
  const t = loadTrainConfig({ preset: 'default', scale: 'smoke' });
  assert.deepEqual([t.layers, t.channels, t.epochs, t.dataset.trainSize], [3, 8, 1, 16]);
  assert.throws(() => loadSearchConfig({ scale: 'huge' }), /no scale named "huge"/);
});

test("Table 4 transfer presets: the CIFAR preset's search exactly, retrained on ImageNet with the §4.2 settings", () => {
  const pairs = listPresets()
    .map((p) => p.name)
    .filter((n) => n.endsWith('-to-imagenet'));
  assert.deepEqual(pairs.sort(), [
    'darts2nd-cifar10-to-imagenet',
    'lbt-rn50-darts2nd-cifar10-to-imagenet',
    'lbt-rn50-pdarts-cifar10-to-imagenet',
    'lbt-rn50-pdarts-cifar100-to-imagenet',
    'pdarts-cifar10-to-imagenet',
    'pdarts-cifar100-to-imagenet',
  ]);
  for (const name of pairs) {
    const t = loadSearchConfig({ preset: name });
    const { retrain, description: _d, ...search } = t;
    const {
      retrain: baseRetrain,
      description: _b,
      ...baseSearch
    } = loadSearchConfig({ preset: name.replace('-to-imagenet', '') });
    assert.deepEqual(search, baseSearch, `${name} searches as its CIFAR preset`);
    assert.equal(baseRetrain?.dataset, null);
    assert.ok(retrain?.dataset);
    assert.deepEqual(
      [retrain.dataset.name, retrain.dataset.dir, retrain.dataset.trainSize, retrain.layers, retrain.channels, retrain.epochs],
      ['imagenet', null, null, 14, 48, 250],
    );
    assert.deepEqual(
      [retrain.batchSize, retrain.lr, retrain.schedule, retrain.warmupEpochs, retrain.weightDecay, retrain.labelSmoothing],
      [1024, 0.5, 'linear', 5, 3e-5, 0.1],
    );
    assert.deepEqual([retrain.dropPath, retrain.cutout, retrain.auxiliary], [0, false, true]);
    const train = loadTrainConfig({ preset: name });
    assert.deepEqual([train.dataset.name, train.layers, train.channels], ['imagenet', 14, 48], `lbt train --preset ${name}`);
  }
});

test("retrain.dataset: its name is required; its data set's retrain defaults apply under the given values", () => {
  assert.throws(
    () => loadSearchConfig({ sets: ['retrain.dataset.dir=/data'] }),
    /^ConfigError: --set: retrain\.dataset\.name: required: one of cifar10, /,
  );
  const c = loadSearchConfig({ sets: ['retrain.dataset.name=imagenet'] });
  assert.equal(c.dataset.name, 'cifar10');
  assert.deepEqual([c.retrain?.layers, c.retrain?.channels, c.retrain?.labelSmoothing], [14, 48, 0.1]);
  const d = loadSearchConfig({ sets: ['retrain.dataset.name=imagenet', 'retrain.layers=10'] });
  assert.equal(d.retrain?.layers, 10);
  assert.equal(loadSearchConfig({ sets: ['retrain={}'] }).retrain?.dataset, null, "default: the search's data set");
});

test('extends: a preset deep-merges over another; cycles and bad names are errors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lbt-presets-'));
  mkdirSync(join(dir, 'presets'));
  const put = (n: string, text: string) => writeFileSync(join(dir, 'presets', `${n}.yaml`), text);
  put('base', 'description: the base\nepochs: 7\nstudent:\n  arch: resnet50\n  lr: 0.05\n');
  put('child', 'extends: base\nstudent:\n  lr: 0.01\n');
  assert.equal(listPresets(dir).find((p) => p.name === 'child')?.description, 'the base');
  put('a', 'extends: b\n');
  put('b', 'extends: a\n');
  put('num', 'extends: 3\n');
  const c = loadSearchConfig({ preset: 'child', configsDir: dir });
  assert.deepEqual([c.epochs, c.student.arch, c.student.lr, c.description], [7, 'resnet50', 0.01, 'the base']);
  assert.throws(
    () => loadSearchConfig({ preset: 'a', configsDir: dir }),
    /b\.yaml: extends: presets extend each other in a cycle: a -> b -> a/,
  );
  assert.throws(
    () => loadSearchConfig({ preset: 'num', configsDir: dir }),
    /num\.yaml: extends: expected the name of another preset/,
  );
  put('lost', 'extends: nowhere\n');
  assert.throws(() => loadSearchConfig({ preset: 'lost', configsDir: dir }), /no preset named "nowhere"/);
});

test('describeOptions lists every leaf option with its default, description and per-method defaults', () => {
  const docs = describeOptions(SearchConfig, METHOD_DEFAULTS);
  const by = new Map(docs.map((d) => [d.key, d]));
  assert.equal(by.get('weights.lr')?.default, 0.025);
  assert.deepEqual(by.get('batchSize')?.overrides, { 'pc-darts': 256, 'p-darts': 96 });
  assert.equal(by.get('student.arch')?.type, '"resnet18"|"resnet50"');
  assert.equal(by.get('retrain.channels')?.default, 36);
  for (const d of docs) if (d.key !== 'description') assert.ok(d.description.length > 0, `${d.key} is described`);
  // every leaf of the parsed default config has a line
  const leaves = (o: object, p = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) =>
      v && typeof v === 'object' && !Array.isArray(v) ? leaves(v, `${p}${k}.`) : [`${p}${k}`],
    );
  for (const k of leaves(SearchConfig.parse({}))) assert.ok(by.has(k), k);
  assert.match(formatOptions(docs), /batchSize\s+64 \(pc-darts: 256, p-darts: 96\)/);
});
