import { ByteWriter } from './byte-writer.js';

/**
 * The JSON members of flows' own fields (`"version":2,"account_id":"…",…`), written by the record reader
 * while each line's bytes are still in cache, for the writer to copy later in one piece. Serializing the
 * flow object field by field after enrichment reads every value a second time, from memory that has gone
 * cold by then: on a format with every field that was the largest single cost of the transform.
 *
 * Flow `i` (its index in the batch's flow array) has bytes `out.buffer[start(i) .. end(i))`, or none
 * (`start(i) === -1`) when the general path read it; the writer then serializes the object. The transform
 * writes its output into `out` too, after the members: a line's members then move within one buffer.
 */
export class FieldBytes {
  readonly out = new ByteWriter(1 << 16);
  // Slots start at -1 (no members): the writer then serializes the object.
  private spans = new Int32Array(2 * 1024).fill(-1);
  // Which configured format read flow `i` (its index in `Config.formats`), set only when there are several.
  private formats = new Uint8Array(1024);

  reset(): void {
    this.out.reset();
  }

  set(index: number, start: number, end: number): void {
    if (2 * index + 1 >= this.spans.length) {
      const grown = new Int32Array(Math.max(2 * this.spans.length, 2 * index + 2)).fill(-1);
      grown.set(this.spans);
      this.spans = grown;
      const formats = new Uint8Array(grown.length >> 1);
      formats.set(this.formats);
      this.formats = formats;
    }
    this.spans[2 * index] = start;
    this.spans[2 * index + 1] = end;
  }

  /** Records which format read flow `index` (after `set` for that index). */
  setFormat(index: number, format: number): void {
    this.formats[index] = format;
  }

  /** The index of the format that read flow `index`; 0 unless `setFormat` said otherwise. */
  format(index: number): number {
    return this.formats[index] as number;
  }

  start(index: number): number {
    return this.spans[2 * index] as number;
  }

  end(index: number): number {
    return this.spans[2 * index + 1] as number;
  }
}
