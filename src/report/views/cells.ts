// The derived cells of a genotype drawn as SVG: Graphviz DOT (src/nas) laid out by @viz-js/viz,
// the renderer of `lbt genotype draw`. Loaded on first use.
import { parseGenotype } from '../../nas/genotype.js';
import { genotypeToDot, MAX_DRAWN_NODES } from '../../nas/genotype-dot.js';

let viz: Promise<{ renderString(dot: string, o: { format: 'svg'; engine: 'dot' }): string }> | null = null;

/**
 * Both cells of `g` as one SVG document; cells too large to draw get a one-line SVG saying so (a
 * report is still written). Throws GenotypeFormatError on a malformed genotype.
 */
export async function drawCells(g: unknown, title = ''): Promise<string> {
  const genotype = parseGenotype(g);
  const nodes = Math.max(genotype.normal.length, genotype.reduce.length) / 2;
  if (nodes > MAX_DRAWN_NODES)
    return `<svg xmlns="http://www.w3.org/2000/svg" width="420" height="24"><text x="4" y="16">cells of ${nodes} nodes: too large to draw</text></svg>`;
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  return (await viz).renderString(genotypeToDot(genotype, title), { format: 'svg', engine: 'dot' });
}
