import * as zlib from 'node:zlib';
import {
  type AsyncBuffer,
  type ColumnData,
  type Compressors,
  type DecodedArray,
  type FileMetaData,
  flatten,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
} from 'hyparquet';
import type { ParquetTable } from '../local/inputs.js';

/**
 * Parquet flow logs in the worker Lambda, with hyparquet (pure JavaScript: no native code in the bundle).
 * The object is never held whole: its footer is read first, then one row group at a time, each as the byte
 * ranges of its column chunks (S3 ranged GETs), and rows are handed on in slices of ROWS_PER_BATCH. What is
 * held at once is one row group: its compressed chunks while they decode, its decoded columns, one slice of
 * rows.
 */

/** Bytes `[start, end)` of the object: an S3 GetObject with `Range: bytes=start-(end-1)`. */
export type ReadRange = (start: number, end: number) => Promise<Uint8Array>;

/** Rows per batch handed on; a row group's decoded columns are held, its rows are made a slice at a time. */
export const ROWS_PER_BATCH = 8192;

// Node's own zlib: flow logs deliver Parquet with GZIP (AWS, "Flow log files"); hyparquet itself reads
// only uncompressed and Snappy. ZSTD where the runtime has it (Node ≥ 22.15, so Lambda's nodejs22.x).
const zstd = (zlib as { zstdDecompressSync?: (input: Uint8Array) => Uint8Array }).zstdDecompressSync;

/** Decompressors for the codecs Parquet writers use beyond Snappy. */
export const COMPRESSORS: Compressors = {
  // `unzip` takes gzip (the Parquet spec's GZIP) and zlib streams (some writers' GZIP) alike.
  GZIP: (input) => zlib.unzipSync(input),
  BROTLI: (input) => zlib.brotliDecompressSync(input),
  ...(zstd ? { ZSTD: (input: Uint8Array) => zstd(input) } : {}),
};

/** A Parquet object as hyparquet reads it: `byteLength` from the listing (or HeadObject), slices by range. */
export function rangeBuffer(byteLength: number, read: ReadRange): AsyncBuffer {
  return {
    byteLength,
    async slice(start, end = byteLength) {
      if (end <= start) return new ArrayBuffer(0);
      const bytes = await read(start, end);
      // A short answer is an object that changed or ended early: never decode what is not there.
      if (bytes.byteLength !== end - start)
        throw new Error(`bytes ${start}–${end}: the read returned ${bytes.byteLength} bytes`);
      if (
        bytes.buffer instanceof ArrayBuffer &&
        bytes.byteOffset === 0 &&
        bytes.byteLength === bytes.buffer.byteLength
      )
        return bytes.buffer;
      return bytes.slice().buffer as ArrayBuffer;
    },
  };
}

/**
 * Opens a Parquet object of flow logs: reads its footer (a damaged one throws here, before any row) and
 * returns its columns and its rows, a row group at a time, for `readParquetTable` (src/local/inputs.ts) to
 * turn into the lines the text path reads.
 */
export async function openParquet(file: AsyncBuffer): Promise<ParquetTable> {
  const metadata = await parquetMetadataAsync(file, { geoparquet: false });
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  return { columns, batches: rowGroups(file, metadata, columns) };
}

async function* rowGroups(
  file: AsyncBuffer,
  metadata: FileMetaData,
  columns: readonly string[],
): AsyncGenerator<Record<string, unknown>[]> {
  let groupStart = 0;
  for (const [index, group] of metadata.row_groups.entries()) {
    const groupRows = Number(group.num_rows);
    const rowStart = groupStart;
    groupStart += groupRows;
    if (groupRows === 0) continue;
    const chunks = new Map<string, ColumnData[]>(columns.map((column) => [column, []]));
    try {
      // Only this group's column chunks are fetched (hyparquet plans the ranges from rowStart/rowEnd).
      await parquetRead({
        file,
        metadata,
        rowStart,
        rowEnd: groupStart,
        compressors: COMPRESSORS,
        geoparquet: false,
        onChunk: (chunk) => chunks.get(chunk.columnName)?.push(chunk),
      });
    } catch (error) {
      throw new Error(`row group ${index}: ${(error as Error).message}`, { cause: error });
    }
    const values = columns.map((column) =>
      groupColumn(chunks.get(column) ?? [], rowStart, groupRows, column),
    );
    chunks.clear();
    for (let first = 0; first < groupRows; first += ROWS_PER_BATCH) {
      const last = Math.min(first + ROWS_PER_BATCH, groupRows);
      const rows: Record<string, unknown>[] = [];
      for (let row = first; row < last; row++) {
        const record: Record<string, unknown> = {};
        for (const [at, column] of columns.entries()) record[column] = (values[at] as DecodedArray)[row];
        rows.push(record);
      }
      yield rows;
    }
  }
}

/** One column of one row group as a single array of its `groupRows` values (chunks arrive in pieces). */
function groupColumn(
  chunks: ColumnData[],
  groupStart: number,
  groupRows: number,
  column: string,
): DecodedArray {
  const sorted = chunks.sort((a, b) => a.rowStart - b.rowStart);
  const data = flatten(sorted.map((chunk) => chunk.columnData));
  const first = sorted[0]?.rowStart ?? groupStart;
  if (first !== groupStart || data.length < groupRows)
    throw new Error(`column ${column}: ${data.length} values for the row group's ${groupRows} rows`);
  return data;
}
