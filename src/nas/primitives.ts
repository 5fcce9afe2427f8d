// The DARTS operation set. The order is the reference order: it fixes the alpha columns and
// breaks ties when a genotype is derived (lower index wins).

export const PRIMITIVES = [
  'none',
  'max_pool_3x3',
  'avg_pool_3x3',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'dil_conv_3x3',
  'dil_conv_5x5',
] as const;

export type Primitive = (typeof PRIMITIVES)[number];

export function isPrimitive(s: string): s is Primitive {
  return (PRIMITIVES as readonly string[]).includes(s);
}

/** Number of edges of a cell with `steps` intermediate nodes: Σ_{i<steps} (2 + i); 14 for 4 steps. */
export function numEdges(steps: number): number {
  return (steps * (steps + 3)) / 2;
}

/** The edge index range [start, start + count) of node i's incoming edges (inputs 0..i+1). */
export function nodeEdges(node: number): { start: number; count: number } {
  return { start: (node * (node + 3)) / 2, count: node + 2 };
}
