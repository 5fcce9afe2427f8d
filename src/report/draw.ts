// Cell drawings for reports: a genotype as Graphviz DOT (src/nas), rendered to SVG by @viz-js/viz
// (views/cells.ts, which the live pages of `lbt serve` use too).
import type { GenotypeDrawer } from './report.js';
import { drawCells } from './views/cells.js';

/** Draws both cells of a genotype as one SVG (the renderer of `lbt genotype draw`). */
export const drawGenotype: GenotypeDrawer = (g, title) => drawCells(g, title);
