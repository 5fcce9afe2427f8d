// The derived cells of a genotype drawn as SVG: Graphviz DOT (src/nas) laid out by @viz-js/viz,
// the renderer of `lbt genotype draw`. Loaded on first use.
import { parseGenotype } from '../../nas/genotype.js';
import { genotypeToDot } from '../../nas/genotype-dot.js';

let viz: Promise<{ renderString(dot: string, o: { format: 'svg'; engine: 'dot' }): string }> | null = null;

/** Both cells of `g` as one SVG document. Throws GenotypeFormatError on a malformed genotype. */
export async function drawCells(g: unknown, title = ''): Promise<string> {
  const dot = genotypeToDot(parseGenotype(g), title);
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  return (await viz).renderString(dot, { format: 'svg', engine: 'dot' });
}
