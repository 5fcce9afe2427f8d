// Charts of a run as Vega-Lite specs, rendered to SVG in Node by Vega (headless, no canvas, no
// network: every dataset is inline). Vega is loaded on first use so other commands start fast.
import type { ArchSnapshot, EpochRecord, MetricsRecord } from '../runs/types.js';

type Spec = Record<string, unknown>;

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: Spec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Edge index → "n1←k-2" for a DARTS cell, named as `lbt genotype draw` names them: k-2 and k-1 are
 * the cell inputs, n0, n1, ... the intermediate nodes.
 */
export function edgeLabels(edges: number): string[] {
  const out: string[] = [];
  const from = (j: number) => (j === 0 ? 'k-2' : j === 1 ? 'k-1' : `n${j - 2}`);
  for (let node = 0; out.length < edges; node++)
    for (let j = 0; j < node + 2 && out.length < edges; j++) out.push(`n${node}←${from(j)}`);
  return out;
}

/** Long-form rows for the architecture-weight heatmap of one cell type. */
export function heatmapRows(snaps: readonly ArchSnapshot[], cell: 'normal' | 'reduce') {
  const rows: { x: string; row: string; weight: number }[] = [];
  snaps.forEach((s, k) => {
    const w = s.weights[cell];
    const labels = edgeLabels(w.length);
    w.forEach((edge, i) => {
      const ops = s.edgeOps?.[cell][i] ?? s.ops;
      edge.forEach((v, j) => {
        rows.push({ x: xLabel(s, k), row: `${labels[i]} ${ops[j] ?? j}`, weight: v });
      });
    });
  });
  return rows;
}

function xLabel(s: { epoch: number; stage?: number }, _k: number): string {
  return s.stage === undefined ? String(s.epoch + 1) : `${s.stage + 1}.${s.epoch + 1}`;
}

export function heatmapSpec(snaps: readonly ArchSnapshot[], cell: 'normal' | 'reduce'): Spec {
  const rows = heatmapRows(snaps, cell);
  const order = [...new Set(rows.map((r) => r.row))];
  const xs = [...new Set(rows.map((r) => r.x))];
  return {
    title: `${cell} cell: softmax(α) per edge and operation, by epoch`,
    data: { values: rows },
    mark: 'rect',
    width: Math.max(120, Math.min(700, xs.length * 12)),
    height: { step: 7 },
    encoding: {
      x: { field: 'x', type: 'ordinal', title: 'epoch', sort: xs, axis: { labelAngle: 0, labelOverlap: true } },
      y: { field: 'row', type: 'ordinal', title: null, sort: order, axis: { labelFontSize: 6 } },
      color: { field: 'weight', type: 'quantitative', scale: { scheme: 'viridis', domain: [0, 1] }, title: 'weight' },
      tooltip: [{ field: 'row' }, { field: 'x' }, { field: 'weight', format: '.3f' }],
    },
  };
}

/** Long-form rows of the teacher/student curves (loss and accuracy, train and val) from epoch records. */
export function curveRows(metrics: readonly MetricsRecord[]) {
  const epochs = metrics.filter((m): m is EpochRecord => m.kind === 'epoch');
  const rows: { epoch: number; series: string; metric: string; value: number }[] = [];
  epochs.forEach((r, k) => {
    for (const who of ['teacher', 'student'] as const) {
      const m = r[who];
      for (const split of ['train', 'val'] as const) {
        const v = m?.[split];
        if (!v) continue;
        const series = `${who} ${split}`;
        if (Number.isFinite(v.loss)) rows.push({ epoch: k + 1, series, metric: 'loss', value: v.loss });
        if (Number.isFinite(v.acc)) rows.push({ epoch: k + 1, series, metric: 'accuracy (%)', value: 100 * v.acc });
      }
    }
    if (r.agreement !== undefined)
      rows.push({ epoch: k + 1, series: 'student-teacher agreement', metric: 'accuracy (%)', value: 100 * r.agreement });
    if (r.pseudoAcc !== undefined)
      rows.push({ epoch: k + 1, series: 'pseudo-label accuracy', metric: 'accuracy (%)', value: 100 * r.pseudoAcc });
  });
  return rows;
}

export function curvesSpec(metrics: readonly MetricsRecord[]): Spec | null {
  const rows = curveRows(metrics);
  if (rows.length === 0) return null;
  return {
    title: 'teacher and student, per epoch',
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: ['loss', 'accuracy (%)'] } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 300,
      height: 200,
      mark: { type: 'line', point: rows.length < 200 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 300 } },
        strokeDash: {
          condition: { test: "indexof(datum.series, 'val') >= 0", value: [4, 2] },
          value: [1, 0],
        },
      },
    },
  };
}

/** Alpha entropy (both cells) and skip-connects in the normal cell per epoch. */
export function searchStatsSpec(metrics: readonly MetricsRecord[]): Spec | null {
  const rows: { epoch: number; series: string; value: number }[] = [];
  metrics
    .filter((m): m is EpochRecord => m.kind === 'epoch')
    .forEach((r, k) => {
      if (r.alphaEntropy) {
        rows.push({ epoch: k + 1, series: 'entropy normal', value: r.alphaEntropy.normal });
        rows.push({ epoch: k + 1, series: 'entropy reduce', value: r.alphaEntropy.reduce });
      }
      if (r.skipConnects !== undefined) rows.push({ epoch: k + 1, series: 'skip-connects (normal)', value: r.skipConnects });
    });
  if (rows.length === 0) return null;
  return {
    title: 'alpha entropy (nats) and skip-connects',
    data: { values: rows },
    width: 300,
    height: 160,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: null },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}
