// Result tables in the form of the paper's Tables 2-4: method, test error mean±std over runs,
// parameters (M), search cost in measured device-hours; one table per evaluation dataset.
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { meanStd } from '../runs/metrics.js';
import { type RunData, readRun } from '../runs/run-dir.js';

const METHOD_NAMES: Record<string, string> = { 'pc-darts': 'PC-DARTS', 'p-darts': 'P-DARTS' };
const DATASET_NAMES: Record<string, string> = {
  cifar10: 'CIFAR-10',
  cifar100: 'CIFAR-100',
  'fashion-mnist': 'Fashion-MNIST',
  imagenet: 'ImageNet',
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});

export function datasetName(id: string): string {
  return DATASET_NAMES[id] ?? id;
}

/** "LBT(RN18,DARTS-2nd)", "DARTS-2nd", "LBT(RN50,P-DARTS) student only λ=0.5" from a search config. */
export function methodLabel(searchConfig: Obj): string {
  const method = String(searchConfig.method ?? 'darts');
  const base = METHOD_NAMES[method] ?? `DARTS-${searchConfig.order === 'first' ? '1st' : '2nd'}`;
  if (searchConfig.lbt === false) return base;
  const s = obj(searchConfig.student);
  const reduced = (s.width !== undefined && s.width !== 1) || (s.blocks !== undefined && s.blocks !== null);
  const student = `${s.arch === 'resnet50' ? 'RN50' : 'RN18'}${reduced ? '-reduced' : ''}`;
  const extras: string[] = [];
  if (searchConfig.studentOnly) extras.push('student only');
  if (searchConfig.pseudoOnly) extras.push('pseudo only');
  if (searchConfig.paperForm) extras.push('paper form');
  if (searchConfig.lambda !== undefined && searchConfig.lambda !== 1) extras.push(`λ=${searchConfig.lambda}`);
  if (searchConfig.gamma !== undefined && searchConfig.gamma !== 1) extras.push(`γ=${searchConfig.gamma}`);
  return [`LBT(${student},${base})`, ...extras].join(' ');
}

/** One run as a table entry. */
export interface RunEntry {
  run: RunData;
  /** The search run that found the architecture (the run itself for a search run), if readable. */
  search: RunData | null;
  label: string;
  /** Dataset the test error is measured on. */
  dataset: string;
  testError: number | null;
  top5Error: number | null;
  paramsM: number | null;
  /** Measured search time in hours on `device`. */
  searchHours: number | null;
  device: string | null;
}

function searchSeconds(r: RunData): number {
  return r.summary.phaseSeconds?.search ?? r.summary.wallSeconds;
}

export function toEntry(run: RunData): RunEntry {
  let search: RunData | null = run.summary.kind === 'search' ? run : null;
  if (!search && run.summary.searchRun) {
    const p = resolve(run.dir, run.summary.searchRun);
    if (existsSync(p)) search = readRun(p);
  }
  // a search run's result is its retrain's: on retrain.dataset when that names another data set
  const evalDs = run.summary.kind === 'search' ? obj(obj(run.config.retrain).dataset).name : undefined;
  const ds = String(evalDs ?? obj(run.config.dataset).name ?? obj(search?.config.dataset).name ?? '?');
  let label = run.summary.label ?? (search ? (search.summary.label ?? methodLabel(search.config)) : null);
  if (!label) label = `genotype ${String(run.config.genotype ?? basename(run.dir))}`;
  const searchDs = search ? String(obj(search.config.dataset).name ?? ds) : ds;
  if (searchDs !== ds) {
    // searched on one data set, evaluated on another: "LBT(RN50,P-DARTS,CIFAR10)", "P-DARTS(CIFAR10)" (Table 4)
    const where = datasetName(searchDs).replace('-', '');
    label = label.endsWith(')') ? `${label.slice(0, -1)},${where})` : `${label}(${where})`;
  }
  return {
    run,
    search,
    label,
    dataset: ds,
    testError: run.result?.testError ?? null,
    top5Error: run.result?.top5Error ?? null,
    paramsM: run.result?.paramsM ?? null,
    searchHours: search ? searchSeconds(search) / 3600 : null,
    device: search?.summary.deviceName ?? search?.summary.device ?? null,
  };
}

export interface TableRow {
  label: string;
  error: string;
  top5: string;
  params: string;
  cost: string;
  runs: number;
}

export interface ResultTable {
  dataset: string;
  title: string;
  hasTop5: boolean;
  rows: TableRow[];
  devices: string[];
}

/** "2.61±0.05" (n > 1), "2.61" (n = 1), "-" (none). */
export function formatMeanStd(xs: readonly number[], digits = 2): string {
  if (xs.length === 0) return '-';
  const { mean, std } = meanStd(xs);
  return xs.length === 1 ? mean.toFixed(digits) : `${mean.toFixed(digits)}±${std.toFixed(digits)}`;
}

const values = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null && Number.isFinite(x));
const mean = (xs: number[], digits: number) => (xs.length ? meanStd(xs).mean.toFixed(digits) : '-');

/** Groups entries by (dataset, label) in order of first appearance; one table per dataset. */
export function buildTables(entries: readonly RunEntry[]): ResultTable[] {
  const byDataset = new Map<string, Map<string, RunEntry[]>>();
  for (const e of entries) {
    const d = byDataset.get(e.dataset) ?? new Map<string, RunEntry[]>();
    byDataset.set(e.dataset, d);
    d.set(e.label, [...(d.get(e.label) ?? []), e]);
  }
  return [...byDataset].map(([dataset, groups]) => {
    const all = [...groups.values()].flat();
    return {
      dataset,
      title: `Results on ${datasetName(dataset)}`,
      hasTop5: all.some((e) => e.top5Error !== null),
      devices: [...new Set(all.map((e) => e.device).filter((d): d is string => d !== null))],
      rows: [...groups].map(([label, es]) => ({
        label,
        error: formatMeanStd(values(es.map((e) => e.testError))),
        top5: formatMeanStd(values(es.map((e) => e.top5Error))),
        params: mean(values(es.map((e) => e.paramsM)), 2),
        cost: mean(values(es.map((e) => e.searchHours)), 2),
        runs: es.length,
      })),
    };
  });
}

export const TABLE_NOTE =
  'Error: test error (%), mean±std over runs (sample standard deviation, n−1). Param: parameters without the auxiliary head, in millions. Cost: measured wall time of the search, in device-hours.';

function headers(t: ResultTable): string[] {
  return [
    'Method',
    t.hasTop5 ? 'Top-1 Error (%)' : 'Error (%)',
    ...(t.hasTop5 ? ['Top-5 Error (%)'] : []),
    'Param (M)',
    'Cost (device-hours)',
    'Runs',
  ];
}

export function rowCells(t: ResultTable, r: TableRow): string[] {
  return [r.label, r.error, ...(t.hasTop5 ? [r.top5] : []), r.params, r.cost, String(r.runs)];
}

export function tableHeaders(t: ResultTable): string[] {
  return headers(t);
}

/** The tables as Markdown. */
export function tablesMarkdown(tables: readonly ResultTable[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out: string[] = [];
  for (const t of tables) {
    const h = headers(t);
    out.push(`## ${t.title}`, '', `| ${h.join(' | ')} |`, `|${h.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const r of t.rows) out.push(`| ${rowCells(t, r).map(esc).join(' | ')} |`);
    out.push('', `${TABLE_NOTE}${t.devices.length ? ` Device: ${t.devices.join('; ')}.` : ''}`, '');
  }
  return out.join('\n');
}
