import { type ByteWriter, storeConstant } from '../bytes/byte-writer.js';
import { FieldBytes } from '../bytes/field-bytes.js';
import { assertSafeKey, compile, formatTag } from '../codegen.js';
import { ParseError } from '../errors.js';
import {
  base64DecodedLength,
  type DecodedRecord,
  type DecodeOptions,
  decodeRecord,
} from '../firehose/decode.js';
import type { Validator } from '../generated/validator.js';
import { FLOW_FIELD_INTEGER_RANGES, FLOW_FIELD_VALIDATORS } from '../generated/validators.js';
import { type FormatSpec, isHeaderLine } from './format.js';
import { createLineParser, type Flow, type FlowRecord, type LineParser } from './parse.js';

/** What one record held, besides the flows it added; filled in as far as the record was read. */
export interface RecordSummary {
  /** Whether the record's data could be decoded (base64, gzip, text, envelope). */
  decoded: boolean;
  /** Non-blank lines, headers included (known once decoded, even when a line then fails). */
  lines: number;
  headers: number;
  /** A CloudWatch Logs `CONTROL_MESSAGE`: no data. */
  control: boolean;
}

/**
 * Fills `summary` (given, so that it tells how far a record that throws was read) and returns it. Each
 * flow added at index `i` of `flows` gets its fields' JSON members in `fields` at `i` (or none).
 */
export interface RecordParser {
  (data: string, flows: Flow[], summary: RecordSummary, fields?: FieldBytes): RecordSummary;
  /** The lines of a record the caller already decoded (to learn its size before reading it). */
  readonly decoded: (
    decoded: DecodedRecord,
    flows: Flow[],
    summary: RecordSummary,
    fields?: FieldBytes,
  ) => RecordSummary;
}

export interface RecordParserOptions extends DecodeOptions {
  readonly maxLineLength: number;
}

/**
 * Decodes one Firehose record and parses its lines, appending one flow per data line to `flows`.
 *
 * Two paths, one result. Plain ASCII flow-log lines, as direct delivery sends them, are read straight
 * from the decoded bytes: base64 into a reused buffer, fields found by byte, integers read from their
 * digits, and text values interned per field (a batch repeats its accounts, interfaces, VPCs and most
 * addresses, so most values are found, not made). Anything else — gzip or JSON envelopes, UTF-8, a line
 * that is irregular in any way — takes the general path (`decodeRecord`, then the line parser), which
 * also words every error. Both build the same objects and validate them with the same schema. The byte
 * path also writes each flow's fields as JSON members into `fields`, as the writer would from the object.
 *
 * Given several formats (their field counts all differ: configuration checks), each line is read with
 * the one that has as many fields as the line, and `fields.format(i)` tells which read flow `i`; a line
 * whose count no format has fails, naming the counts configured. One format counts nothing.
 *
 * @throws DecodeError or ParseError (with its line number in a multi-line record); on a throw, `flows`
 *   may hold some of this record's flows: the caller truncates it.
 */
export function createRecordParser(
  format: FormatSpec | readonly FormatSpec[],
  options: RecordParserOptions,
): RecordParser {
  // Several formats (one stream fed by flow logs of different formats): a line is read with the one whose
  // field count it has (configuration refuses two with the same count). One format is read as it always was.
  const formats: readonly FormatSpec[] = isFormatList(format) ? format : [format];
  const several = formats.length > 1;
  const lineOptions = { maxLineLength: options.maxLineLength };
  const parseLines = formats.map((spec) => createLineParser(spec, lineOptions));
  const parseLine = parseLines[0] as LineParser;
  const scanners = formats.map(compileByteScanner);
  const scanBytes = scanners[0] as ByteScanner;
  // Field count → index of the format with that many fields, or -1.
  const byCount = new Int16Array(Math.max(...formats.map((spec) => spec.fields.length)) + 2).fill(-1);
  formats.forEach((spec, index) => {
    byCount[spec.fields.length] = index;
  });
  const counts = formats.map((spec) => spec.fields.length).join(' or ');
  /** The reference path's choice: the format with as many fields as the line (runs of spaces count once). */
  const formatOfLine = (line: string): number => {
    // Too long to look at: the first parser says so.
    if (line.length > options.maxLineLength) return 0;
    let tokens = 0;
    let inToken = false;
    for (let i = 0; i < line.length; i++) {
      const isSpace = line.charCodeAt(i) === 32;
      if (!isSpace && !inToken) tokens++;
      inToken = !isSpace;
    }
    const index = tokens < byCount.length ? (byCount[tokens] as number) : -1;
    if (index < 0) {
      throw new ParseError(
        'field_count',
        `found ${tokens} space-separated fields; the configured formats have ${counts}`,
      );
    }
    return index;
  };
  const decodeOptions = { maxDecompressedBytes: options.maxDecompressedBytes };
  let scratch = Buffer.allocUnsafe(1 << 16);
  let scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.length);
  // For callers that do not keep the JSON: written and forgotten, record by record.
  const discarded = new FieldBytes();
  // A line's members are at most its bytes plus, per field, its key, quotes and comma.
  const memberRoom = Math.max(
    ...formats.map((spec) => spec.fields.reduce((sum, field) => sum + field.key.length + 6, 8)),
  );

  /**
   * The general path, from the record's first flow (`at`) and its first member byte (`written`): what the
   * byte path added is taken back, and the flows it reads have no JSON members.
   */
  function general(
    data: string,
    flows: Flow[],
    summary: RecordSummary,
    fields: FieldBytes,
    at: number,
    written: number,
  ): RecordSummary {
    flows.length = at;
    fields.out.length = written;
    summary.decoded = false;
    summary.lines = 0;
    summary.headers = 0;
    summary.control = false;
    return readDecoded(decodeRecord(data, decodeOptions), flows, summary, fields);
  }

  function readDecoded(
    decoded: DecodedRecord,
    flows: Flow[],
    summary: RecordSummary,
    fields: FieldBytes,
  ): RecordSummary {
    summary.decoded = true;
    summary.control = decoded.kind === 'cwl-control';
    if (decoded.kind === 'cwl-control') return summary;
    const lines = decoded.lines;
    summary.lines = lines.length;
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n] as string;
      if (isHeaderLine(line)) {
        summary.headers++;
        continue;
      }
      try {
        fields.set(flows.length, -1, -1);
        if (several) {
          const index = formatOfLine(line);
          fields.setFormat(flows.length, index);
          flows.push((parseLines[index] as LineParser)(line));
        } else flows.push(parseLine(line));
      } catch (error) {
        throw error instanceof ParseError && lines.length > 1 ? error.atLine(n + 1) : error;
      }
    }
    return summary;
  }

  const parse = (data: string, flows: Flow[], summary: RecordSummary, sink?: FieldBytes): RecordSummary => {
    const at = flows.length;
    const fields = sink ?? discarded;
    if (sink === undefined) discarded.reset();
    const written = fields.out.length;
    const size = typeof data === 'string' && data.length % 4 === 0 ? base64DecodedLength(data) : -1;
    // Large records (rare) and anything that is not a base64 string go the general way.
    if (size < 0 || size > MAX_FAST_BYTES) return general(data, flows, summary, fields, at, written);
    // Room for a 4-byte read that starts at the last byte: values are compared four bytes at a time.
    if (size + 3 > scratch.length) {
      scratch = Buffer.allocUnsafe(1 << (32 - Math.clz32(size + 2)));
      scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.length);
    }
    const b = scratch;
    // `write` skips characters outside base64: a short count sends the record to the strict decoder.
    if (b.write(data, 0, size, 'base64') !== size) return general(data, flows, summary, fields, at, written);
    if (size >= 2 && b[0] === 0x1f && b[1] === 0x8b)
      return general(data, flows, summary, fields, at, written);
    const out = fields.out;
    let lines = 0;
    let headers = 0;
    let start = 0;
    while (start < size) {
      let newline = b.indexOf(10, start);
      if (newline === -1 || newline > size) newline = size;
      let from = start;
      let to = newline;
      start = newline + 1;
      while (to > from && isBlank(b[to - 1] as number)) to--;
      while (from < to && isBlank(b[from] as number)) from++;
      if (from === to) continue;
      lines++;
      const first = b[from] as number;
      // An envelope Firehose already decompressed, or a line too long to read: the general path.
      if ((lines === 1 && first === 0x7b) || to - from > options.maxLineLength) {
        return general(data, flows, summary, fields, at, written);
      }
      // Data lines start with a digit or `-`; a header (S3-delivered files) with a field name. One with a
      // byte beyond ASCII is the general path's (latin1 text would misread it).
      if (first >= 0x61 && first <= 0x7a && isHeaderLine(b.toString('latin1', from, to))) {
        if (!asciiOnly(b, from, to)) return general(data, flows, summary, fields, at, written);
        headers++;
        continue;
      }
      let scan = scanBytes;
      let index = 0;
      if (several) {
        let spaces = 0;
        for (let i = from; i < to; i++) if (b[i] === 32) spaces++;
        index = spaces + 1 < byCount.length ? (byCount[spaces + 1] as number) : -1;
        // No format has this many fields: the general path words the error.
        if (index < 0) return general(data, flows, summary, fields, at, written);
        scan = scanners[index] as ByteScanner;
      }
      out.reserve(to - from + memberRoom);
      const begin = out.length;
      const record = scan(b, scratchView, from, to, out);
      // Irregular or invalid lines are rare: the general path finds them again and words the error.
      if (record === undefined) return general(data, flows, summary, fields, at, written);
      // Members are written with a leading comma each: the first one's is not part of the object.
      fields.set(flows.length, out.length > begin ? begin + 1 : begin, out.length);
      if (several) fields.setFormat(flows.length, index);
      flows.push(record as Flow);
    }
    summary.decoded = true;
    summary.lines = lines;
    summary.headers = headers;
    summary.control = false;
    return summary;
  };
  const decoded = (record: DecodedRecord, flows: Flow[], summary: RecordSummary, sink?: FieldBytes) => {
    const fields = sink ?? discarded;
    if (sink === undefined) discarded.reset();
    return readDecoded(record, flows, summary, fields);
  };
  return Object.assign(parse, { decoded });
}

function isFormatList(format: FormatSpec | readonly FormatSpec[]): format is readonly FormatSpec[] {
  return Array.isArray(format);
}

/** Records up to this size are decoded into the reused buffer; a 1 MiB Firehose record still fits. */
const MAX_FAST_BYTES = 1 << 20;

function asciiOnly(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if ((b[i] as number) > 0x7f) return false;
  return true;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x0d || c === 0x09;
}

export const ADDRESS_KEYS: ReadonlySet<string> = new Set([
  'srcaddr',
  'dstaddr',
  'pkt_srcaddr',
  'pkt_dstaddr',
]);
const ID_KEYS = new Set(['interface_id', 'instance_id', 'subnet_id', 'next_hop_interface_id', 'resource_id']);

type ByteScanner = (
  b: Buffer,
  view: DataView,
  start: number,
  end: number,
  out: ByteWriter,
) => FlowRecord | undefined;

/**
 * Generates the byte reader of one format, the twin of the line parser's scanner: the same object
 * literal (one hidden class per format), fields exactly one space apart, `-` read as null, integers of
 * at most 16 digits, everything else a string. It also validates, value by value, with the schema's own
 * per-field validators (the flow-record schema constrains each property on its own, so a record is valid
 * exactly when each value is): only valid text values are interned, so finding one is its verdict and a
 * repeated value is checked once. Returns undefined for anything irregular or invalid, and for any byte
 * outside ASCII, so that the general path decides.
 *
 * As it reads, it writes each non-null value as a JSON member (`,"key":value`) into `out`, byte by byte
 * while the byte is at hand, exactly as the writer would serialize the object: integers keep their digits
 * (a line with a leading zero, which the writer would drop, goes the general way), and a free-text value
 * that would need escaping does too. `out.length` moves only when the line is accepted.
 */
function compileByteScanner(format: FormatSpec): ByteScanner {
  const count = format.fields.length;
  const validators = format.fields.map((field): Validator | undefined => FLOW_FIELD_VALIDATORS[field.key]);
  // Addresses take the most distinct values (every peer of a busy VPC), then resource ids (every
  // interface and instance): their tables are larger, so that values collide, and are made again, less.
  // The address fields share one table (the schema gives them one definition, a test checks): a line's
  // packet addresses mostly repeat its flow addresses, found again where the cache still holds them.
  let addresses: Interner | undefined;
  const tables = format.fields.map((field, i) => {
    if (!ADDRESS_KEYS.has(field.key)) return new Interner(ID_KEYS.has(field.key) ? 12 : 10, validators[i]);
    addresses ??= new Interner(13, validators[i]);
    return addresses;
  });
  const statements = format.fields.map((field, i) => {
    const last = i === count - 1;
    const close = last
      ? 'if (e === p || e !== end) return undefined;'
      : 'if (e === p || e === end) return undefined;';
    // A lone `-`: followed by the separator, or by the end of the line for the last field.
    const nullNext = last ? 'p + 1 === end' : 'p + 1 < end && b[p + 1] === 32';
    const validator = validators[i];
    // The member's key, with its comma (and a string's opening quote), as immediate stores.
    const key = storeConstant(`,"${field.key}":${field.kind === 'int' ? '' : '"'}`, 'o', 'w', 'q');
    // `-` is null: every field of the schema allows it today, but ask the schema rather than assume.
    const nullCheck = validator && !validator(null) ? 'return undefined;' : '';
    if (field.kind === 'int') {
      // A schema that is only a range (ports, counts, timestamps) is checked as one, from the bounds the
      // schema build read off it. Otherwise small integers take few values: the validator's verdict on
      // each is kept in a table; larger ones are checked each time (given its options object, an ajv
      // validator allocates nothing).
      const range = FLOW_FIELD_INTEGER_RANGES[field.key];
      const check = !validator
        ? ''
        : range
          ? `if (v < ${range[0]}${range[1] === null ? '' : ` || v > ${range[1]}`}) return undefined;`
          : `if (v < 65536) { x = I${i}[v]; if (x === 0) { x = v${i}(v, NO_OPTIONS) ? 1 : 2; I${i}[v] = x; } if (x !== 1) return undefined; } else if (!v${i}(v, NO_OPTIONS)) return undefined;`;
      return [
        `// ${i}: ${field.key} (integer)\n`,
        `let f${i} = null;`,
        // `-` (null) first: formats with every field have many.
        `if (b[p] === 45 && ${nullNext}) { ${nullCheck} p += 2; } else {`,
        `${key} e = p; v = 0; d = 0;`,
        'while (e < end && (c = b[e]) !== 32) { o[q++] = c; c -= 48; if (c < 0 || c > 9) d = 1; v = v * 10 + c; e++; }',
        close,
        'if (d === 1 || e - p > 16 || v > 9007199254740991 || (b[p] === 48 && e - p > 1)) return undefined;',
        `${check} f${i} = v;`,
        'p = e + 1; }',
      ].join(' ');
    }
    return [
      `// ${i}: ${field.key} (${field.kind === 'safe' ? 'plain' : 'free'} text)\n`,
      `let f${i} = null;`,
      `if (b[p] === 45 && ${nullNext}) { ${nullCheck} p += 2; } else {`,
      `${key} e = p; h = 0;`,
      // Free text is copied as it is only when JSON needs no escape in it.
      field.kind === 'safe'
        ? 'while (e < end && (c = b[e]) !== 32) { o[q++] = c; h = (Math.imul(h, 31) + c) | 0; m |= c; e++; }'
        : 'while (e < end && (c = b[e]) !== 32) { o[q++] = c; h = (Math.imul(h, 31) + c) | 0; m |= c; if (c < 32 || c === 34 || c === 92 || c === 127) z = 1; e++; }',
      close,
      'o[q++] = 34;',
      // A value seen before (the common case) is found here, without a call: its slot holds its hash,
      // length and bytes, compared four at a time with the line's (the string itself is not read).
      `x = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> ${32 - (tables[i] as Interner).bits}) << ${SLOT_SHIFT}; n = e - p; k = undefined;`,
      `if (W${i}[x] === h && W${i}[x + 1] === n) { j = 0; y = x + 2; while (j + 4 <= n && W${i}[y] === bv.getInt32(p + j, true)) { j += 4; y++; }`,
      `if (j === n || (j + 4 > n && W${i}[y] === (bv.getInt32(p + j, true) & TAIL[n - j]))) k = V${i}[x >> ${SLOT_SHIFT}]; }`,
      `if (k !== undefined) f${i} = k; else { f${i} = t[${i}].get(b, p, e, h, x); if (!t[${i}].valid) return undefined; }`,
      'p = e + 1; }',
    ].join(' ');
  });
  const keys = format.fields.map((field, i) => `${JSON.stringify(field.key)}: f${i},`);
  const body = [
    `const [${validators.map((_, i) => `v${i}`).join(', ')}] = validators;`,
    ...tables.map((_, i) => `const V${i} = t[${i}].values, W${i} = t[${i}].words;`),
    'const NO_OPTIONS = {};',
    // Masks of a last word's 1–3 bytes.
    'const TAIL = new Int32Array([-1, 0xff, 0xffff, 0xffffff]);',
    ...format.fields.map((field, i) =>
      field.kind === 'int' && validators[i] && !FLOW_FIELD_INTEGER_RANGES[field.key]
        ? `const I${i} = new Uint8Array(65536);`
        : '',
    ),
    'return function scanBytes(b, bv, start, end, out) {',
    'let p = start, e, c, v, d, h, x, k, n, j, y, m = 0, z = 0, o = out.buffer, w = out.view, q = out.length;',
    ...statements,
    'if (m > 127 || z === 1) return undefined;',
    'out.length = q;',
    'return {',
    ...keys,
    '};',
    '};',
  ].join('\n');
  // See src/codegen.ts for why nothing from the data reaches this source.
  const tag = formatTag(format.fields.map((field) => assertSafeKey(field.key)));
  return compile<ByteScanner>(`byte-reader-${tag}`, ['t', 'validators'], body, [tables, validators]);
}

/** A slot of an intern table is 16 ints (64 bytes): the hash, the length, then up to 56 bytes of value. */
const SLOT_SHIFT = 4;
const INLINE_BYTES = 56;

/**
 * The strings one field has produced lately, by a hash of their bytes: a direct-mapped table, so a value
 * seen again costs a comparison, not an allocation, and is the very same string (cheap map keys later).
 * The generated reader picks the slot (multiplicative hashing: the top bits of the product depend on
 * every byte) and looks values up itself; it calls `get` for the values it did not find.
 */
class Interner {
  /** Whether the value the last `get` returned is valid for this field. */
  valid = false;
  // Read directly by the generated reader for its fast path: `words` per slot, `values` the strings.
  readonly words: Int32Array;
  readonly values: (string | undefined)[];

  constructor(
    readonly bits: number,
    private readonly validator: Validator | undefined,
  ) {
    this.words = new Int32Array((1 << bits) << SLOT_SHIFT);
    this.values = new Array(1 << bits).fill(undefined);
  }

  /**
   * The string of `b[start..end)` (the generated reader did not find it in the slot at word `at`),
   * checked, and kept there when valid and short enough. Long values are rare (free text) and would pin memory: made and
   * checked each time. Only valid values are kept, so that finding one is its verdict: an invalid value
   * fails its line, which is rare, and is checked again if it comes again.
   */
  get(b: Buffer, start: number, end: number, hash: number, at: number): string {
    const value = b.toString('latin1', start, end);
    this.valid = this.validator ? this.validator(value) : true;
    const length = end - start;
    if (!this.valid || length > INLINE_BYTES) return value;
    const words = this.words;
    words.fill(0, at, at + (1 << SLOT_SHIFT));
    words[at] = hash;
    words[at + 1] = length;
    // Little-endian, as the reader's DataView reads the line; the last word's unused bytes stay zero.
    for (let i = 0; i < length; i++) {
      const word = at + 2 + (i >> 2);
      words[word] = (words[word] as number) | ((b[start + i] as number) << ((i & 3) << 3));
    }
    this.values[at >> SLOT_SHIFT] = value;
    return value;
  }
}
