// TensorBoard event files (events.out.tfevents.<seconds>.<host>): a TFRecord stream of `Event`
// protocol buffers, so that `tensorboard --logdir runs/` shows lbt runs. Encoding by protobufjs from
// the schema below, CRC32C by @aws-crypto/crc32c; this file only frames the records.
//
// TFRecord framing, per record:
//   uint64 length (little-endian) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
//   masked_crc32c(x) = ((c >>> 15) | (c << 17)) + 0xa282ead8  with c = crc32c(x)
import { crc32c } from '@aws-crypto/crc32c';
import { closeSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';

// The fields lbt writes, with TensorFlow's numbers (tensorboard/compat/proto: event.proto, summary.proto,
// histogram.proto). Unknown fields of the real messages are simply absent here.
const SCHEMA = `
syntax = "proto3";
package tensorboard;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
    SessionLog session_log = 7;
  }
}
message SessionLog {
  enum SessionStatus { STATUS_UNSPECIFIED = 0; START = 1; STOP = 2; CHECKPOINT = 3; }
  SessionStatus status = 1;
  string checkpoint_path = 2;
  string msg = 3;
}
message Summary {
  message Value {
    string tag = 1;
    oneof value {
      float simple_value = 2;
      HistogramProto histo = 5;
    }
  }
  repeated Value value = 1;
}
message HistogramProto {
  double min = 1;
  double max = 2;
  double num = 3;
  double sum = 4;
  double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}
`;

const root = protobuf.parse(SCHEMA, { keepCase: false }).root;
const EventType = root.lookupType('tensorboard.Event');

export const FILE_VERSION = 'brain.Event:2';
/** SessionLog.START: TensorBoard drops the events at or after this event's step that came before it. */
export const SESSION_START = 1;

export interface Histogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  /** Right edge of each bucket (the first bucket starts at min). */
  bucketLimit: number[];
  bucket: number[];
}

export interface SummaryValue {
  tag: string;
  simpleValue?: number;
  histo?: Histogram;
}

/** One Event message (camelCase field names of the schema above). */
export interface TfEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: { value: SummaryValue[] };
  sessionLog?: { status: number; msg?: string };
}

/** The TFRecord CRC: CRC32C rotated right by 15 bits plus a constant (so CRCs of CRCs are not trivial). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** Frames one record: length, its masked CRC, the data, the data's masked CRC. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** The protobuf bytes of one Event. */
export function encodeEvent(e: TfEvent): Uint8Array {
  const msg = EventType.fromObject(e);
  return EventType.encode(msg).finish();
}

/** A histogram of `values` over `buckets` equal buckets between their min and max. */
export function histogramOf(values: readonly number[], buckets = 30): Histogram {
  const xs = values.filter(Number.isFinite);
  const min = xs.length ? Math.min(...xs) : 0;
  const max = xs.length ? Math.max(...xs) : 0;
  const n = max > min ? buckets : 1;
  const width = (max - min) / n;
  const bucketLimit = Array.from({ length: n }, (_, i) => (i === n - 1 ? max : min + (i + 1) * width));
  const bucket = new Array<number>(n).fill(0);
  for (const x of xs) {
    const i = width > 0 ? Math.min(n - 1, Math.floor((x - min) / width)) : 0;
    bucket[i] = (bucket[i] as number) + 1;
  }
  return {
    min,
    max,
    num: xs.length,
    sum: xs.reduce((a, b) => a + b, 0),
    sumSquares: xs.reduce((a, b) => a + b * b, 0),
    bucketLimit,
    bucket,
  };
}

/** `events.out.tfevents.<seconds>.<host>`, TensorFlow's name (TensorBoard reads files with this prefix). */
export function eventFileName(wallTime: number, host = hostname()): string {
  return `events.out.tfevents.${Math.floor(wallTime)}.${host}`;
}

export interface EventWriterOptions {
  /** Seconds since the Unix epoch of the file's first event (default: now). */
  wallTime?: number;
  host?: string;
}

/**
 * Appends events to a new event file in `dir`. Every event is one write call, so a reader (or a
 * killed writer) sees whole records, except possibly a torn last one.
 */
export class EventWriter {
  private fd: number | null;
  readonly path: string;

  constructor(dir: string, o: EventWriterOptions = {}) {
    const wallTime = o.wallTime ?? Date.now() / 1000;
    let name = eventFileName(wallTime, o.host);
    // a second writer in the same second (a quick resume) gets its own file: TensorBoard reads them in name order
    for (let k = 1; ; k++) {
      try {
        this.fd = openSync(join(dir, name), 'wx');
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        name = `${eventFileName(wallTime, o.host)}.${k}`;
      }
    }
    this.path = join(dir, name);
    this.write({ wallTime, step: 0, fileVersion: FILE_VERSION });
  }

  /** A session (re)starts at `step`: TensorBoard drops the events at or after it that it read before this one. */
  sessionStart(step: number, wallTime: number): void {
    this.write({ wallTime, step, sessionLog: { status: SESSION_START, msg: 'resumed from a checkpoint' } });
  }

  write(e: TfEvent): void {
    if (this.fd === null) throw new Error(`${this.path}: the event file is closed`);
    writeSync(this.fd, frameRecord(encodeEvent(e)));
  }

  /** One Event holding every finite value (TensorBoard's simple_value is float32). */
  scalars(step: number, wallTime: number, values: Readonly<Record<string, number>>): void {
    const value = Object.entries(values)
      .filter(([, v]) => Number.isFinite(v))
      .map(([tag, simpleValue]) => ({ tag, simpleValue }));
    if (value.length > 0) this.write({ wallTime, step, summary: { value } });
  }

  histograms(step: number, wallTime: number, values: Readonly<Record<string, readonly number[]>>): void {
    const value = Object.entries(values).map(([tag, xs]) => ({ tag, histo: histogramOf(xs) }));
    if (value.length > 0) this.write({ wallTime, step, summary: { value } });
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
