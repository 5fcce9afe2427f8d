// An independent reader of TensorBoard event files for tests: the TFRecord framing and the masked
// CRC32C written out here from the format's definition, CRCs by hash-wasm (not the writer's
// library) and the protobuf wire format by @bufbuild/protobuf (not the writer's protobufjs), with
// TensorFlow's field numbers (tensorboard/compat/proto event.proto, summary.proto, histogram.proto).
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { crc32 } from 'hash-wasm';

const CASTAGNOLI_REVERSED = 0x82f63b78;

export async function crc32c(bytes: Uint8Array): Promise<number> {
  return Number.parseInt(await crc32(bytes, CASTAGNOLI_REVERSED), 16);
}

export async function masked(bytes: Uint8Array): Promise<number> {
  const c = await crc32c(bytes);
  const rotated = ((c >>> 15) | (c << 17)) >>> 0;
  return (rotated + 0xa282ead8) % 2 ** 32;
}

/** Splits a TFRecord stream into its records' data, checking both CRCs of each; throws on any mismatch. */
export async function readRecords(buf: Uint8Array): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  while (p < buf.length) {
    if (p + 12 > buf.length) throw new Error(`record at ${p}: truncated header`);
    const len = Number(view.getBigUint64(p, true));
    if ((await masked(buf.subarray(p, p + 8))) !== view.getUint32(p + 8, true)) throw new Error(`record at ${p}: length CRC`);
    const data = buf.subarray(p + 12, p + 12 + len);
    if (p + 16 + len > buf.length) throw new Error(`record at ${p}: truncated data`);
    if ((await masked(data)) !== view.getUint32(p + 12 + len, true)) throw new Error(`record at ${p}: data CRC`);
    out.push(data);
    p += 16 + len;
  }
  return out;
}

export interface DecodedHisto {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}
export interface DecodedValue {
  tag: string;
  simpleValue?: number;
  histo?: DecodedHisto;
}
export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: DecodedValue[];
  sessionStatus?: number;
}

function packedDoubles(r: BinaryReader, wt: WireType): number[] {
  if (wt !== WireType.LengthDelimited) return [r.double()];
  const end = r.uint32() + r.pos;
  const out: number[] = [];
  while (r.pos < end) out.push(r.double());
  return out;
}

function decodeHisto(bytes: Uint8Array): DecodedHisto {
  const h: DecodedHisto = { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [], bucket: [] };
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [f, wt] = r.tag();
    if (f === 1) h.min = r.double();
    else if (f === 2) h.max = r.double();
    else if (f === 3) h.num = r.double();
    else if (f === 4) h.sum = r.double();
    else if (f === 5) h.sumSquares = r.double();
    else if (f === 6) h.bucketLimit.push(...packedDoubles(r, wt));
    else if (f === 7) h.bucket.push(...packedDoubles(r, wt));
    else r.skip(wt);
  }
  return h;
}

function decodeValue(bytes: Uint8Array): DecodedValue {
  const v: DecodedValue = { tag: '' };
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [f, wt] = r.tag();
    if (f === 1) v.tag = r.string();
    else if (f === 2 && wt === WireType.Bit32) v.simpleValue = r.float();
    else if (f === 5) v.histo = decodeHisto(r.bytes());
    else r.skip(wt);
  }
  return v;
}

export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  const e: DecodedEvent = { wallTime: 0, step: 0, values: [] };
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === WireType.Bit64) e.wallTime = r.double();
    else if (f === 2 && wt === WireType.Varint) e.step = Number(r.int64());
    else if (f === 3) e.fileVersion = r.string();
    else if (f === 5) {
      const s = new BinaryReader(r.bytes());
      while (s.pos < s.len) {
        const [sf, swt] = s.tag();
        if (sf === 1) e.values.push(decodeValue(s.bytes()));
        else s.skip(swt);
      }
    } else if (f === 7) {
      const s = new BinaryReader(r.bytes());
      while (s.pos < s.len) {
        const [sf, swt] = s.tag();
        if (sf === 1) e.sessionStatus = s.int32();
        else s.skip(swt);
      }
    } else r.skip(wt);
  }
  return e;
}

/** Every event of a file, every record's CRCs checked. */
export async function readEventFile(buf: Uint8Array): Promise<DecodedEvent[]> {
  return (await readRecords(buf)).map(decodeEvent);
}
