// One image file: its header (size and colour channels, read without decoding) and its pixels.
// PNG and JPEG; anything else, an unreadable file or one that is not a regular file is a
// DatasetFormatError naming the file.
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DatasetFormatError } from './errors.js';
import { asDataFileError } from './files.js';

export interface DecodedImage {
  width: number;
  height: number;
  /** RGB, HWC (grey images expanded, alpha dropped). */
  rgb: Uint8Array;
}

/** What an image file's header says. channels: 1 for grey (with or without alpha), 3 for colour. */
export interface ImageHeader {
  width: number;
  height: number;
  channels: 1 | 3;
}

/** Reads a regular file; a FIFO or device is refused before it can block (opened non-blocking, then checked). */
function readRegular(file: string, limit = Number.POSITIVE_INFINITY): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw asDataFileError(err, file, 'cannot read the image file');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DatasetFormatError(file, 'not a regular file (an image must be a file)');
    if (limit >= st.size) return readFileSync(fd);
    const buf = Buffer.alloc(limit);
    const n = readSync(fd, buf, 0, limit, 0);
    return buf.subarray(0, n);
  } catch (err) {
    if (err instanceof DatasetFormatError) throw err;
    throw asDataFileError(err, file, 'cannot read the image file');
  } finally {
    closeSync(fd);
  }
}

const isPng = (b: Uint8Array) => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isJpeg = (b: Uint8Array) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8;

/** PNG IHDR: width, height (bytes 16-23), colour type (byte 25: 0 grey, 4 grey+alpha, 2/3/6 colour). */
function pngHeader(file: string, b: Buffer): ImageHeader {
  if (b.length < 26 || b.toString('latin1', 12, 16) !== 'IHDR') throw new DatasetFormatError(file, 'PNG without an IHDR header');
  const colour = b[25]!;
  if (![0, 2, 3, 4, 6].includes(colour))
    throw new DatasetFormatError(file, `PNG colour type ${colour} is not one of 0, 2, 3, 4, 6`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), channels: colour === 0 || colour === 4 ? 1 : 3 };
}

/** The first SOFn marker: height, width, components (1 grey, 3 YCbCr, 4 CMYK). null: not within b. */
function jpegHeader(file: string, b: Buffer): ImageHeader | null {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw new DatasetFormatError(file, `JPEG marker expected at byte ${i}`);
    const m = b[i + 1]!;
    if (m === 0xff) {
      i++; // fill byte
      continue;
    }
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      i += 2;
      continue;
    }
    const len = b.readUInt16BE(i + 2);
    const sof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
    if (sof) {
      if (i + 10 > b.length) return null;
      const comps = b[i + 9]!;
      if (comps !== 1 && comps !== 3 && comps !== 4) throw new DatasetFormatError(file, `JPEG with ${comps} components`);
      return { width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5), channels: comps === 1 ? 1 : 3 };
    }
    if (m === 0xda || m === 0xd9) throw new DatasetFormatError(file, 'JPEG without a frame header before its scan');
    i += 2 + len;
  }
  return null;
}

const PROBE_BYTES = 4096;

/** Size and channels from the header only (the first 4 KiB; all of the file when a JPEG's frame header lies further). */
export function probeImage(file: string): ImageHeader {
  let b = readRegular(file, PROBE_BYTES);
  if (isPng(b)) return pngHeader(file, b);
  if (!isJpeg(b)) throw new DatasetFormatError(file, 'not a JPEG or PNG image (unknown signature)');
  let h = jpegHeader(file, b);
  if (!h && b.length === PROBE_BYTES) {
    b = readRegular(file);
    h = jpegHeader(file, b);
  }
  if (!h) throw new DatasetFormatError(file, 'truncated JPEG: no frame header');
  if (h.width === 0 || h.height === 0) throw new DatasetFormatError(file, `image of ${h.width}x${h.height} pixels`);
  return h;
}

/** Decodes a JPEG or PNG file to RGB (alpha dropped, grey expanded); a clear error if it cannot. */
export function decodeImage(file: string): DecodedImage {
  const buf = readRegular(file);
  const png = isPng(buf);
  try {
    if (isJpeg(buf)) {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, rgb: img.data };
    }
    if (png) {
      const p = PNG.sync.read(buf);
      const n = p.width * p.height;
      const rgb = new Uint8Array(n * 3);
      for (let i = 0; i < n; i++) {
        rgb[3 * i] = p.data[4 * i]!;
        rgb[3 * i + 1] = p.data[4 * i + 1]!;
        rgb[3 * i + 2] = p.data[4 * i + 2]!;
      }
      return { width: p.width, height: p.height, rgb };
    }
  } catch (err) {
    throw new DatasetFormatError(file, `cannot decode the ${png ? 'PNG' : 'JPEG'} image (${(err as Error).message})`);
  }
  throw new DatasetFormatError(file, 'not a JPEG or PNG image (unknown signature)');
}

/** RGB HWC pixels as `channels` channels: 3 as they are, 1 as luma (ITU-R 601, as PIL's "L": grey stays exact). */
export function toChannels(rgb: Uint8Array, channels: number): Uint8Array {
  if (channels === 3) return rgb;
  if (channels !== 1) throw new RangeError(`toChannels: ${channels} channels (1 or 3)`);
  const n = rgb.length / 3;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round((299 * rgb[3 * i]! + 587 * rgb[3 * i + 1]! + 114 * rgb[3 * i + 2]!) / 1000);
  return out;
}
