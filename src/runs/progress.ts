// Progress output of a run: on a terminal a bar over all steps with an ETA (cli-progress) and the
// epoch lines printed above it; elsewhere one concise line per epoch; nothing with quiet.
// The stream is passed in (the CLI gives process.stderr); nothing here writes to process directly.
import cliProgress from 'cli-progress';
import type { EpochRecord, LossAcc, ModelMetrics } from './types.js';

export interface ProgressOptions {
  /** Steps in the whole run (all epochs, all stages): the bar and the ETA run over these. */
  totalSteps: number;
  /** Epochs in the whole run (P-DARTS: stages x epochs per stage). */
  totalEpochs: number;
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  quiet?: boolean;
  /** Force the terminal (true) or line (false) mode; default: stream.isTTY. */
  tty?: boolean;
  /** Steps already done when the run resumed (the ETA counts only this session's rate). */
  startStep?: number;
  label?: string;
}

export interface StepInfo {
  epoch: number;
  stage?: number;
  loss?: number;
  acc?: number;
}

export interface Progress {
  /** Global steps done so far. */
  step(done: number, info: StepInfo): void;
  /** Prints the epoch's line (above the bar on a terminal). */
  epoch(rec: EpochRecord): void;
  /** Prints a message line (a stage change, a resume...). */
  message(text: string): void;
  stop(): void;
}

/** 3725 → "1h02m", 605 → "10m05s", 42.3 → "42s". */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const r = Math.round(s);
  if (r >= 3600) return `${Math.floor(r / 3600)}h${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}m`;
  if (r >= 60) return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
  return `${r}s`;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const la = (m: LossAcc | undefined) => (m ? `${m.loss.toFixed(3)}/${pct(m.acc)}` : '-');
const model = (name: string, m: ModelMetrics | undefined) =>
  m ? `${name} train ${la(m.train)}${m.val ? ` val ${la(m.val)}` : ''}` : '';

/** One line summarising an epoch record: losses/accuracies, agreement, alpha entropy, skips, time, ETA. */
export function formatEpochLine(rec: EpochRecord, totalEpochs: number, etaSeconds?: number): string {
  const parts = [
    `epoch ${rec.epoch + 1}/${totalEpochs}${rec.stage !== undefined ? ` stage ${rec.stage + 1}` : ''}`,
    `lr ${rec.lr.toPrecision(3)}`,
    model('teacher', rec.teacher),
    model('student', rec.student),
    rec.agreement !== undefined ? `agree ${pct(rec.agreement)}` : '',
    rec.pseudoAcc !== undefined ? `pseudo ${pct(rec.pseudoAcc)}` : '',
    rec.alphaEntropy ? `H(α) ${rec.alphaEntropy.normal.toFixed(3)}/${rec.alphaEntropy.reduce.toFixed(3)}` : '',
    rec.skipConnects !== undefined ? `skip ${rec.skipConnects}` : '',
    `${rec.seconds.toFixed(1)}s${rec.dataSeconds !== undefined && rec.seconds > 0 ? ` (data ${pct(rec.dataSeconds / rec.seconds)})` : ''}`,
    etaSeconds !== undefined ? `ETA ${formatDuration(etaSeconds)}` : '',
  ];
  return parts.filter((p) => p !== '').join(' | ');
}

class Silent implements Progress {
  step(): void {}
  epoch(): void {}
  message(): void {}
  stop(): void {}
}

/** Line mode: an ETA from this session's step rate. */
class Lines implements Progress {
  private readonly t0 = Date.now();
  private done: number;
  constructor(protected readonly o: ProgressOptions) {
    this.done = o.startStep ?? 0;
  }
  step(done: number, _info?: StepInfo): void {
    this.done = done;
  }
  eta(): number | undefined {
    const start = this.o.startStep ?? 0;
    const rate = (this.done - start) / ((Date.now() - this.t0) / 1000);
    return rate > 0 ? (this.o.totalSteps - this.done) / rate : undefined;
  }
  epoch(rec: EpochRecord): void {
    this.o.stream.write(`${formatEpochLine(rec, this.o.totalEpochs, this.eta())}\n`);
  }
  message(text: string): void {
    this.o.stream.write(`${text}\n`);
  }
  stop(): void {}
}

class Bar extends Lines {
  private readonly multi: cliProgress.MultiBar;
  private readonly bar: cliProgress.SingleBar;
  constructor(o: ProgressOptions) {
    super(o);
    this.multi = new cliProgress.MultiBar(
      {
        stream: o.stream,
        format: `${o.label ? `${o.label} ` : ''}[{bar}] {value}/{total} steps | epoch {ep} | {info} | {duration_formatted} ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        barsize: 24,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar = this.multi.create(o.totalSteps, o.startStep ?? 0, { ep: '-', info: '' });
  }
  override step(done: number, info: StepInfo): void {
    super.step(done, info);
    const ep = `${info.epoch + 1}/${this.o.totalEpochs}${info.stage !== undefined ? ` s${info.stage + 1}` : ''}`;
    const loss = info.loss !== undefined ? `loss ${info.loss.toFixed(3)}` : '';
    const acc = info.acc !== undefined ? ` acc ${pct(info.acc)}` : '';
    this.bar.update(done, { ep, info: loss + acc });
  }
  override epoch(rec: EpochRecord): void {
    this.multi.log(`${formatEpochLine(rec, this.o.totalEpochs)}\n`);
  }
  override message(text: string): void {
    this.multi.log(`${text}\n`);
  }
  override stop(): void {
    this.multi.stop();
  }
}

export function createProgress(o: ProgressOptions): Progress {
  if (o.quiet) return new Silent();
  return (o.tty ?? o.stream.isTTY === true) ? new Bar(o) : new Lines(o);
}
