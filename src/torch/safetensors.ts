// Named tensors in the safetensors format: u64 little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, __metadata__?: {string: string}}, then raw bytes.
// No maintained npm library implements it (checked: `safetensors` 0.0.1 is a stub), so it is here.
import { tensor } from './creation.js';
import type { DType, Tensor } from './tensor.js';

// 16-bit floats (autocast's activations) are not stored: weights and optimizer state are float32.
type Stored = Exclude<DType, 'bfloat16' | 'float16'>;
const TO_ST: Record<Stored, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
const FROM_ST: Record<string, Stored> = Object.fromEntries(Object.entries(TO_ST).map(([k, v]) => [v, k as Stored]));
const SIZE: Record<Stored, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1 };

export class SafetensorsError extends Error {
  constructor(source: string, what: string) {
    super(`${source}: not a valid safetensors file: ${what}`);
    this.name = 'SafetensorsError';
  }
}

/** Serialises tensors (copied to CPU) with optional string metadata. */
export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const dtype = t.dtype;
    if (dtype === 'bfloat16' || dtype === 'float16')
      throw new SafetensorsError(name, `${dtype} tensors are not saved (convert to float32 first)`);
    const d = t.data();
    const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    header[name] = { dtype: TO_ST[dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keep data 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

export interface Decoded {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Parses and validates a safetensors buffer; `source` names the file in errors. */
export function decodeSafetensors(buf: Uint8Array, source = 'safetensors'): Decoded {
  if (buf.length < 8) throw new SafetensorsError(source, `${buf.length} bytes is shorter than the 8-byte header length`);
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (n > buf.length - 8)
    throw new SafetensorsError(source, `header of ${n} bytes runs past the end (${buf.length} bytes; truncated?)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (e) {
    throw new SafetensorsError(source, `header is not JSON (${(e as Error).message})`);
  }
  const data = buf.subarray(8 + n);
  const tensors = new Map<string, Tensor>();
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  try {
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = raw as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
      const dtype = FROM_ST[e.dtype ?? ''];
      if (!dtype) throw new SafetensorsError(source, `${name}: unsupported dtype ${e.dtype}`);
      if (!Array.isArray(e.shape) || !Array.isArray(e.data_offsets))
        throw new SafetensorsError(source, `${name}: missing shape or data_offsets`);
      const [b, end] = e.data_offsets;
      const count = e.shape.reduce((a, s) => a * s, 1);
      if (end - b !== count * SIZE[dtype] || b < 0 || end > data.length) {
        throw new SafetensorsError(
          source,
          `${name}: data_offsets [${b}, ${end}] do not fit shape [${e.shape}] ${dtype} in ${data.length} data bytes`,
        );
      }
      // a copy into a fresh, aligned buffer (Node's Buffer.slice would be a view into a shared pool)
      const bytes = new Uint8Array(data.subarray(b, end));
      const view =
        dtype === 'float32'
          ? new Float32Array(bytes.buffer)
          : dtype === 'float64'
            ? new Float64Array(bytes.buffer)
            : dtype === 'int64'
              ? new BigInt64Array(bytes.buffer)
              : dtype === 'int32'
                ? new Int32Array(bytes.buffer)
                : bytes;
      tensors.set(name, tensor(view, e.shape, { dtype, device: 'cpu' }));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}
