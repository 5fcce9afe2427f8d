// The worker's side of a job's process: fork it with its slot's environment (one GPU visible, or a
// share of the cores), hand it the job, pass its progress on, and tell how it ended.
import { type ChildProcess, fork } from 'node:child_process';
import type { JobData, JobProgress, ReportJobResult, SeedJobResult } from './jobs.js';
import type { FailureKind, FromChild, ToChild } from './protocol.js';

/** One place a job can run: a GPU (CUDA_VISIBLE_DEVICES) or a share of the CPU cores (LBT_NUM_THREADS). */
export interface Slot {
  label: string;
  env: Record<string, string>;
}

/** How a job's process ended. */
export type JobOutcome =
  | { type: 'done'; value: SeedJobResult | ReportJobResult }
  | { type: 'failed'; kind: FailureKind; message: string }
  /** It exited without saying why (killed, out of memory, a native abort); `stderr` holds its last lines. */
  | { type: 'died'; code: number | null; signal: NodeJS.Signals | null; stderr: string };

export interface JobProcess {
  readonly pid: number | undefined;
  readonly outcome: Promise<JobOutcome>;
  /** Asks it to stop at its next step with a checkpoint. */
  stop(): void;
  /** Ends it at once (SIGKILL): the job's lock is gone, another worker may already run it. */
  kill(): void;
}

export interface SpawnOptions {
  /** The module the process runs (it calls serveJob). */
  entry: string;
  slot: Slot;
  job: JobData;
  runs: string;
  /** Break the run lock of a lost worker (ToChild 'run'). */
  breakLock: boolean;
  onProgress: (p: Omit<JobProgress, 'slot'>) => void;
  /** Each line the process writes to stderr (the worker's log). */
  onLog?: (line: string) => void;
}

const TAIL_LINES = 20;

/** Keeps the last lines of a stream and passes each line on. */
function tailOf(child: ChildProcess, onLine?: (line: string) => void): () => string {
  const lines: string[] = [];
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      onLine?.(l);
      lines.push(l);
      if (lines.length > TAIL_LINES) lines.shift();
    }
  });
  return () => [...lines, partial].filter((l) => l.trim() !== '').join('\n');
}

/** Forks the job's process and hands it the job. */
export function spawnJob(o: SpawnOptions): JobProcess {
  const child = fork(o.entry, [], {
    env: { ...process.env, ...o.slot.env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const tail = tailOf(child, o.onLog);
  let answer: JobOutcome | null = null;
  let stopAsked = false;
  child.on('message', (m: FromChild) => {
    if (m.type === 'ready') {
      child.send({ type: 'run', job: o.job, runs: o.runs, breakLock: o.breakLock } satisfies ToChild);
      if (stopAsked) child.send({ type: 'stop' } satisfies ToChild);
    } else if (m.type === 'progress') o.onProgress(m.progress);
    else answer = m;
  });
  const outcome = new Promise<JobOutcome>((done) => {
    child.on('error', (e) => {
      answer ??= { type: 'died', code: null, signal: null, stderr: e.message };
    });
    child.on('close', (code, signal) => done(answer ?? { type: 'died', code, signal, stderr: tail() }));
  });
  return {
    pid: child.pid,
    outcome,
    stop: () => {
      stopAsked = true;
      if (child.connected) child.send({ type: 'stop' } satisfies ToChild);
    },
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
