import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlphasFormatError, deriveGenotype, parseAlphas } from '../../src/nas/alphas.js';
import {
  GENOTYPES,
  GenotypeFormatError,
  genotypeFromJSON,
  genotypesEqual,
  genotypeToJSON,
  parseGenotype,
  toGenotypeFile,
} from '../../src/nas/genotype.js';
import { genotypeToDot } from '../../src/nas/genotype-dot.js';

describe('built-in genotypes', () => {
  test('DARTS is DARTS_V2, verbatim from the reference', () => {
    assert.equal(GENOTYPES.DARTS, GENOTYPES.DARTS_V2);
    assert.equal(GENOTYPES.PCDARTS, GENOTYPES.PC_DARTS_cifar);
    assert.deepEqual(GENOTYPES.DARTS_V2.normal, [
      ['sep_conv_3x3', 0],
      ['sep_conv_3x3', 1],
      ['sep_conv_3x3', 0],
      ['sep_conv_3x3', 1],
      ['sep_conv_3x3', 1],
      ['skip_connect', 0],
      ['skip_connect', 0],
      ['dil_conv_3x3', 2],
    ]);
    assert.deepEqual(GENOTYPES.PDARTS.reduce.at(-1), ['dil_conv_5x5', 3]);
    assert.deepEqual(GENOTYPES.PC_DARTS_image.normal.at(-1), ['dil_conv_5x5', 4]);
    for (const g of Object.values(GENOTYPES)) {
      assert.deepEqual(g.normalConcat, [2, 3, 4, 5]);
      assert.equal(g.normal.length, 8);
    }
  });

  test('genotypes are frozen', () => {
    const g = GENOTYPES.DARTS_V1;
    assert.ok(Object.isFrozen(g) && Object.isFrozen(g.normal) && Object.isFrozen(g.normal[0]));
    assert.throws(() => {
      (g.normal as unknown as unknown[]).push(['none', 0]);
    }, TypeError);
  });
});

describe('genotype JSON', () => {
  test('round trip of every built-in genotype', () => {
    for (const [name, g] of Object.entries(GENOTYPES)) {
      const text = genotypeToJSON(g, name);
      const back = genotypeFromJSON(text);
      assert.ok(genotypesEqual(g, back), name);
      assert.deepEqual(back, g);
      const f = JSON.parse(text);
      assert.equal(f.format, 'lbt-genotype');
      assert.equal(f.version, 1);
      assert.equal(f.name, name);
    }
  });

  const good = () => toGenotypeFile(GENOTYPES.PDARTS) as unknown as Record<string, unknown>;
  const fails = (mutate: (f: Record<string, unknown>) => void, pattern: RegExp) => {
    const f = good();
    mutate(f);
    assert.throws(
      () => parseGenotype(f),
      (err: Error) => err instanceof GenotypeFormatError && pattern.test(err.message),
    );
  };

  test('malformed genotypes fail naming the field', () => {
    fails((f) => {
      delete f.normalConcat;
    }, /normalConcat:/);
    fails((f) => {
      (f.normal as unknown[][])[2] = ['conv_9x9', 0];
    }, /normal\[2\]\[0\]:/);
    fails((f) => {
      (f.reduce as unknown[][])[6] = ['sep_conv_3x3', 5];
    }, /reduce\[6\]\[1\]: node 3 can only read states 0\.\.4, got input 5/);
    fails((f) => {
      (f.normal as unknown[][])[1] = ['sep_conv_3x3', 2];
    }, /normal\[1\]\[1\]: node 0 can only read states 0\.\.1/);
    fails((f) => {
      f.version = 2;
    }, /version:/);
    fails((f) => {
      f.format = 'darts';
    }, /format:/);
    fails((f) => {
      f.extra = 1;
    }, /extra/);
    fails((f) => {
      (f.normal as unknown[]).pop();
    }, /normal: needs two genes per node, got 7/);
    fails((f) => {
      f.reduceConcat = [2, 3, 9];
    }, /reduceConcat\[2\]: state 9 does not exist/);
    assert.throws(() => genotypeFromJSON('{"format":'), /not JSON/);
  });
});

describe('alphas files', () => {
  const rows = (n: number, c = 8) => Array.from({ length: n }, () => new Array(c).fill(0));
  test('valid DARTS and PC-DARTS files derive genotypes', () => {
    const v = parseAlphas({ normal: rows(14), reduce: rows(14) }, 'darts');
    assert.deepEqual(deriveGenotype('darts', v).normal[0], ['max_pool_3x3', 0]);
    const betas = new Array(14).fill(0);
    const p = parseAlphas({ normal: rows(14), reduce: rows(14), betasNormal: betas, betasReduce: betas }, 'pc-darts');
    assert.deepEqual(deriveGenotype('pc-darts', p).reduce[0], ['max_pool_3x3', 0]);
    assert.deepEqual(deriveGenotype('p-darts', v).normal[0], ['dil_conv_5x5', 0]);
  });

  test('malformed alphas fail naming the field', () => {
    const bad = (json: unknown, space: 'darts' | 'pc-darts', pattern: RegExp) =>
      assert.throws(
        () => parseAlphas(json, space),
        (e: Error) => e instanceof AlphasFormatError && pattern.test(e.message),
      );
    bad({ normal: rows(13), reduce: rows(14) }, 'darts', /normal: must hold 14 rows/);
    const r = rows(14);
    r[3] = [0, 0, 0];
    bad({ normal: rows(14), reduce: r }, 'darts', /reduce\[3\]: must hold 8 numbers/);
    const n = rows(14);
    (n[0] as unknown[])[2] = 'x';
    bad({ normal: n, reduce: rows(14) }, 'darts', /normal\[0\]\[2\]:/);
    bad({ normal: rows(14), reduce: rows(14) }, 'pc-darts', /betasNormal:/);
    bad({ normal: rows(14) }, 'darts', /reduce:/);
  });
});

describe('DOT drawing', () => {
  test('one edge per gene plus the concatenated outputs, in two clusters', () => {
    const dot = genotypeToDot(GENOTYPES.DARTS_V2, 'DARTS_V2');
    assert.equal((dot.match(/ -> normal_n/g) ?? []).length, 8);
    assert.equal((dot.match(/ -> reduce_out/g) ?? []).length, 4);
    assert.match(dot, /normal_n0 -> normal_n3 \[label="dil_conv_3x3"/);
    assert.match(dot, /subgraph cluster_reduce/);
  });
});
