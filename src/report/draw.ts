// Cell drawings for reports: a genotype as Graphviz DOT (src/nas), rendered to SVG by @viz-js/viz.
import { parseGenotype } from '../nas/genotype.js';
import { genotypeToDot } from '../nas/genotype-dot.js';
import type { GenotypeDrawer } from './report.js';

/** Draws both cells of a genotype as one SVG (the renderer of `lbt genotype draw`). */
export const drawGenotype: GenotypeDrawer = async (g, title) => {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(genotypeToDot(parseGenotype(g), title), { format: 'svg', engine: 'dot' });
};
