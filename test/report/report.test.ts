// `lbt report` on hand-made run directories: the table's mean±std, params and device-hours pinned;
// the HTML page self-contained (no external URL, no script) with inline SVG charts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildReport, findRunDirs, inlineSvg } from '../../src/report/report.js';
import { formatMeanStd, methodLabel } from '../../src/report/table.js';
import type { ArchSnapshot, EpochRecord, RunResult, RunSummary } from '../../src/runs/types.js';

const root = mkdtempSync(join(tmpdir(), 'lbt-report-'));

function summary(kind: 'search' | 'train', wallSeconds: number, extra: Partial<RunSummary> = {}): RunSummary {
  return {
    format: 1,
    kind,
    status: 'completed',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    wallSeconds,
    phaseSeconds: {},
    sessions: 1,
    device: 'cuda',
    deviceName: 'NVIDIA V100',
    gitRev: null,
    host: 'h',
    node: 'v20',
    ...extra,
  };
}

function makeRun(
  name: string,
  o: { kind?: 'search' | 'train'; config: object; wall?: number; result?: Partial<RunResult>; extra?: Partial<RunSummary> },
): string {
  const d = join(root, name);
  mkdirSync(join(d, 'genotypes'), { recursive: true });
  writeFileSync(join(d, 'run.json'), JSON.stringify(summary(o.kind ?? 'search', o.wall ?? 0, o.extra)));
  writeFileSync(join(d, 'config.json'), JSON.stringify(o.config));
  if (o.result) writeFileSync(join(d, 'result.json'), JSON.stringify({ testExamples: 10000, epochs: 600, ...o.result }));
  return d;
}

const lbtCifar10 = {
  method: 'darts',
  order: 'second',
  lbt: true,
  student: { arch: 'resnet18', width: 1, blocks: null },
  dataset: { name: 'cifar10' },
};
const darts = { method: 'darts', order: 'second', lbt: false, dataset: { name: 'cifar10' } };

// three seeds of LBT(RN18,DARTS-2nd): errors 2.5, 2.7, 2.9 (mean 2.70, sample std 0.20), params 3.3/3.4/3.5,
// search 1.8, 2.0, 2.2 device-hours (one through phaseSeconds.search, which wins over wallSeconds)
const seeds = [
  makeRun('exp/seed-0', { config: lbtCifar10, wall: 1.8 * 3600, result: { testError: 2.5, paramsM: 3.3 } }),
  makeRun('exp/seed-1', { config: lbtCifar10, wall: 2.0 * 3600, result: { testError: 2.7, paramsM: 3.4 } }),
  makeRun('exp/seed-2', {
    config: lbtCifar10,
    wall: 9 * 3600,
    result: { testError: 2.9, paramsM: 3.5 },
    extra: { phaseSeconds: { search: 2.2 * 3600, retrain: 6.8 * 3600 } },
  }),
];
// the baseline: a search run and a separate `lbt train` run that links it
const search = makeRun('darts-search', { config: darts, wall: 1.5 * 3600 });
const train = makeRun('darts-train', {
  kind: 'train',
  config: { genotype: '../darts-search/genotype.json', dataset: { name: 'cifar10' } },
  wall: 30 * 3600,
  result: { testError: 2.76, paramsM: 3.349342 },
  extra: { searchRun: '../darts-search' },
});
const c100 = makeRun('c100', {
  config: { ...lbtCifar10, student: { arch: 'resnet50' }, dataset: { name: 'cifar100' } },
  wall: 2.2 * 3600,
  result: { testError: 17.06, paramsM: 2.1 },
});

test('labels in the form of the paper (LBT(RN18,DARTS-2nd), PC-DARTS, ablations)', () => {
  assert.equal(methodLabel(lbtCifar10), 'LBT(RN18,DARTS-2nd)');
  assert.equal(methodLabel(darts), 'DARTS-2nd');
  assert.equal(methodLabel({ ...darts, order: 'first' }), 'DARTS-1st');
  assert.equal(methodLabel({ method: 'p-darts', lbt: true, student: { arch: 'resnet50' } }), 'LBT(RN50,P-DARTS)');
  assert.equal(methodLabel({ method: 'pc-darts', lbt: false }), 'PC-DARTS');
  assert.equal(
    methodLabel({ ...lbtCifar10, studentOnly: true, lambda: 0.5, student: { arch: 'resnet18', width: 0.25 } }),
    'LBT(RN18-reduced,DARTS-2nd) student only λ=0.5',
  );
  assert.equal(formatMeanStd([2.5, 2.7, 2.9]), '2.70±0.20');
  assert.equal(formatMeanStd([2.76]), '2.76');
  assert.equal(formatMeanStd([]), '-');
});

test('Markdown table: mean±std over runs, params in M, search cost in measured device-hours', async () => {
  const r = await buildReport([join(root, 'exp'), train, c100], { noCharts: true });
  assert.deepEqual(
    r.runs.map((x) => x.dir),
    [...seeds, train, c100],
    'an experiment directory expands to its runs',
  );
  const md = r.markdown.split('\n');
  const at = md.indexOf('## Results on CIFAR-10');
  assert.ok(at >= 0);
  assert.deepEqual(md.slice(at + 2, at + 6), [
    '| Method | Error (%) | Param (M) | Cost (device-hours) | Runs |',
    '| --- | ---: | ---: | ---: | ---: |',
    '| LBT(RN18,DARTS-2nd) | 2.70±0.20 | 3.40 | 2.00 | 3 |',
    '| DARTS-2nd | 2.76 | 3.35 | 1.50 | 1 |',
  ]);
  assert.ok(md.includes('| LBT(RN50,DARTS-2nd) | 17.06 | 2.10 | 2.20 | 1 |'));
  assert.ok(r.markdown.includes('## Results on CIFAR-100'));
  assert.match(r.markdown, /Device: NVIDIA V100\./);
  assert.ok(search);
});

test('ImageNet-style results get a Top-5 column; search-only runs show "-" for the error', async () => {
  const s = makeRun('search-only', { config: { ...darts, dataset: { name: 'imagenet' } }, wall: 3600 });
  const t = makeRun('in-train', {
    kind: 'train',
    config: { genotype: 'PC_DARTS_image', dataset: { name: 'imagenet' } },
    result: { testError: 24.2, top5Error: 7.3, paramsM: 5.34 },
  });
  const r = await buildReport([s, t], { noCharts: true });
  assert.match(
    r.markdown,
    /\| Method \| Top-1 Error \(%\) \| Top-5 Error \(%\) \| Param \(M\) \| Cost \(device-hours\) \| Runs \|/,
  );
  assert.match(r.markdown, /\| DARTS-2nd \| - \| - \| - \| 1\.00 \| 1 \|/);
  assert.match(r.markdown, /\| genotype PC_DARTS_image \| 24\.20 \| 7\.30 \| 5\.34 \| - \| 1 \|/);
});

test('a search whose retrain ran on another data set is a row of that table, labelled as Table 4 does', async () => {
  const transfer = makeRun('transfer', {
    config: { ...lbtCifar10, student: { arch: 'resnet50' }, retrain: { dataset: { name: 'imagenet' } } },
    wall: 2 * 3600,
    result: { testError: 25.5, top5Error: 7.9, paramsM: 4.8 },
  });
  const baseline = makeRun('transfer-baseline', {
    config: { ...darts, method: 'p-darts', dataset: { name: 'cifar100' }, retrain: { dataset: { name: 'imagenet' } } },
    wall: 3600,
    result: { testError: 24.7, top5Error: 7.5, paramsM: 5.1 },
  });
  const r = await buildReport([transfer, baseline], { noCharts: true });
  assert.match(r.markdown, /\| P-DARTS\(CIFAR100\) \| 24\.70 \| 7\.50 \| 5\.10 \| 1\.00 \| 1 \|/);
  assert.ok(r.markdown.includes('## Results on ImageNet'));
  assert.ok(!r.markdown.includes('## Results on CIFAR-10'));
  assert.match(r.markdown, /\| LBT\(RN50,DARTS-2nd,CIFAR10\) \| 25\.50 \| 7\.90 \| 4\.80 \| 2\.00 \| 1 \|/);
});

test('HTML is self-contained: inline SVG heatmaps and curves, no external URL, no script', async () => {
  const d = makeRun('with-charts', { config: lbtCifar10, wall: 600, result: { testError: 3.1, paramsM: 1.9 } });
  const ops = [
    'none',
    'max_pool_3x3',
    'avg_pool_3x3',
    'skip_connect',
    'sep_conv_3x3',
    'sep_conv_5x5',
    'dil_conv_3x3',
    'dil_conv_5x5',
  ];
  const lines: string[] = [];
  for (let e = 0; e < 3; e++) {
    const w = Array.from({ length: 14 }, (_, i) => ops.map((_, j) => (j === (i + e) % 8 ? 0.3 : 0.1)));
    const snap: ArchSnapshot = {
      epoch: e,
      step: 10 * (e + 1),
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
          ['max_pool_3x3', 0],
          ['max_pool_3x3', 1],
        ],
      },
      ops,
      weights: { normal: w, reduce: w },
    };
    writeFileSync(join(d, 'genotypes', `epoch-00${e}.json`), JSON.stringify(snap));
    const rec: EpochRecord = {
      kind: 'epoch',
      epoch: e,
      step: 10 * (e + 1),
      lr: 0.02,
      teacher: { train: { loss: 2 - e / 2, acc: 0.3 + e / 10 }, val: { loss: 2.1 - e / 2, acc: 0.25 + e / 10 } },
      student: { train: { loss: 2.2 - e / 2, acc: 0.2 + e / 10 } },
      agreement: 0.5,
      alphaEntropy: { normal: 2.07 - e / 100, reduce: 2.07 },
      skipConnects: e,
      seconds: 1,
      time: e,
    };
    lines.push(JSON.stringify(rec));
  }
  writeFileSync(join(d, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  const drawn: string[] = [];
  const r = await buildReport([d], {
    title: 'test <report>',
    drawGenotype: (g, title) => {
      drawn.push(title);
      return `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" id="cells"><text>${g.normal.length}</text></svg>`;
    },
  });
  const html = r.html;
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.equal(
    (html.match(/<svg/g) ?? []).length,
    6,
    'cells + the views with data: ops now, both cells over time, curves, entropy',
  );
  assert.deepEqual(
    [...html.matchAll(/<figure id="view-([a-z-]+)">/g)].map((m) => m[1]),
    ['arch-now', 'arch-normal', 'arch-reduce', 'curves', 'arch-stats'],
    'the live page’s views, in its order (no step records: no timing; no teaching signal recorded)',
  );
  assert.ok(html.includes('<svg id="cells"><text>2</text></svg>'), 'the drawing hook output, inlined');
  assert.deepEqual(drawn, ['LBT(RN18,DARTS-2nd)']);
  assert.ok(html.includes('which ops are winning: softmax(α) now, minus the uniform 1/k'));
  assert.ok(html.includes("normal cell: each edge's op weights over the search, as w − 1/k"));
  assert.ok(html.includes('n3←n2'), 'the last edge of a 4-node cell is labelled');
  assert.ok(html.includes('n0←k-2'), 'the first edge');
  assert.ok(html.includes('dil_conv_5x5'), 'ops named');
  assert.ok(html.includes('>teacher<') && html.includes('>student<'), 'the models in the legend');
  assert.ok(
    html.includes(
      '<p class="status"><span class="state state-completed">finished</span> <span>step 30</span><span>took 10m 0s</span><span>test error 3.10%, 1.90 M params</span></p>',
    ),
    'the live page’s status line',
  );
  assert.ok(html.includes('<title>test &#60;report&#62;</title>'), 'escaped');
  assert.equal(html.match(/https?:\/\//)?.[0], undefined, 'no URL at all, not even a namespace');
  assert.equal(html.match(/<script|<link|<img|<iframe|@import|url\((?!#)/i)?.[0], undefined, 'nothing loaded from elsewhere');
  assert.ok(html.includes('url(#'), 'clip paths refer to ids inside the page');
});

test('inlineSvg strips the prolog and namespace URLs', () => {
  assert.equal(
    inlineSvg(
      '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "x" "http://a"><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="1"></svg>',
    ),
    '<svg width="1"></svg>',
  );
});

test('a path that is not a run (and holds none) is an error naming it', () => {
  const empty = join(root, 'nothing-here');
  mkdirSync(empty);
  assert.throws(() => findRunDirs([empty]), new RegExp(`${empty}: is not a run directory and holds none`));
  assert.throws(() => findRunDirs([join(root, 'missing')]), /missing: does not exist/);
});
