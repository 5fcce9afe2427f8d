// Which views a run gets, in page order, and the tables each reads. The live page and the static
// report both take this list, so they show the same charts in the same order.
import type { TableName, ViewTables } from './rows.js';
import {
  archMovesSpec,
  archNowSpec,
  archStatsSpec,
  betasSpec,
  curvesSpec,
  type Spec,
  teachingSpec,
  timingSpec,
} from './specs.js';

export interface ViewDef {
  id: string;
  spec: Spec;
  /** Tables the spec reads; the view is shown once the first of them has rows. */
  tables: readonly TableName[];
  /** A short explanation shown under the chart. */
  caption: string;
}

type Obj = Record<string, unknown>;

/** The views of a search run (config: its config.json) or of a train run. */
export function runViews(kind: 'search' | 'train', config: Obj): ViewDef[] {
  const curves: ViewDef = {
    id: 'curves',
    spec: curvesSpec(
      kind === 'train'
        ? ['network']
        : config.lbt === false
          ? ['teacher']
          : ['teacher', 'student', 'student-teacher agreement', 'pseudo-label accuracy'],
    ),
    tables: ['curves'],
    caption: 'Per logged step: the last batch (faint). Per epoch: train means and validation.',
  };
  const timing: ViewDef = {
    id: 'timing',
    spec: timingSpec(),
    tables: ['timing'],
    caption: 'Wall seconds per step between logged steps.',
  };
  if (kind === 'train') return [curves, timing];
  const views: ViewDef[] = [
    {
      id: 'arch-now',
      spec: archNowSpec(),
      tables: ['arch', 'kept'],
      caption: 'Red: above the uniform 1/k (k ops on the edge), blue: below. The derived cell takes the framed ops.',
    },
    {
      id: 'arch-normal',
      spec: archMovesSpec('normal'),
      tables: ['arch', 'kept'],
      caption: 'Each panel one edge (row: the node it feeds, column: its input); the dashed line is uniform.',
    },
    { id: 'arch-reduce', spec: archMovesSpec('reduce'), tables: ['arch', 'kept'], caption: 'The same for the reduction cell.' },
    curves,
    {
      id: 'arch-stats',
      spec: archStatsSpec(),
      tables: ['archStats'],
      caption:
        'Mean entropy of the edges’ op weights (uniform over 8 ops: ln 8 = 2.079) and skip-connects in each derived cell. Dotted: a P-DARTS stage starts.',
    },
  ];
  if (config.method === 'pc-darts')
    views.push({ id: 'betas', spec: betasSpec(), tables: ['betas'], caption: 'PC-DARTS edge normalisation, per node.' });
  if (config.lbt !== false)
    views.push({
      id: 'teaching',
      spec: teachingSpec(),
      tables: ['teaching'],
      caption: 'How much the student moves A: its terms of the hypergradient against the teacher’s own (see README).',
    });
  views.push(timing);
  return views;
}

/** A spec with the tables it reads put in (Vega-Lite `datasets`). */
export function withTables(v: ViewDef, tables: ViewTables): Spec {
  return { ...v.spec, datasets: Object.fromEntries(v.tables.map((t) => [t, tables[t]])) };
}

/** True when the view has something to show. */
export function hasData(v: ViewDef, tables: ViewTables): boolean {
  return v.tables.some((t) => t !== 'kept' && tables[t].length > 0);
}
