// Writes report.md and report.html into a run directory (used after `lbt search` / `lbt train`).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGenotype } from '../nas/genotype.js';
import { genotypeToDot } from '../nas/genotype-dot.js';
import { buildReport, type GenotypeDrawer } from '../report/report.js';

/** Draws a genotype with `lbt genotype draw`'s renderer (Graphviz DOT → SVG with @viz-js/viz). */
export const drawGenotype: GenotypeDrawer = async (g, title) => {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(genotypeToDot(parseGenotype(g), title), { format: 'svg', engine: 'dot' });
};

export async function writeRunReport(dir: string): Promise<string> {
  const report = await buildReport([dir], { title: `lbt run ${dir}`, drawGenotype });
  writeFileSync(join(dir, 'report.md'), report.markdown);
  const path = join(dir, 'report.html');
  writeFileSync(path, report.html);
  return path;
}
