import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
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
}

export interface InputOptions {
  readonly stdin?: Readable;
  readonly objects?: () => Promise<ObjectSource>;
  /** Reads a Parquet file's rows (DuckDB), as column name → value. */
  readonly readParquet?: (path: string) => Promise<{ columns: string[]; rows: Record<string, unknown>[] }>;
  readonly tempFile?: (data: Buffer, extension: string) => string;
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
  for (const path of paths) {
    if (path === '-') {
      yield* readText(options.stdin ?? process.stdin, 'stdin');
    } else if (path.startsWith('s3://')) {
      yield* readS3(path, options);
    } else if (statSync(path).isDirectory()) {
      // Hidden files and folders are skipped (a run's own staging folder among them).
      const files = readdirSync(path, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name))
        .filter(
          (file) =>
            !relative(path, file)
              .split(sep)
              .some((part) => part.startsWith('.')),
        )
        .sort();
      for (const file of files) yield* readFile(file, options);
    } else {
      yield* readFile(path, options);
    }
  }
}

async function* readFile(path: string, options: InputOptions): AsyncGenerator<InputRecord> {
  if (path.endsWith('.parquet')) {
    yield* readParquet(path, path, options);
    return;
  }
  const stream = createReadStream(path);
  yield* readText(path.endsWith('.gz') ? stream.pipe(createGunzip()) : stream, path);
}

async function* readS3(url: string, options: InputOptions): AsyncGenerator<InputRecord> {
  if (!options.objects) throw new Error('s3:// inputs need an S3 client');
  const objects = await options.objects();
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1);
  for (const key of (await objects.list(bucket, prefix)).sort()) {
    const body = await objects.get(bucket, key);
    const source = `s3://${bucket}/${key}`;
    if (key.endsWith('.parquet')) {
      if (!options.tempFile) throw new Error('Parquet from S3 needs a temporary file');
      yield* readParquet(options.tempFile(body, '.parquet'), source, options);
    } else {
      const { Readable } = await import('node:stream');
      const stream = Readable.from([body]);
      yield* readText(key.endsWith('.gz') ? stream.pipe(createGunzip()) : stream, source);
    }
  }
}

/** Text: flow-log lines (one record each), or Firehose error records (one JSON object per line). */
async function* readText(stream: Readable, source: string): AsyncGenerator<InputRecord> {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let format: string | undefined;
  let number = 0;
  let errorRecords: boolean | undefined;
  for await (const line of lines) {
    number++;
    if (errorRecords === undefined && line.trim() !== '') {
      errorRecords = isErrorRecord(line);
      if (!errorRecords && isHeaderLine(line.trim())) {
        // The header of an S3-delivered file is its format.
        format = formatFromHeader(line);
        continue;
      }
    }
    if (errorRecords) {
      if (line.trim() === '') continue;
      const raw = (JSON.parse(line) as { rawData?: unknown }).rawData;
      if (typeof raw !== 'string') throw new Error(`${source}:${number}: an error record without rawData`);
      yield { data: Buffer.from(raw, 'base64'), source, line: number, ...(format ? { format } : {}) };
      continue;
    }
    yield { data: Buffer.from(`${line}\n`), source, line: number, ...(format ? { format } : {}) };
  }
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

/** Parquet as flow logs deliver it to S3: one column per field, named with `_`; rows become lines again. */
async function* readParquet(
  path: string,
  source: string,
  options: InputOptions,
): AsyncGenerator<InputRecord> {
  if (!options.readParquet) throw new Error('Parquet inputs need DuckDB');
  const { columns, rows } = await options.readParquet(path);
  const byKey = new Map([...FIELDS.values()].map((field) => [field.key, field.name]));
  const names = columns.map((column) => byKey.get(column) ?? column.replaceAll('_', '-'));
  const format = formatFromHeader(names.join(' '));
  let number = 0;
  for (const row of rows) {
    number++;
    const line = columns
      .map((column) => (row[column] === null || row[column] === undefined ? '-' : String(row[column])))
      .join(' ');
    yield { data: Buffer.from(`${line}\n`), source, line: number, format };
  }
}
