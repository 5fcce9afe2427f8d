// `lbt genotype derive|draw`: derive a genotype from architecture values; draw its cells as SVG.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AlphasFormatError, deriveGenotype, parseAlphas } from '../../nas/alphas.js';
import {
  GENOTYPES,
  type Genotype,
  GenotypeFormatError,
  genotypeFromJSON,
  genotypeToJSON,
  isGenotypeName,
} from '../../nas/genotype.js';
import { genotypeToDot } from '../../nas/genotype-dot.js';
import type { SearchSpace } from '../../nas/supernet.js';
import { RunDirError } from '../../runs/errors.js';
import { osErrorText, readRunFile } from '../../runs/files.js';
import { UserError } from '../errors.js';

const SPACES: readonly SearchSpace[] = ['darts', 'pc-darts', 'p-darts'];

/** The most a genotype or alphas file may be: a DARTS genotype is under 1 KB. */
const MAX_INPUT_BYTES = 16 * 2 ** 20;

function readText(file: string, what: string): string {
  try {
    return readRunFile(file, what, MAX_INPUT_BYTES).toString('utf8');
  } catch (err) {
    throw new UserError(err instanceof RunDirError ? err.message : `cannot read ${what} ${file}: ${osErrorText(err)}`);
  }
}

/** A built-in genotype name (DARTS_V2, PDARTS, ...) or a genotype JSON file. */
export function loadGenotypeArg(arg: string): { genotype: Genotype; name: string } {
  if (isGenotypeName(arg)) return { genotype: GENOTYPES[arg], name: arg };
  const text = readText(arg, `genotype file (or name: one of ${Object.keys(GENOTYPES).join(', ')})`);
  try {
    return { genotype: genotypeFromJSON(text), name: arg };
  } catch (err) {
    if (err instanceof GenotypeFormatError) throw new UserError(`${arg}: ${err.message}`);
    throw err;
  }
}

export function parseIntArg(flag: string, v: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${flag} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export function registerGenotype(program: Command): void {
  const cmd = program.command('genotype').description('derive genotypes from architecture values, and draw them');

  cmd
    .command('derive')
    .description('derive a genotype from raw alphas (JSON: normal/reduce [14][8], PC-DARTS also betasNormal/betasReduce [14])')
    .requiredOption('--space <space>', `search space: ${SPACES.join(', ')}`)
    .requiredOption('--alphas <file>', 'architecture values (raw, pre-softmax, PRIMITIVES column order)')
    .option('--max-skip <m>', 'P-DARTS: at most this many skip_connect in the normal cell', '2')
    .action((o: { space: string; alphas: string; maxSkip: string }) => {
      if (!(SPACES as readonly string[]).includes(o.space)) {
        throw new UserError(`--space must be one of ${SPACES.join(', ')}, got '${o.space}'`);
      }
      const space = o.space as SearchSpace;
      let json: unknown;
      try {
        json = JSON.parse(readText(o.alphas, 'alphas file'));
      } catch (err) {
        if (err instanceof UserError) throw err;
        throw new UserError(`${o.alphas}: not JSON (${(err as Error).message})`);
      }
      try {
        const values = parseAlphas(json, space);
        const g = deriveGenotype(space, values, { maxSkip: parseIntArg('--max-skip', o.maxSkip, 0) });
        process.stdout.write(genotypeToJSON(g));
      } catch (err) {
        if (err instanceof AlphasFormatError || err instanceof RangeError) throw new UserError(`${o.alphas}: ${err.message}`);
        throw err;
      }
    });

  cmd
    .command('draw')
    .description('draw the normal and reduction cells of a genotype (built-in name or JSON file) as SVG')
    .argument('<genotype>', `a genotype file or one of ${Object.keys(GENOTYPES).join(', ')}`)
    .requiredOption('--out <file>', 'SVG file to write')
    .option('--dot', 'write the Graphviz DOT source instead of SVG')
    .action(async (arg: string, o: { out: string; dot?: boolean }) => {
      const { genotype, name } = loadGenotypeArg(arg);
      let dot: string;
      try {
        dot = genotypeToDot(genotype, name);
      } catch (err) {
        if (err instanceof GenotypeFormatError) throw new UserError(`${arg}: ${err.message}`);
        throw err;
      }
      let text = dot;
      if (!o.dot) {
        const { instance } = await import('@viz-js/viz');
        text = (await instance()).renderString(dot, { format: 'svg', engine: 'dot' });
      }
      try {
        writeFileSync(o.out, text);
      } catch (err) {
        throw new UserError(`cannot write ${o.out}: ${osErrorText(err)}`);
      }
      process.stdout.write(`wrote ${o.out}\n`);
    });
}
