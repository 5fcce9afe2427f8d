// Cell drawings for reports: a genotype as Graphviz DOT (src/nas), rendered to SVG by @viz-js/viz.
import { parseGenotype } from '../nas/genotype.js';
import { genotypeToDot, MAX_DRAWN_NODES } from '../nas/genotype-dot.js';
import type { GenotypeDrawer } from './report.js';

/** Draws both cells of a genotype as one SVG (the renderer of `lbt genotype draw`). */
export const drawGenotype: GenotypeDrawer = async (g, title) => {
  const genotype = parseGenotype(g);
  const nodes = Math.max(genotype.normal.length, genotype.reduce.length) / 2;
  if (nodes > MAX_DRAWN_NODES)
    // a report still gets written: the cell is listed, not drawn
    return `<svg xmlns="http://www.w3.org/2000/svg" width="420" height="24"><text x="4" y="16">cells of ${nodes} nodes: too large to draw</text></svg>`;
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(genotypeToDot(genotype, title), { format: 'svg', engine: 'dot' });
};
