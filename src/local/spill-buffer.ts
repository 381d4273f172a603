import {
  appendFileSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';

/** What one key held, in order: first the part spilled to its file (if any), then the part in memory. */
export interface Held {
  readonly file?: string;
  readonly chunks: readonly string[];
  readonly bytes: number;
}

interface Entry {
  chunks: string[];
  /** Characters in `chunks` (the output is ASCII JSON, so also bytes). */
  inMemory: number;
  /** Everything added since the last `take`, spilled or not. */
  total: number;
  file?: string;
}

/**
 * Text waiting to become objects, per key (an S3 prefix), within one memory budget for all keys together.
 * A local run over data spread across thousands of hours keeps thousands of partitions open, each waiting
 * for its 64 MiB object: held in memory, that was the whole output (3.9 GB of RSS for 1 GB of input). Past
 * the budget, the keys holding most are appended to a file of their own under `dir` until half the budget
 * is free; `take` hands a key's text back in order, so the objects written are the same as without spilling.
 */
export class SpillBuffer {
  private readonly entries = new Map<string, Entry>();
  private held = 0;
  private files = 0;
  /** The most characters ever held in memory at once, and how many were spilled to disk in all. */
  peakInMemory = 0;
  spilledBytes = 0;

  constructor(
    private readonly dir: string,
    private readonly memoryBytes: number,
  ) {}

  /** Adds text (whole lines, each ending in `\n`) to a key. */
  add(key: string, text: string): void {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { chunks: [], inMemory: 0, total: 0 };
      this.entries.set(key, entry);
    }
    entry.chunks.push(text);
    entry.inMemory += text.length;
    entry.total += text.length;
    this.held += text.length;
    if (this.held > this.peakInMemory) this.peakInMemory = this.held;
    if (this.held > this.memoryBytes) this.spill();
  }

  /** Characters added to a key since its last `take`. */
  size(key: string): number {
    return this.entries.get(key)?.total ?? 0;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Everything a key holds, which it then forgets; the caller removes `file` once it has read it. */
  take(key: string): Held {
    const entry = this.entries.get(key);
    if (!entry) return { chunks: [], bytes: 0 };
    this.entries.delete(key);
    this.held -= entry.inMemory;
    return { ...(entry.file ? { file: entry.file } : {}), chunks: entry.chunks, bytes: entry.total };
  }

  /** Appends the largest keys' text to their files until half the budget is free. */
  private spill(): void {
    const largest = [...this.entries.values()]
      .filter((entry) => entry.inMemory > 0)
      .sort((a, b) => b.inMemory - a.inMemory);
    for (const entry of largest) {
      if (this.held <= this.memoryBytes / 2) break;
      if (!entry.file) {
        if (this.files === 0) mkdirSync(this.dir, { recursive: true });
        entry.file = join(this.dir, `${this.files++}.jsonl`);
      }
      appendFileSync(entry.file, entry.chunks.join(''));
      this.held -= entry.inMemory;
      this.spilledBytes += entry.inMemory;
      entry.chunks = [];
      entry.inMemory = 0;
    }
  }
}

/** A key's text as a stream: the spilled file, then the chunks still in memory. */
export function heldStream(held: Held): Readable {
  async function* text() {
    if (held.file) yield* createReadStream(held.file, { highWaterMark: 1 << 20 });
    // Records are a few hundred bytes each: hand them on in blocks of about 1 MiB.
    let block: string[] = [];
    let size = 0;
    for (const chunk of held.chunks) {
      block.push(chunk);
      size += chunk.length;
      if (size >= 1 << 20) {
        yield Buffer.from(block.join(''));
        block = [];
        size = 0;
      }
    }
    if (block.length > 0) yield Buffer.from(block.join(''));
  }
  return Readable.from(text());
}

/** Writes a key's text as one GZIP object; streamed when large (an object is up to 64 MiB of JSON). */
export async function writeGzip(path: string, held: Held): Promise<void> {
  if (!held.file && held.bytes <= SMALL_OBJECT_BYTES) {
    // Most objects of an input spread over many hours are small: one call is much cheaper than a stream.
    writeFileSync(path, gzipSync(held.chunks.join('')));
    return;
  }
  await pipeline(heldStream(held), createGzip(), createWriteStream(path));
}

const SMALL_OBJECT_BYTES = 4 * 1024 * 1024;

/** Removes the spill file of text that was taken and written. */
export function release(held: Held): void {
  if (held.file) rmSync(held.file, { force: true });
}
