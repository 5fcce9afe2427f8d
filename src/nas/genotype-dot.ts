// A cell as a Graphviz DOT graph: inputs c_{k-2}, c_{k-1}, nodes 0..n-1, output c_{k}.
import { type Gene, type Genotype, GenotypeFormatError } from './genotype.js';

/** Nodes per cell that a drawing takes (DARTS cells have 4); Graphviz's layout of thousands runs for hours. */
export const MAX_DRAWN_NODES = 64;

function cluster(name: string, label: string, genes: readonly Gene[], concat: readonly number[]): string[] {
  const id = (s: number) => (s === 0 ? `${name}_in0` : s === 1 ? `${name}_in1` : `${name}_n${s - 2}`);
  const lines = [
    `  subgraph cluster_${name} {`,
    `    label="${label}"; fontsize=20; style=rounded;`,
    `    ${name}_in0 [label="c_{k-2}", fillcolor=darkseagreen2];`,
    `    ${name}_in1 [label="c_{k-1}", fillcolor=darkseagreen2];`,
  ];
  const nodes = genes.length / 2;
  for (let i = 0; i < nodes; i++) lines.push(`    ${name}_n${i} [label="${i}", fillcolor=lightblue];`);
  lines.push(`    ${name}_out [label="c_{k}", fillcolor=palegoldenrod];`);
  genes.forEach(([op, input], k) => {
    lines.push(`    ${id(input)} -> ${name}_n${Math.floor(k / 2)} [label="${op}", fillcolor=gray];`);
  });
  for (const s of concat) lines.push(`    ${id(s)} -> ${name}_out [fillcolor=gray];`);
  lines.push('  }');
  return lines;
}

/** Both cells of a genotype in one DOT graph (left to right); a cell of more than MAX_DRAWN_NODES nodes is refused. */
export function genotypeToDot(g: Genotype, title = ''): string {
  const nodes = Math.max(g.normal.length, g.reduce.length) / 2;
  if (nodes > MAX_DRAWN_NODES)
    throw new GenotypeFormatError(`a cell of ${nodes} nodes is too large to draw (at most ${MAX_DRAWN_NODES})`);
  return [
    'digraph genotype {',
    '  rankdir=LR; fontname=helvetica;',
    ...(title ? [`  label="${title.replace(/"/g, '\\"')}"; labelloc=t;`] : []),
    '  node [style="rounded,filled", shape=rect, align=center, fontsize=16, height=0.5, width=0.5, penwidth=2, fontname=helvetica];',
    '  edge [fontsize=14, fontname=helvetica];',
    ...cluster('normal', 'normal cell', g.normal, g.normalConcat),
    ...cluster('reduce', 'reduction cell', g.reduce, g.reduceConcat),
    '}',
    '',
  ].join('\n');
}
