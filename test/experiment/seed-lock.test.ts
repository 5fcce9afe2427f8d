// A seed's run lock and the queue: a seed directory that another host's lock holds is refused
// (RunLockedError, which a queued job retries), and taken when the seed runs with breakLock (a job
// whose earlier worker was lost). Both stop before any work: the data set named here is missing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { jobFailure } from '../../src/cli/job-failure.js';
import { loadSearchConfig } from '../../src/config/load.js';
import { DatasetNotFoundError } from '../../src/data/errors.js';
import { runSeed } from '../../src/experiment/experiment.js';
import { RunLockedError } from '../../src/runs/errors.js';
import { writeForeignLock } from '../runs/run-files.js';

const base = mkdtempSync(join(tmpdir(), 'lbt-seed-lock-'));
after(() => rmSync(base, { recursive: true, force: true }));

test('a seed directory locked by another host: refused (a queued job retries it), taken with breakLock', async () => {
  const dir = join(base, 'seed-0');
  mkdirSync(dir);
  const lock = writeForeignLock(dir);
  const cfg = loadSearchConfig({ sets: ['dataset.dir=/nonexistent/lbt-data', 'retrain=null'] });

  const refused = await runSeed({}, 0, cfg, dir).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(refused instanceof RunLockedError, String(refused));
  assert.match(refused.message, /is in use by pid 1 on host not-/);
  assert.equal(jobFailure(refused).kind, 'error', 'retried, not failed once: the holder may finish or die');
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.lock'), 'utf8')).host, lock.host, 'the lock is untouched');

  await assert.rejects(runSeed({ breakLock: true }, 0, cfg, dir), DatasetNotFoundError, 'past the lock, to the data');
});
