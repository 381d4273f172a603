import {
  closeSync,
  createReadStream,
  createWriteStream,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { constants, createGunzip, gunzipSync } from 'node:zlib';
import { FIELDS } from '../flowlog/fields.js';
import { formatFromHeader, isHeaderLine } from '../flowlog/format.js';

/**
 * One Firehose record of local input, and where it came from (for error messages: file and line).
 * `format` is the file's own format (its header line, or its Parquet columns) when it has one.
 */
export interface InputRecord {
  readonly data: Buffer;
  readonly source: string;
  readonly line: number;
  readonly format?: string;
}

/** An S3-like object store the CLI reads `s3://` inputs from (the S3 client, injected). */
export interface ObjectSource {
  list(bucket: string, prefix: string): Promise<string[]>;
  get(bucket: string, key: string): Promise<Buffer>;
  /** The object's body as a stream: an input object is read as it arrives, never held whole. */
  open(bucket: string, key: string): Promise<Readable>;
}

/** A Parquet file's column names, and its rows in batches (DuckDB reads it a chunk at a time). */
export interface ParquetTable {
  readonly columns: readonly string[];
  readonly batches: AsyncIterable<readonly Record<string, unknown>[]>;
}

export interface InputOptions {
  readonly stdin?: Readable;
  readonly objects?: () => Promise<ObjectSource>;
  /** Reads a Parquet file's rows (DuckDB), as column name → value. */
  readonly readParquet?: (path: string) => Promise<ParquetTable>;
  /** A path for a temporary file with this extension (a Parquet object from S3 is read from a file). */
  readonly tempFile?: (extension: string) => string;
  /**
   * Told of an input that could not be read to its end (a truncated `.gz`, an unreadable file: the lines
   * before the damage were read, the other inputs are read on) and of each line of an error-record file
   * that is not one. Without it, the first such problem throws an InputError.
   */
  readonly onDamaged?: (problem: InputProblem) => void;
  /** Told of each path in a directory left out on purpose (a broken link, a link to what is read anyway). */
  readonly onSkipped?: (path: string, reason: string) => void;
}

/** Where an input is damaged (`line`: the line at fault, or the last line read before the damage). */
export interface InputProblem {
  readonly source: string;
  readonly line?: number;
  readonly message: string;
}

/** `file:line: message`, the way every problem is shown. */
export function describeProblem(problem: InputProblem): string {
  return `${problem.source}${problem.line === undefined ? '' : `:${problem.line}`}: ${problem.message}`;
}

/** An input that cannot be read, when no `onDamaged` is given. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly problem: InputProblem,
    options?: { cause?: unknown },
  ) {
    super(describeProblem(problem), options);
  }
}

/**
 * Every record of every input, in order: flow-log text files (plain or .gz, with or without the header
 * line S3 delivery writes), Parquet files as flow logs deliver them, directories of those, `s3://` prefixes,
 * `-` for stdin, and trees of Firehose error records (JSON objects with `rawData`), replayed as they were.
 */
export async function* readInputs(
  paths: readonly string[],
  options: InputOptions,
): AsyncGenerator<InputRecord> {
  const damaged =
    options.onDamaged ??
    ((problem: InputProblem) => {
      throw new InputError(problem);
    });
  for (const path of paths) {
    if (path === '-') {
      yield* readText(options.stdin ?? process.stdin, 'stdin', damaged);
    } else if (path.startsWith('s3://')) {
      yield* readS3(path, options, damaged);
    } else if (statSync(path).isDirectory()) {
      for (const file of listFiles(path, options.onSkipped ?? (() => {})))
        yield* readFile(file, options, damaged);
    } else {
      yield* readFile(path, options, damaged);
    }
  }
}

/**
 * The files under a directory, sorted, each read once. Hidden files and folders are left out (a run's own
 * staging folder among them). Symbolic links are followed, to files and folders alike; a link to a folder is
 * followed only after the real tree, and never into a folder already read (a loop, or the same folder twice);
 * a file reached twice is read once, by its real path when it has one in the tree. Every link left out is
 * reported to `skipped`.
 */
export function listFiles(root: string, skipped: (path: string, reason: string) => void): string[] {
  const found = new Map<string, string>();
  const viaLink = new Map<string, string[]>();
  const folders = new Set<string>();
  const linkedFolders: string[] = [];
  const walk = (dir: string) => {
    folders.add(realpathSync(dir));
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) found.set(realpathSync(path), path);
      else if (entry.isSymbolicLink()) {
        let real: string;
        let kind: ReturnType<typeof statSync>;
        try {
          real = realpathSync(path);
          kind = statSync(real);
        } catch {
          skipped(path, 'a broken symbolic link');
          continue;
        }
        if (kind.isDirectory()) linkedFolders.push(path);
        else if (kind.isFile()) viaLink.set(real, [...(viaLink.get(real) ?? []), path]);
        else skipped(path, 'a link to something that is neither a file nor a folder');
      } else skipped(path, 'neither a file, a folder nor a link (a pipe, a socket, a device)');
    }
  };
  walk(root);
  for (let next = linkedFolders.shift(); next !== undefined; next = linkedFolders.shift()) {
    const real = realpathSync(next);
    if (folders.has(real)) skipped(next, `a link to the folder ${real}, which is read once`);
    else walk(next);
  }
  for (const [real, links] of viaLink) {
    const kept = found.get(real) ?? (links[0] as string);
    found.set(real, kept);
    for (const link of links)
      if (link !== kept) skipped(link, `a link to ${real}, which is read once, as ${kept}`);
  }
  return [...found.values()].sort();
}

async function* readFile(
  path: string,
  options: InputOptions,
  damaged: (problem: InputProblem) => void,
): AsyncGenerator<InputRecord> {
  if (path.endsWith('.parquet')) {
    yield* readParquet(path, path, options, damaged);
    return;
  }
  yield* readText(createReadStream(path), path, damaged, path.endsWith('.gz') || isGzip(readHead(path, 2)));
}

/** The first `bytes` bytes of a file (fewer for a shorter one; none for one that cannot be read). */
export function readHead(path: string, bytes: number): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(bytes);
    return head.subarray(0, readSync(fd, head, 0, bytes, 0));
  } catch {
    return Buffer.alloc(0);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function isGzip(head: Buffer): boolean {
  return head[0] === 0x1f && head[1] === 0x8b;
}

/** How many bytes of a file `inputProblem` looks at. */
export const INPUT_HEAD_BYTES = 64 * 1024;

/**
 * What makes a file something `run` cannot read as flow logs, judged from its first bytes (`head`, up to
 * INPUT_HEAD_BYTES), or undefined when it looks like flow-log text (with or without the S3 header line),
 * gzip of it, Parquet, Firehose error records or CloudWatch Logs envelopes. A wrong format is not judged
 * here: the run itself says what the lines have.
 *
 * @example inputProblem(Buffer.from('{"name": "flowlog-enrich"}'), 'package.json')
 *   // 'not flow-log text: the first line is JSON, neither flow-log fields nor Firehose error records'
 */
export function inputProblem(head: Buffer, name: string): string | undefined {
  if (head.length === 0) return undefined;
  if (head.subarray(0, 4).toString('latin1') === 'PAR1')
    return name.endsWith('.parquet')
      ? undefined
      : 'Parquet data in a file whose name does not end in .parquet (rename it)';
  if (isGzip(head)) {
    let text: Buffer;
    try {
      // The head of a larger file is a cut gzip stream: inflate what there is.
      text = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (error) {
      return `damaged gzip (${(error as Error).message})`;
    }
    const inner = inputProblem(text.subarray(0, INPUT_HEAD_BYTES), name.replace(/\.gz$/, ''));
    return inner && `gzip of ${inner.replace(/^not flow-log text/, 'something else')}`;
  }
  if (name.endsWith('.gz')) return 'named .gz but not gzip data';
  if (head.includes(0) || !isUtf8(head.subarray(0, lastLineEnd(head))))
    return `not flow-log text, gzip or Parquet (binary data starting ${head
      .subarray(0, 8)
      .toString('hex')
      .replace(/(..)(?=.)/g, '$1 ')})`;
  const first = head
    .toString('utf8')
    .split('\n')
    .find((line) => line.trim() !== '');
  return first === undefined ? undefined : lineProblem(first.trim());
}

/** Why the first line of a text input is not flow-log text, or undefined when it may be. */
function lineProblem(line: string): string | undefined {
  if (isHeaderLine(line)) return undefined;
  if (line.startsWith('{') || line.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // A JSON line longer than the head, or not JSON at all: judged as JSON by its first character.
      return 'not flow-log text: the first line is JSON, neither flow-log fields nor Firehose error records';
    }
    const object = parsed as { rawData?: unknown; messageType?: unknown } | null;
    if (typeof object?.rawData === 'string' || typeof object?.messageType === 'string') return undefined;
    return 'not flow-log text: the first line is JSON, neither flow-log fields nor Firehose error records';
  }
  if (line.startsWith('<')) return 'not flow-log text: the first line is HTML or XML';
  // Flow-log values are numbers, ids, addresses, words and ARNs: printable ASCII, separated by spaces.
  if (!/^[!#-+\--~]+(?: [!#-+\--~]+)+$/.test(line))
    return `not flow-log text: the first line is not flow-log fields separated by spaces (${JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line)})`;
  return undefined;
}

/** Up to the last complete line (a head cut mid-character is still text). */
function lastLineEnd(head: Buffer): number {
  const end = head.lastIndexOf(0x0a);
  return end === -1 ? head.length : end;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

async function* readS3(
  url: string,
  options: InputOptions,
  damaged: (problem: InputProblem) => void,
): AsyncGenerator<InputRecord> {
  if (!options.objects) throw new Error('s3:// inputs need an S3 client');
  const objects = await options.objects();
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1);
  for (const key of (await objects.list(bucket, prefix)).sort())
    yield* readObject(bucket, key, await objects.open(bucket, key), options, damaged);
}

/**
 * One S3 object's records, read as its body arrives: `.parquet` through a temporary file (Parquet is read
 * from its footer), `.gz` through gunzip, anything else as text. Shared by `run --input s3://…` and the
 * backfill worker.
 */
export async function* readObject(
  bucket: string,
  key: string,
  body: Readable,
  options: InputOptions,
  damaged: (problem: InputProblem) => void,
): AsyncGenerator<InputRecord> {
  const source = `s3://${bucket}/${key}`;
  if (key.endsWith('.parquet')) {
    if (!options.tempFile) throw new Error('Parquet from S3 needs a temporary file');
    const path = options.tempFile('.parquet');
    try {
      await pipelineAsync(body, createWriteStream(path));
    } catch (error) {
      damaged({ source, message: `cannot be read to its end (${(error as Error).message})` });
      return;
    }
    try {
      yield* readParquet(path, source, options, damaged);
    } finally {
      rmSync(path, { force: true });
    }
  } else {
    yield* readText(body, source, damaged, key.endsWith('.gz'));
  }
}

/**
 * Text: flow-log lines (one record each), or Firehose error records (one JSON object per line). A stream
 * that fails part-way (a truncated gzip) is reported to `damaged` after the lines before the damage.
 */
async function* readText(
  input: Readable,
  source: string,
  damaged: (problem: InputProblem) => void,
  gzip = false,
): AsyncGenerator<InputRecord> {
  // pipeline, not pipe: an error of the file stream (unreadable, a folder) reaches the reader too.
  const stream = gzip ? pipeline(input, createGunzip(), () => {}) : input;
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let format: string | undefined;
  let number = 0;
  let errorRecords: boolean | undefined;
  try {
    for await (const line of lines) {
      number++;
      if (errorRecords === undefined && line.trim() !== '') {
        errorRecords = isErrorRecord(line);
        if (!errorRecords && isHeaderLine(line.trim())) {
          // The header of an S3-delivered file is its format.
          format = formatFromHeader(line);
          continue;
        }
        const problem = errorRecords ? undefined : lineProblem(line.trim());
        if (problem) {
          // Not flow logs at all (a README, a manifest beside the logs): named once, not a failure per line.
          lines.close();
          input.destroy();
          damaged({ source, line: number, message: problem });
          return;
        }
      }
      if (errorRecords) {
        if (line.trim() === '') continue;
        const data = errorRecordData(line);
        if (typeof data === 'string') damaged({ source, line: number, message: data });
        else yield { data, source, line: number, ...(format ? { format } : {}) };
        continue;
      }
      yield { data: Buffer.from(`${line}\n`), source, line: number, ...(format ? { format } : {}) };
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    lines.close();
    input.destroy();
    damaged({ source, message: streamProblem(error, gzip, number) });
  }
}

/** A line of an error-record file: its original data, or why it has none. */
function errorRecordData(line: string): Buffer | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    return `not a Firehose error record (${(error as Error).message})`;
  }
  const raw = (parsed as { rawData?: unknown } | null)?.rawData;
  if (typeof raw !== 'string') return 'a Firehose error record without rawData';
  return Buffer.from(raw, 'base64');
}

function streamProblem(error: unknown, gzip: boolean, lines: number): string {
  const code = (error as { code?: string }).code;
  const what = gzip && code?.startsWith('Z_') ? 'damaged gzip' : 'cannot be read to its end';
  const where = lines > 0 ? `after line ${lines}; the lines before it were read` : 'before its first line';
  return `${what} (${(error as Error).message}) ${where}`;
}

function isErrorRecord(line: string): boolean {
  if (!line.trimStart().startsWith('{')) return false;
  try {
    const parsed = JSON.parse(line) as { rawData?: unknown };
    return typeof parsed.rawData === 'string';
  } catch {
    return false;
  }
}

/** Parquet as flow logs deliver it to S3: a file DuckDB reads (`options.readParquet`), mapped by `readParquetTable`. */
async function* readParquet(
  path: string,
  source: string,
  options: InputOptions,
  damaged: (problem: InputProblem) => void,
): AsyncGenerator<InputRecord> {
  if (!options.readParquet) throw new Error('Parquet inputs need DuckDB');
  let table: ParquetTable;
  try {
    table = await options.readParquet(path);
  } catch (error) {
    damaged({ source, message: `not a readable Parquet file (${(error as Error).message})` });
    return;
  }
  yield* readParquetTable(table, source, damaged);
}

/**
 * The log format of a Parquet file of flow logs, from its column names: AWS names each column after its field
 * with `_` for `-` (`log_status`, `pkt_srcaddr`, `tgw_src_eni`); `start`, `end` and the rest are verbatim.
 *
 * @example parquetFormat(['version', 'account_id', 'interface_id', 'log_status'])
 *   // '${version} ${account-id} ${interface-id} ${log-status}'
 */
export function parquetFormat(columns: readonly string[]): string {
  return formatFromHeader(
    columns.map((column) => PARQUET_FIELD.get(column) ?? column.replaceAll('_', '-')).join(' '),
  );
}

/** Parquet column name (a field's key) → the field's name in a log format. */
const PARQUET_FIELD = new Map([...FIELDS.values()].map((field) => [field.key, field.name]));

/**
 * One Parquet row as the flow-log line the text path would read: the values in column order, separated by
 * spaces, a missing value (`null`) as `-`. Integers arrive as numbers or bigints (INT64) and print the same.
 *
 * @example parquetLine(['version', 'srcport', 'action'], { version: 2, srcport: 443n, action: null })
 *   // '2 443 -\n'
 */
export function parquetLine(columns: readonly string[], row: Readonly<Record<string, unknown>>): string {
  let line = '';
  for (const [index, column] of columns.entries()) {
    const value = row[column];
    line += `${index === 0 ? '' : ' '}${value === null || value === undefined ? '-' : String(value)}`;
  }
  return `${line}\n`;
}

/**
 * Every row of a Parquet table (DuckDB's over a file, or hyparquet's over ranged S3 reads) as a record of one
 * flow-log line, in the format its columns name. A table that fails part-way is reported to `damaged` after
 * the rows before the damage.
 */
export async function* readParquetTable(
  table: ParquetTable,
  source: string,
  damaged: (problem: InputProblem) => void,
): AsyncGenerator<InputRecord> {
  const { columns } = table;
  const format = parquetFormat(columns);
  let number = 0;
  try {
    for await (const rows of table.batches) {
      for (const row of rows) {
        number++;
        yield { data: Buffer.from(parquetLine(columns, row)), source, line: number, format };
      }
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    damaged({
      source,
      message: `cannot be read to its end (${(error as Error).message}) ${number > 0 ? `after row ${number}; the rows before it were read` : 'before its first row'}`,
    });
  }
}
