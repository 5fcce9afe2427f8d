// Following a JSON-lines file as it grows: each read returns the lines appended since the last
// one, reading only the new bytes. A file that was replaced (another inode: a resumed run rewrites
// metrics.jsonl atomically) or shrank starts over, and says so.
import { StringDecoder } from 'node:string_decoder';
import type { ServedRoots } from './roots.js';

export interface TailRead<T> {
  /** The file was replaced or truncated: `items` are its whole content and what was read before is void. */
  reset: boolean;
  items: T[];
}

const CHUNK = 4 << 20;

export class JsonlTail<T> {
  private offset = 0;
  private ino = -1;
  private partial = '';
  private decoder = new StringDecoder('utf8');

  constructor(
    private readonly roots: ServedRoots,
    readonly path: string,
  ) {}

  /** Lines completed since the last read, parsed (a line that is not JSON is skipped). */
  read(): TailRead<T> {
    let reset = false;
    const items: T[] = [];
    for (;;) {
      const r = this.roots.readInside(this.path, this.offset, CHUNK);
      if (r === null) return { reset, items };
      if (this.ino === -1) this.ino = r.ino; // first seen: read it from the start
      if (r.ino !== this.ino || r.size < this.offset) {
        reset = true;
        this.ino = r.ino;
        this.offset = 0;
        this.partial = '';
        this.decoder = new StringDecoder('utf8');
        items.length = 0;
        continue;
      }
      if (r.bytes.length === 0) return { reset, items };
      this.offset += r.bytes.length;
      const text = this.partial + this.decoder.write(r.bytes);
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          items.push(JSON.parse(line) as T);
        } catch {
          // a damaged line: the run's own reader reports it; the page shows the rest
        }
      }
      if (r.bytes.length < CHUNK) return { reset, items };
    }
  }
}
