// Vega-Lite specs of a run's views over the named tables of rows.ts. The data stays out of the
// spec (`data: {name}`): the static report puts the rows in as `datasets` and renders SVG in Node;
// the live page renders the same spec in the browser and inserts rows as they arrive.
import { PRIMITIVES } from '../../nas/primitives.js';
import type { TableName } from './rows.js';

export type Spec = Record<string, unknown>;

/** One color per op, the same in every chart: convolutions blue/green, pools gray/brown, skip red. */
export const OP_COLORS: Readonly<Record<string, string>> = {
  none: '#c7c7c7',
  max_pool_3x3: '#7f7f7f',
  avg_pool_3x3: '#8c564b',
  skip_connect: '#d62728',
  sep_conv_3x3: '#1f77b4',
  sep_conv_5x5: '#17becf',
  dil_conv_3x3: '#2ca02c',
  dil_conv_5x5: '#bcbd22',
};
const opColor = {
  field: 'op',
  type: 'nominal',
  title: 'op',
  scale: { domain: [...PRIMITIVES], range: PRIMITIVES.map((p) => OP_COLORS[p]) },
  legend: { orient: 'top', columns: 4, labelLimit: 120 },
};

const data = (name: TableName) => ({ name });
/** State index → k-2, k-1, n0, ... as a Vega expression over datum.value. */
const STATE_NAME = "datum.value == 0 ? 'k-2' : datum.value == 1 ? 'k-1' : 'n' + (datum.value - 2)";
const stepX = { field: 'step', type: 'quantitative', title: 'step', axis: { tickMinStep: 1, format: 'd' } };
const lookupKept = { lookup: 'key', from: { data: data('kept'), key: 'key', fields: ['keptOp'] } };
const isWinner = 'datum.keptOp != null && datum.keptOp === datum.op';

/** A dotted rule where each P-DARTS stage after the first starts, from the chart's own rows (none for one stage). */
const stageRule = {
  transform: [{ filter: 'datum.stage > 0' }, { aggregate: [{ op: 'min', field: 'step', as: 'step' }], groupby: ['stage'] }],
  mark: { type: 'rule', color: '#444', strokeDash: [1, 2] },
  encoding: { x: stepX, tooltip: [{ field: 'stage', title: 'P-DARTS stage starts' }, { field: 'step' }] },
};

/** Where the weights are now: per edge (rows) and op (columns), colored by w − 1/k; the kept op of each kept edge framed. */
export function archNowSpec(): Spec {
  return {
    title: {
      text: 'which ops are winning: softmax(α) now, minus the uniform 1/k',
      subtitle: 'framed: the op the derived cell keeps on that edge',
    },
    data: data('arch'),
    transform: [
      { joinaggregate: [{ op: 'max', field: 'seq', as: 'last' }] },
      { filter: 'datum.seq === datum.last' },
      lookupKept,
      { calculate: `${isWinner} ? 1 : 0`, as: 'won' },
    ],
    facet: { column: { field: 'cell', type: 'nominal', title: null, sort: ['normal', 'reduce'], header: { labelFontSize: 13 } } },
    spec: {
      width: { step: 36 },
      height: { step: 16 },
      encoding: {
        x: { field: 'op', type: 'nominal', sort: [...PRIMITIVES], title: null, axis: { labelAngle: -40, orient: 'top' } },
        y: { field: 'edge', type: 'nominal', sort: { field: 'e' }, title: null },
      },
      layer: [
        {
          mark: { type: 'rect', stroke: 'black' },
          encoding: {
            color: {
              field: 'dev',
              type: 'quantitative',
              title: 'w − 1/k',
              scale: { scheme: 'redblue', domainMid: 0, reverse: true },
              legend: { orient: 'right', format: '+.2~r' },
            },
            strokeWidth: { field: 'won', type: 'quantitative', scale: { domain: [0, 1], range: [0, 2.5] }, legend: null },
            tooltip: [
              { field: 'edge' },
              { field: 'op' },
              { field: 'w', format: '.4f', title: 'weight' },
              { field: 'dev', format: '+.4f', title: 'w − 1/k' },
            ],
          },
        },
        { mark: { type: 'text', fontSize: 8 }, encoding: { text: { field: 'w', type: 'quantitative', format: '.3f' } } },
      ],
    },
  };
}

/**
 * How they got there: one panel per edge (row: the node, column: its input), each op's w − 1/k over
 * the steps, the zero line the uniform start; kept edges shaded and their kept op drawn thick.
 */
export function archMovesSpec(cell: 'normal' | 'reduce'): Spec {
  const base = [{ filter: `datum.cell === '${cell}'` }, lookupKept];
  return {
    title: {
      text: `${cell} cell: each edge's op weights over the search, as w − 1/k`,
      subtitle: 'shaded: an edge the derived cell keeps (its op thick, named)',
    },
    data: data('arch'),
    transform: base,
    facet: {
      row: {
        field: 'nodeIdx',
        type: 'ordinal',
        title: 'to',
        header: { titleAngle: 0, labelAngle: 0, labelFontSize: 12, labelExpr: "'n' + datum.value" },
      },
      column: { field: 'inputIdx', type: 'ordinal', title: 'from', header: { labelFontSize: 12, labelExpr: STATE_NAME } },
    },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 130,
      height: 70,
      view: { stroke: null }, // the grid's empty cells (no such edge) stay blank; edges get the frame below
      layer: [
        {
          transform: [{ aggregate: [{ op: 'count', as: 'n' }] }, { filter: 'datum.n > 0' }],
          mark: { type: 'rect', fill: null, stroke: '#ccc' },
          encoding: { x: { value: 0 }, x2: { value: 130 }, y: { value: 0 }, y2: { value: 70 } },
        },
        {
          transform: [{ filter: 'datum.keptOp != null' }, { aggregate: [{ op: 'count', as: 'n' }], groupby: ['keptOp'] }],
          mark: { type: 'rect', color: '#fff3c4' },
          encoding: { x: { value: 0 }, x2: { value: 130 }, y: { value: 0 }, y2: { value: 70 } },
        },
        { mark: { type: 'rule', color: '#999', strokeDash: [3, 2] }, encoding: { y: { datum: 0 } } },
        stageRule,
        {
          mark: { type: 'line', interpolate: 'monotone', clip: true },
          encoding: {
            x: stepX,
            y: {
              field: 'dev',
              type: 'quantitative',
              title: null,
              scale: { zero: true, nice: false, padding: 4 }, // a thick line at the extreme is not cut
              axis: { format: '+.2~r', tickCount: 3 },
            },
            color: opColor,
            detail: { field: 'stage' }, // a P-DARTS stage starts its ops over from uniform
            strokeWidth: { condition: { test: isWinner, value: 3 }, value: 1.1 },
            tooltip: [{ field: 'op' }, { field: 'step' }, { field: 'w', format: '.4f', title: 'weight' }],
          },
        },
        {
          transform: [{ filter: 'datum.keptOp != null' }, { aggregate: [{ op: 'count', as: 'n' }], groupby: ['keptOp'] }],
          mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 10, fontWeight: 'bold' },
          encoding: { text: { field: 'keptOp' }, x: { value: 3 }, y: { value: 2 } },
        },
      ],
    },
  };
}

/**
 * Teacher and student loss and accuracy over the steps: one color per model, the line style the
 * split (a step's batch thin and faint; epoch means on train solid, validation dashed; D_u dotted).
 */
const MODEL_COLORS: Readonly<Record<string, string>> = {
  teacher: '#1f77b4',
  network: '#1f77b4',
  student: '#ff7f0e',
  'student-teacher agreement': '#2ca02c',
  'pseudo-label accuracy': '#9467bd',
};

/** `models`: the series the run has (teacher alone for plain DARTS, network for a train run). */
export function curvesSpec(models: readonly string[] = Object.keys(MODEL_COLORS).filter((m) => m !== 'network')): Spec {
  const scale = { domain: [...models], range: models.map((m) => MODEL_COLORS[m] ?? '#777') };
  return {
    title: models.includes('student') ? 'teacher and student' : models.join(', '),
    data: data('curves'),
    transform: [{ calculate: "datum.who + ' ' + datum.split", as: 'series' }],
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: ['loss', 'accuracy (%)'] } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 330,
      height: 200,
      layer: [stageRule, { mark: { type: 'line', point: { size: 16 } }, encoding: curveEncoding(scale) }],
    },
  };
}

function curveEncoding(scale: { domain: string[]; range: string[] }): Spec {
  return {
    x: stepX,
    y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
    color: {
      field: 'who',
      type: 'nominal',
      title: null,
      scale,
      legend: { orient: 'bottom', columns: 2, labelLimit: 220 },
    },
    detail: [{ field: 'series' }, { field: 'stage' }], // each P-DARTS stage trains a fresh teacher
    strokeDash: {
      field: 'split',
      type: 'nominal',
      title: null,
      scale: {
        domain: ['batch', 'train', 'val', 'unlabeled'],
        range: [
          [1, 0],
          [1, 0],
          [6, 3],
          [2, 2],
        ],
      },
      legend: {
        orient: 'bottom',
        labelExpr:
          "datum.label == 'batch' ? 'one batch (faint)' : datum.label == 'train' ? 'epoch mean, train' : datum.label == 'val' ? 'validation' : 'on D_u'",
      },
    },
    opacity: { condition: { test: "datum.split === 'batch'", value: 0.35 }, value: 1 },
    tooltip: [{ field: 'series' }, { field: 'step' }, { field: 'value', format: '.4f' }],
  };
}

/** Mean entropy of the edges' op weights (log k when uniform) and skip-connects of the derived cells. */
export function archStatsSpec(): Spec {
  return {
    title: 'architecture entropy and skip-connects',
    data: data('archStats'),
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: ['entropy (nats)', 'skip-connects'] } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 250,
      height: 150,
      layer: [
        stageRule,
        {
          mark: { type: 'line', point: { size: 14 } },
          encoding: {
            x: stepX,
            y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
            color: { field: 'series', type: 'nominal', title: 'cell' },
            detail: { field: 'stage' },
            tooltip: [{ field: 'series' }, { field: 'step' }, { field: 'value', format: '.4f' }],
          },
        },
      ],
    },
  };
}

export function timingSpec(): Spec {
  return {
    title: 'seconds per step',
    data: data('timing'),
    width: 250,
    height: 150,
    mark: { type: 'line', point: { size: 14 } },
    encoding: {
      x: stepX,
      y: { field: 'secondsPerStep', type: 'quantitative', title: null, scale: { zero: true } },
      tooltip: [{ field: 'step' }, { field: 'secondsPerStep', format: '.3f', title: 's/step' }],
    },
  };
}

/** How much the student moves A: its parts of the hypergradient against the teacher's own. */
export function teachingSpec(): Spec {
  return {
    title: {
      text: 'teaching signal: the student’s share of dO_v/dA',
      subtitle: 'ratio of the student term to the teacher term, per logged step',
    },
    data: data('teaching'),
    width: 330,
    height: 150,
    layer: [
      stageRule,
      {
        mark: { type: 'line', point: { size: 14 } },
        encoding: {
          x: stepX,
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: true } },
          color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400, columns: 1 } },
          detail: { field: 'stage' },
          tooltip: [{ field: 'series' }, { field: 'step' }, { field: 'value', format: '.4f' }],
        },
      },
    ],
  };
}

/** PC-DARTS edge weights: softmax(β) over each node's inputs, minus the uniform 1/(inputs). */
export function betasSpec(): Spec {
  return {
    title: 'PC-DARTS edge weights β, minus the uniform 1/(inputs of the node)',
    data: data('betas'),
    facet: {
      row: { field: 'cell', type: 'nominal', title: null, sort: ['normal', 'reduce'] },
      column: { field: 'node', type: 'nominal', title: 'to' },
    },
    spec: {
      width: 130,
      height: 80,
      layer: [
        { mark: { type: 'rule', color: '#999', strokeDash: [3, 2] }, encoding: { y: { datum: 0 } } },
        {
          mark: { type: 'line', point: { size: 10 } },
          encoding: {
            x: stepX,
            y: { field: 'dev', type: 'quantitative', title: null, axis: { format: '+.2~r', tickCount: 3 } },
            color: { field: 'input', type: 'nominal', title: 'from', sort: ['k-2', 'k-1', 'n0', 'n1', 'n2'] },
            tooltip: [{ field: 'input' }, { field: 'step' }, { field: 'b', format: '.4f', title: 'β weight' }],
          },
        },
      ],
    },
  };
}
