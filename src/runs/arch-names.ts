// Names of a DARTS cell's edges and which of them a genotype keeps, for logs, TensorBoard tags and
// views. Edge i of a cell with nodes n0, n1, ... runs from input j of its node: k-2 and k-1 are the
// cell inputs (states 0 and 1), n0, n1, ... the intermediate nodes (states 2, 3, ...), in the order
// of the architecture weights' rows (node 0's 2 edges, node 1's 3, ...).
/** The cells of a genotype as its file holds them: [op, input state] per gene, two genes per node. */
export interface GenotypeCells {
  normal: readonly (readonly [string, number])[];
  reduce: readonly (readonly [string, number])[];
}

/** State s as `lbt genotype draw` names it: k-2, k-1, n0, n1, ... */
export function stateName(s: number): string {
  return s === 0 ? 'k-2' : s === 1 ? 'k-1' : `n${s - 2}`;
}

/** Node and input state of each of `edges` edges. */
export function edgeEnds(edges: number): { node: number; input: number }[] {
  const out: { node: number; input: number }[] = [];
  for (let node = 0; out.length < edges; node++)
    for (let input = 0; input < node + 2 && out.length < edges; input++) out.push({ node, input });
  return out;
}

/** Edge index → "n1←k-2". */
export function edgeLabels(edges: number): string[] {
  return edgeEnds(edges).map(({ node, input }) => `n${node}←${stateName(input)}`);
}

/** Index of the first edge of `node` (node 0's edges are 0 and 1, node 1's 2..4, ...). */
export function firstEdgeOf(node: number): number {
  return (node * (node + 3)) / 2;
}

/** The edges a genotype's cell keeps, as edge index → op (gene k belongs to node ⌊k/2⌋). */
export function keptEdges(g: GenotypeCells, cell: 'normal' | 'reduce'): Map<number, string> {
  const out = new Map<number, string>();
  g[cell].forEach(([op, input], k) => {
    out.set(firstEdgeOf(Math.floor(k / 2)) + input, op);
  });
  return out;
}
