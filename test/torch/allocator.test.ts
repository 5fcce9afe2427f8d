// The caching CPU allocator: RSS stays flat when the working set is larger than the cache (the
// case that grew RSS by 0.75-1.4 GB per step of a DARTS supernet before large blocks were mmap'd).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const script = `
import * as t from './dist/src/torch/index.js';
const ws = [16, 32, 64].map((c, i) => t.keep(t.randn([c * 2, i ? c : 3, 3, 3]).requiresGrad_()));
const x = t.keep(t.randn([32, 3, 48, 48]).contiguous(true));
const step = () => t.scope(() => {
  let h = x;
  for (const w of ws) h = t.maxPool2d(t.conv2d(h, w, null, { padding: 1 }).relu(), 2);
  h.square().mean().backward();
  for (const w of ws) w.grad = null;
});
for (let i = 0; i < 5; i++) step();
const before = process.memoryUsage().rss;
for (let i = 0; i < 40; i++) step();
console.log(JSON.stringify({ before, after: process.memoryUsage().rss, cached: t.cachedBytes() }));
`;

test('RSS stays flat over 40 steps whose working set exceeds a 16 MiB cache', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, LBT_CPU_CACHE_MB: '16', LBT_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const { before, after, cached } = JSON.parse(r.stdout.trim()) as { before: number; after: number; cached: number };
  assert.ok(cached <= 16 * 2 ** 20, `cache holds ${cached} bytes, over its 16 MiB cap`);
  assert.ok(after < before * 1.05, `RSS grew from ${(before / 2 ** 20).toFixed(0)} to ${(after / 2 ** 20).toFixed(0)} MiB`);
});
