/**
 * An append-only byte buffer for one invocation: the reader's members of each flow, then the emitted JSON Lines. Writing bytes straight into one
 * reused Buffer avoids building a string per field (each `+=` allocates a rope node) and flattening them
 * again before encoding; each record's base64 is then a slice of this buffer.
 */
export class ByteWriter {
  buffer: Buffer;
  /** A view of `buffer` for multi-byte stores (generated writers store a key four bytes at a time). */
  view: DataView;
  length = 0;

  constructor(initialBytes = 1 << 20) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  }

  reset(): void {
    this.length = 0;
  }

  /** Makes room for `extra` more bytes, so generated writers can write without checking each byte. */
  reserve(extra: number): void {
    this.ensure(extra);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  /** Bytes already encoded (constant keys, an interface's pre-serialized members). */
  bytes(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    const buffer = this.buffer;
    let at = this.length;
    if (n < 32) for (let i = 0; i < n; i++) buffer[at++] = bytes[i] as number;
    else {
      buffer.set(bytes, at);
      at += n;
    }
    this.length = at;
  }

  byte(code: number): void {
    this.ensure(1);
    this.buffer[this.length++] = code;
  }

  /** A string known to be ASCII (validated tokens, enum values). */
  ascii(text: string): void {
    const n = text.length;
    this.ensure(n);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < n; i++) buffer[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** Any string as a JSON string literal: the fast path copies plain ASCII, the rest goes through JSON. */
  json(text: string): void {
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        const encoded = JSON.stringify(text);
        const bytes = Buffer.byteLength(encoded, 'utf8');
        this.ensure(bytes);
        this.length += this.buffer.write(encoded, this.length, 'utf8');
        return;
      }
    }
    this.ensure(n + 2);
    const buffer = this.buffer;
    let at = this.length;
    buffer[at++] = 0x22;
    for (let i = 0; i < n; i++) buffer[at++] = text.charCodeAt(i);
    buffer[at++] = 0x22;
    this.length = at;
  }

  toString(start = 0, end = this.length): string {
    return this.buffer.toString('utf8', start, end);
  }
}

/** Writes an ASCII string (a validated token) at `at`; returns the new position. */
export function putAscii(buffer: Buffer, at: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) buffer[at++] = text.charCodeAt(i);
  return at;
}

/**
 * Writes a non-negative integer's digits at `at`; returns the new position. Digits are computed, not
 * formatted: `String(value)` would allocate a string for every number of every line.
 */
export function putInt(buffer: Buffer, at: number, value: number): number {
  if (value < 10) {
    buffer[at] = 48 + value;
    return at + 1;
  }
  let digits = 2;
  for (let limit = 100; value >= limit && digits < 16; limit *= 10) digits++;
  let end = at + digits;
  if (value <= 0x7fffffff) {
    // Small integers (ports, counts, timestamps) stay in int32 arithmetic.
    let v = value | 0;
    while (end > at) {
      const q = (v / 10) | 0;
      buffer[--end] = 48 + v - q * 10;
      v = q;
    }
  } else {
    // Beyond int32, `%` and an exact division keep every digit right up to 2^53.
    let v = value;
    while (end > at) {
      const digit = v % 10;
      buffer[--end] = 48 + digit;
      v = (v - digit) / 10;
    }
  }
  return at + digits;
}

/**
 * Generated statements that store an ASCII constant's bytes at `buffer[at..]`, four at a time through the
 * DataView `view`, then move `at` past them: immediate stores, no table to load the bytes from, no loop.
 * The arguments name the generated code's variables.
 */
export function storeConstant(text: string, buffer: string, view: string, at: string): string {
  const bytes = [...Buffer.from(text, 'latin1')];
  const stores: string[] = [];
  let k = 0;
  for (; k + 4 <= bytes.length; k += 4) {
    const word =
      (bytes[k] as number) |
      ((bytes[k + 1] as number) << 8) |
      ((bytes[k + 2] as number) << 16) |
      ((bytes[k + 3] as number) << 24);
    stores.push(`${view}.setInt32(${at} + ${k}, ${word | 0}, true);`);
  }
  for (; k < bytes.length; k++) stores.push(`${buffer}[${at} + ${k}] = ${bytes[k]};`);
  return `${stores.join(' ')} ${at} += ${bytes.length};`;
}
