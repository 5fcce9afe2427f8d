// run.json of a new run: what it is, where and by what it runs (host, device, git revision, Node).
import { execFileSync } from 'node:child_process';
import { cpus, hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { RUN_FORMAT, type RunKind, type RunSummary } from './types.js';

/** What run.json records of how a run was started (RunDir.create's options). */
export interface SummaryOptions {
  kind: RunKind;
  label?: string;
  preset?: string;
  device?: string;
  deviceName?: string;
  command?: string[];
  /** For a train run: the search run whose genotype it trains. */
  searchRun?: string;
}

const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The git revision of the lbt checkout, or null (installed package, no git). */
export function gitRevision(cwd = PACKAGE_ROOT): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return out.toString().trim() || null;
  } catch {
    return null;
  }
}

export function cpuName(): string {
  const c = cpus();
  return `${c.length}-core ${c[0]?.model?.trim() ?? 'CPU'}`;
}

/** run.json of a new run, status running. */
export function newSummary(o: SummaryOptions): RunSummary {
  const now = new Date().toISOString();
  return {
    format: RUN_FORMAT,
    kind: o.kind,
    status: 'running',
    ...(o.label !== undefined && { label: o.label }),
    ...(o.preset !== undefined && { preset: o.preset }),
    createdAt: now,
    updatedAt: now,
    wallSeconds: 0,
    phaseSeconds: {},
    sessions: 1,
    device: o.device ?? 'cpu',
    deviceName: o.deviceName ?? cpuName(),
    gitRev: gitRevision(),
    pid: process.pid,
    host: hostname(),
    node: process.version,
    ...(o.command !== undefined && { command: o.command }),
    ...(o.searchRun !== undefined && { searchRun: o.searchRun }),
  };
}
