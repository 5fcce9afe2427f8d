// A stand-in for a job's process (src/queue/child.ts) that speaks the same protocol and does no
// work, so the worker's handling of each ending is tested in seconds. By the seed of its job:
// 0 bad input, 1 a crash with a message, 2 killed by a signal, 3 runs until told to stop (and says
// whether it was told to break a run lock), else done.
import type { FromChild, ToChild } from '../../src/queue/protocol.js';

const send = (m: FromChild) => new Promise<void>((done) => process.send?.(m, undefined, {}, () => done()));
const finish = (m: FromChild, code: number) => send(m).then(() => process.exit(code));

process.on('disconnect', () => process.exit(75));
process.on('message', (m: ToChild) => {
  if (m.type === 'stop')
    return void finish({ type: 'failed', kind: 'interrupted', message: 'interrupted search; checkpoint saved in X' }, 1);
  if (m.job.kind === 'report') return void finish({ type: 'done', value: { report: `${m.job.experiment}/report.md` } }, 0);
  const seed = m.job.seed;
  if (seed === 0) return void finish({ type: 'failed', kind: 'input', message: '/nowhere: no such dataset' }, 1);
  if (seed === 1) return void finish({ type: 'failed', kind: 'error', message: 'flaky' }, 1);
  if (seed === 2) {
    process.stderr.write('about to die\n');
    return void process.kill(process.pid, 'SIGKILL');
  }
  if (seed === 3) {
    process.stderr.write(`run: breakLock=${m.breakLock}\n`);
    return void send({ type: 'progress', progress: { phase: 'search', step: 2, totalSteps: 9, epoch: 0, totalEpochs: 3 } });
  }
  void finish({ type: 'done', value: { seed, dir: `${m.job.experiment}/seed-${seed}`, testError: 12.5 } }, 0);
});
void send({ type: 'ready' });
