// Placeholder until the retrain module lands: the search's short retrain of the found cell.
import type { SearchData } from '../data/index.js';
import type { Genotype } from '../nas/genotype.js';
import type { SearchConfig } from './config.js';
import type { RunDir } from './run-dir.js';

export async function retrainAfterSearch(
  _cfg: SearchConfig,
  _g: Genotype,
  _run: RunDir,
  _data: SearchData,
  _quiet: boolean,
): Promise<{ testAcc: number; testError: number; params: number }> {
  throw new Error('retrain is not wired yet');
}
