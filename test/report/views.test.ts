// The views' data: rows of records and snapshots with hand-computed values, kept edges from a
// genotype, the header's totals, progress, pace and ETA.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgeLabels, keptEdges } from '../../src/runs/arch-names.js';
import { plannedTotals, progressText, runHeader, timeText } from '../../src/report/views/header.js';
import { runViews, withTables } from '../../src/report/views/catalog.js';
import { renderSvg, thin } from '../../src/report/views/render.js';
import { ViewRows } from '../../src/report/views/rows.js';
import type { ArchSnapshot, RunSummary, StepRecord } from '../../src/runs/types.js';

test('edges are named node←input in the order of the weights; a genotype keeps edge ⌊k/2⌋’s first edge + input', () => {
  assert.deepEqual(edgeLabels(5), ['n0←k-2', 'n0←k-1', 'n1←k-2', 'n1←k-1', 'n1←n0']);
  assert.equal(edgeLabels(14)[13], 'n3←n2');
  const g = {
    normal: [
      ['sep_conv_3x3', 1],
      ['skip_connect', 0],
      ['dil_conv_3x3', 2],
      ['max_pool_3x3', 0],
    ] as const,
    reduce: [],
  };
  // node 0: inputs 1 and 0 → edges 1, 0; node 1 (edges 2..4): inputs 2 and 0 → edges 4, 2
  assert.deepEqual(
    [...keptEdges(g, 'normal')],
    [
      [1, 'sep_conv_3x3'],
      [0, 'skip_connect'],
      [4, 'dil_conv_3x3'],
      [2, 'max_pool_3x3'],
    ],
  );
});

const snap = (step: number, w: number[][], ops = ['none', 'skip_connect', 'sep_conv_3x3', 'max_pool_3x3']): ArchSnapshot => ({
  epoch: 0,
  step,
  genotype: {
    ...({ format: 'lbt-genotype', version: 1, normalConcat: [2], reduceConcat: [2] } as const),
    normal: [
      ['sep_conv_3x3', 0],
      ['skip_connect', 1],
    ],
    reduce: [
      ['max_pool_3x3', 0],
      ['max_pool_3x3', 1],
    ],
  },
  ops,
  weights: { normal: w, reduce: w },
  betas: { normal: [0.6, 0.4], reduce: [0.5, 0.5] },
});

test('arch rows: w − 1/k per op, edge keys for the kept table, entropy and skip-connects, betas − 1/inputs', () => {
  const v = new ViewRows();
  const d = v.addSnapshot(
    snap(5, [
      [0.1, 0.2, 0.4, 0.3],
      [0.25, 0.25, 0.25, 0.25],
    ]),
  );
  assert.equal(d.arch?.length, 2 * 2 * 4);
  const r = d.arch?.find((x) => x.cell === 'normal' && x.e === 0 && x.op === 'sep_conv_3x3');
  assert.deepEqual(
    { ...r, dev: Math.round((r?.dev as number) * 1e12) / 1e12 },
    {
      ...{ step: 5, seq: 0, stage: 0, cell: 'normal', key: 'normal n0←k-2', edge: 'n0←k-2', e: 0, node: 'n0', input: 'k-2' },
      ...{ nodeIdx: 0, inputIdx: 0, op: 'sep_conv_3x3', w: 0.4, dev: 0.15 },
    },
  );
  assert.deepEqual(d.kept?.slice(0, 2), [
    { key: 'normal n0←k-2', keptOp: 'sep_conv_3x3' },
    { key: 'normal n0←k-1', keptOp: 'skip_connect' },
  ]);
  const h0 = -(0.1 * Math.log(0.1) + 0.2 * Math.log(0.2) + 0.4 * Math.log(0.4) + 0.3 * Math.log(0.3));
  const ent = d.archStats?.find((x) => x.panel === 'entropy (nats)' && x.series === 'normal')?.value as number;
  assert.ok(Math.abs(ent - (h0 + Math.log(4)) / 2) < 1e-12, 'mean over edges');
  assert.deepEqual(
    d.archStats?.filter((x) => x.panel === 'skip-connects').map((x) => [x.series, x.value]),
    [
      ['normal', 1],
      ['reduce', 0],
    ],
  );
  assert.deepEqual(
    d.betas?.filter((b) => b.cell === 'normal').map((b) => [b.input, Math.round(b.dev * 1e12) / 1e12]),
    [
      ['k-2', 0.1],
      ['k-1', -0.1],
    ],
  );
  // a later snapshot replaces the kept table and adds to the others
  v.addSnapshot(
    snap(10, [
      [0.25, 0.25, 0.25, 0.25],
      [0.25, 0.25, 0.25, 0.25],
    ]),
  );
  assert.equal(v.tables.arch.length, 32);
  assert.equal(v.tables.kept.length, 4);
});

const step = (s: number, time: number): StepRecord => ({
  kind: 'step',
  epoch: 0,
  step: s,
  lr: 0.1,
  teacher: { train: { loss: 2, acc: 0.5 } },
  teaching: { uARatio: 0.04, uTRatio: 0.02, aV: 1 },
  time,
});

test('record rows: curves per model and split, seconds per step between logged steps (not across a resume), teaching ratios', () => {
  const v = new ViewRows();
  v.addRecord({ kind: 'event', step: 0, event: 'start', plan: { totalSteps: 100, totalEpochs: 2 }, time: 0 });
  v.addRecord(step(5, 10));
  const d = v.addRecord(step(10, 22));
  assert.deepEqual(d.timing, [{ step: 10, secondsPerStep: 2.4 }]);
  assert.deepEqual(
    d.curves?.map((c) => [c.panel, c.who, c.split, c.value]),
    [
      ['loss', 'teacher', 'batch', 2],
      ['accuracy (%)', 'teacher', 'batch', 50],
    ],
  );
  assert.deepEqual(
    d.teaching?.map((t) => t.value),
    [0.04, 0.02],
  );
  v.addRecord({ kind: 'event', step: 10, event: 'resume', time: 30 });
  assert.equal(v.addRecord(step(15, 100)).timing, undefined, 'no pace across a restart');
  assert.deepEqual(v.progress, { step: 15, epochsDone: 0, stage: 0, time: 100, totalSteps: 100, totalEpochs: 2 });
  const train = new ViewRows('train').addRecord(step(5, 1));
  assert.equal(train.curves?.[0]?.who, 'network', 'a train run’s model is not a teacher');
});

const summary = (o: Partial<RunSummary>): RunSummary => ({
  format: 1,
  kind: 'search',
  status: 'running',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:01:40.000Z',
  wallSeconds: 100,
  phaseSeconds: {},
  sessions: 1,
  device: 'cpu',
  gitRev: null,
  host: 'h',
  node: 'v20',
  ...o,
});

test('header: planned totals from the config, progress, pace, ETA while running, time taken when finished', () => {
  assert.deepEqual(plannedTotals({ epochs: 3, batchSize: 32, stepsPerEpoch: null }, 800), { totalSteps: 75, totalEpochs: 3 });
  assert.deepEqual(
    plannedTotals({ epochs: 2, batchSize: 8, stepsPerEpoch: 4, method: 'p-darts', pdarts: { layers: [5, 11, 17] } }, 800),
    {
      totalSteps: 24,
      totalEpochs: 6,
    },
  );
  assert.deepEqual(plannedTotals({ epochs: 3, batchSize: 32 }, null), { totalSteps: null, totalEpochs: 3 });
  const v = new ViewRows();
  v.addRecord({ kind: 'event', step: 0, event: 'start', plan: { totalSteps: 75, totalEpochs: 3 }, time: 0 });
  for (const [s, t] of [
    [5, 20],
    [10, 40],
    [15, 60],
  ] as const)
    v.addRecord(step(s, t));
  const input = { config: { epochs: 3 }, progress: v.progress, timing: v.tables.timing, result: null };
  const h = runHeader({ ...input, summary: summary({}), now: Date.parse('2026-01-01T00:01:50.000Z') });
  assert.equal(h.secondsPerStep, 4);
  assert.equal(h.eta, 60 * 4, '60 steps left at 4 s each');
  assert.equal(h.elapsed, 110, 'run.json’s 100 s and 10 s since it was written');
  assert.equal(progressText(h), 'step 15/75 (20%) · epoch 1/3');
  assert.equal(timeText(h), '4.00 s/step · ETA 4m 0s · running 1m 50s');
  const done = runHeader({ ...input, summary: summary({ status: 'completed', wallSeconds: 3725 }) });
  assert.equal(timeText(done), '4.00 s/step · took 1h 2m');
  assert.equal(done.eta, null);
  const stale = runHeader({ ...input, summary: summary({}), stale: true });
  assert.equal(stale.state, 'stale');
  assert.equal(stale.eta, null);
});

test('thin keeps the first and the last snapshot and spaces the rest evenly', () => {
  const s = Array.from({ length: 1001 }, (_, i) => snap(i, [[1]]));
  const t = thin(s, 11);
  assert.deepEqual(
    t.map((x) => x.step),
    [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000],
  );
  assert.equal(thin(s.slice(0, 5), 11).length, 5);
});

test('P-DARTS: a stage’s end and the next stage’s start share a step; rows carry stage and seq; the "now" view draws the last snapshot only', async () => {
  const v = new ViewRows();
  const end = snap(6, [
    [0.1, 0.2, 0.4, 0.3],
    [0.4, 0.2, 0.3, 0.1],
  ]);
  const next: ArchSnapshot = {
    ...snap(6, [
      [0.5, 0.5],
      [0.5, 0.5],
    ]),
    stage: 1,
    ops: [],
    edgeOps: {
      normal: [
        ['sep_conv_3x3', 'max_pool_3x3'],
        ['none', 'skip_connect'],
      ],
      reduce: [
        ['sep_conv_3x3', 'max_pool_3x3'],
        ['none', 'skip_connect'],
      ],
    },
  };
  v.addSnapshot(end);
  const d = v.addSnapshot(next);
  assert.deepEqual([...new Set(v.tables.arch.map((r) => `${r.step}/${r.stage}/${r.seq}`))], ['6/0/0', '6/1/1']);
  assert.deepEqual(
    d.arch?.filter((r) => r.cell === 'normal' && r.e === 0).map((r) => [r.op, r.dev]),
    [
      ['sep_conv_3x3', 0],
      ['max_pool_3x3', 0],
    ],
    'uniform again over the 2 ops left: w − 1/2 = 0',
  );
  assert.deepEqual(
    d.archStats?.map((r) => r.stage),
    [1, 1, 1, 1],
  );
  const records = new ViewRows().addRecord({
    kind: 'step',
    epoch: 0,
    stage: 2,
    step: 9,
    lr: 0.1,
    teacher: { train: { loss: 1, acc: 0.5 } },
    time: 1,
  });
  assert.deepEqual(
    records.curves?.map((c) => c.stage),
    [2, 2],
  );
  const now = runViews('search', { method: 'p-darts' }).find((x) => x.id === 'arch-now');
  assert.ok(now);
  const svg = await renderSvg(withTables(now, v.tables));
  const cells = [...svg.matchAll(/>(0\.\d{3})</g)].map((m) => m[1]);
  assert.deepEqual(cells, Array(8).fill('0.500'), '2 cells × 2 edges × 2 ops of the stage-1 snapshot, none of stage 0');
});

const U4 = [0.25, 0.25, 0.25, 0.25];

test('a live history stays light: every stride-th snapshot and the latest; the stride doubles past the cap', () => {
  const v = new ViewRows('search', 4);
  const seqs = () => [...new Set(v.tables.arch.map((r) => r.seq))];
  const deltas = Array.from({ length: 13 }, (_, i) => {
    const d = v.addSnapshot(snap(10 * i, [U4, U4]));
    if (i === 4) assert.deepEqual([seqs(), v.thinning], [[0, 2, 4], 2], 'the fifth: every second kept');
    if (i === 7) assert.deepEqual(seqs(), [0, 2, 4, 6, 7], 'the latest besides the stride');
    return d;
  });
  assert.deepEqual(deltas[6]?.dropSeqs, [5], 'the previous latest, off the stride, leaves');
  assert.equal(deltas[7]?.dropSeqs, undefined, '6 is on the stride: it stays');
  assert.deepEqual([seqs(), v.thinning], [[0, 4, 8, 12], 4]);
  assert.equal(deltas[12]?.arch?.length, 2 * 2 * 4, 'the new snapshot’s rows');
  for (let i = 13; i < 500; i++) v.addSnapshot(snap(10 * i, [U4, U4]));
  assert.deepEqual([seqs(), v.thinning], [[0, 128, 256, 384, 499], 128], 'at most 4 on the stride and the latest');
  assert.equal(v.tables.archStats.length, 500 * 4, 'the small tables keep every snapshot');
  assert.equal(new ViewRows().thinning, 1, 'the report keeps them all');
});
