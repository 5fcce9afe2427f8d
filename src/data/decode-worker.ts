// The worker side of DecodePool: decode + transform a chunk of folder images.
import { parentPort } from 'node:worker_threads';
import type { DecodeJob } from './decode-pool.js';
import { DatasetFormatError } from './errors.js';
import { Rng } from './rng.js';
import { folderWriter } from './transforms.js';

parentPort!.on('message', ({ id, job }: { id: number; job: DecodeJob }) => {
  try {
    const write = folderWriter(job.files, job.meta, job.aug);
    const per = job.meta.shape[0] * job.meta.shape[1] * job.meta.shape[2];
    const x = new Float32Array(job.files.length * per);
    for (let k = 0; k < job.files.length; k++) write(k, new Rng(job.seeds[k]!), x, k * per);
    parentPort!.postMessage({ id, x }, [x.buffer]);
  } catch (err) {
    const file = err instanceof DatasetFormatError ? err.file : null;
    const message = err instanceof DatasetFormatError ? err.detail : (err as Error).message;
    parentPort!.postMessage({ id, error: { file, message } });
  }
});
