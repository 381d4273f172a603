import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import type { FlowlogError } from '../errors.js';
import type { Reingester } from '../firehose/reingest.js';
import type { PartitionKeys } from '../firehose/result.js';
import { type InputProblem, type InputRecord, readObject, readParquetTable } from '../local/inputs.js';
import { sanitizeKey } from '../output/partition.js';
import type { Pipeline } from '../pipeline.js';
import { openParquet, rangeBuffer } from './parquet.js';

/**
 * The backfill worker: one S3 object of flow logs (text, gzip or Parquet as flow logs deliver them) through
 * the Firehose transform, written as GZIP JSON Lines under the delivery stream's partition folders, failed
 * lines under its error prefix in Firehose's error-record shape. The Step Functions worker Lambda and
 * `flowlog-enrich run --out s3://…` both call `backfill`, so they write the same objects under the same keys.
 *
 * Idempotent: every key is derived from the source object (bucket and key), the partition and a sequence
 * number within that partition, and the records' arrival time is the source object's LastModified, so a
 * retried or re-run object overwrites what it wrote before instead of adding to it.
 */

/** The S3 calls the worker makes (the S3 client in Lambda and the CLI; an in-memory fake in tests). */
export interface ObjectStore {
  /** The object's body as a stream: read as it arrives, never held whole. */
  open(bucket: string, key: string): Promise<Readable>;
  /** Bytes `[start, end)` of the object (a ranged GET): Parquet is read from its footer, a row group at a time. */
  read(bucket: string, key: string, start: number, end: number): Promise<Uint8Array>;
  /** The object's size in bytes (HeadObject), for a Parquet object the listing gave no size for. */
  size(bucket: string, key: string): Promise<number>;
  put(bucket: string, key: string, body: Buffer): Promise<void>;
}

/** The delivery stream's PartitionLayout values (template.yaml); each names the folders of one layout. */
export const PARTITION_LAYOUTS = {
  'account-region-day-hour': ['aws_account_id', 'aws_region', 'dt', 'hour'],
  'account-region-day': ['aws_account_id', 'aws_region', 'dt'],
  'region-day-hour': ['aws_region', 'dt', 'hour'],
  'region-day': ['aws_region', 'dt'],
} as const;

export type PartitionLayout = keyof typeof PARTITION_LAYOUTS;

export function isPartitionLayout(value: string): value is PartitionLayout {
  return Object.hasOwn(PARTITION_LAYOUTS, value);
}

const FOLDER_KEY: Readonly<Record<string, keyof PartitionKeys>> = {
  aws_account_id: 'account_id',
  aws_region: 'region',
  dt: 'dt',
  hour: 'hour',
};

/**
 * The folder of one record's keys under `flowlogs/`, as the stream's Prefix gives it for `layout`.
 * @example dataFolder({ account_id: '123456789010', region: 'us-east-1', dt: '2026-01-02', hour: '03' })
 *   // → 'flowlogs/aws_account_id=123456789010/aws_region=us-east-1/dt=2026-01-02/hour=03/'
 */
export function dataFolder(keys: PartitionKeys, layout: PartitionLayout = 'account-region-day-hour'): string {
  return `flowlogs/${PARTITION_LAYOUTS[layout].map((folder) => `${folder}=${keys[FOLDER_KEY[folder] as keyof PartitionKeys]}`).join('/')}/`;
}

/** The error folder Firehose's ErrorOutputPrefix gives processing failures arriving at `arrivalMs`. */
export function errorFolder(arrivalMs: number): string {
  return `errors/processing-failed/dt=${new Date(arrivalMs).toISOString().slice(0, 10)}/`;
}

/**
 * The part of every output key that names its source: readable (the object's file name) and unique (a hash
 * of bucket and key, as two files of one name sit in many folders).
 */
export function sourceStem(bucket: string, key: string): string {
  const name = sanitizeKey(key.slice(key.lastIndexOf('/') + 1)).slice(0, 100);
  const hash = createHash('sha256').update(`${bucket}/${key}`).digest('hex').slice(0, 16);
  return `backfill-${name}-${hash}`;
}

/** One object to backfill: where it is, and when S3 received it (the records' arrival time). */
export interface SourceObject {
  readonly bucket: string;
  readonly key: string;
  readonly lastModifiedMs: number;
  /** Its size in bytes, as listed (the map's item `Size`); asked of the store when not given. */
  readonly size?: number;
}

/** Where the output goes: a bucket, a prefix above `flowlogs/` and `errors/` ('' for the bucket's root). */
export interface OutputTarget {
  readonly bucket: string;
  readonly prefix: string;
  readonly layout?: PartitionLayout;
}

export interface WorkerOptions {
  readonly store: ObjectStore;
  /** A pipeline per log format (the object's header selects it), built once per container and format. */
  readonly pipelineFor: (
    format: string | undefined,
    reingester: Reingester,
    onRecordError: (index: number, error: FlowlogError) => void,
  ) => Promise<Pipeline>;
  readonly region: string;
  /** Input bytes per transform invocation (the template's ProcessorBufferSizeMB). */
  readonly bufferBytes: number;
  /** Uncompressed bytes per output object before the next one starts (Firehose's buffer; default 64 MiB). */
  readonly objectBytes?: number;
  /** Compressed bytes held across all open objects before the largest is written (default 32 MiB). */
  readonly memoryBytes?: number;
  /** The ARNs the transform and the error records name (the stream's and the worker's). */
  readonly streamArn: string;
  readonly lambdaArn: string;
  readonly now?: () => number;
}

/** What backfilling one object did. */
export interface ObjectResult {
  readonly source: string;
  lines: number;
  ok: number;
  dropped: number;
  failed: number;
  reingested: number;
  invocations: number;
  /** Flows written (an Ok record may hold several). */
  flows: number;
  /** Keys written, in the order written. */
  readonly written: string[];
  /** The object could not be read to its end: what was read before the damage is written. */
  readonly damaged: InputProblem[];
}

export interface BackfillWorker {
  backfill(source: SourceObject, target: OutputTarget): Promise<ObjectResult>;
}

interface Pending {
  readonly data: Buffer;
  readonly line: number;
  readonly source: string;
}

/** One output object being written: gzip as the lines come, the compressed bytes held until it is put. */
class GzipObject {
  private readonly gzip: Gzip = createGzip();
  private readonly chunks: Buffer[] = [];
  compressed = 0;
  raw = 0;
  constructor() {
    this.gzip.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.compressed += chunk.length;
    });
  }
  async write(text: string): Promise<void> {
    this.raw += text.length;
    if (!this.gzip.write(text)) await once(this.gzip, 'drain');
  }
  async finish(): Promise<Buffer> {
    const ended = once(this.gzip, 'end');
    this.gzip.end();
    await ended;
    return Buffer.concat(this.chunks);
  }
}

/** Builds the worker once per container (the pipelines it builds are kept per format). */
export function createBackfillWorker(options: WorkerOptions): BackfillWorker {
  const objectBytes = options.objectBytes ?? 64 * 1024 * 1024;
  const memoryBytes = options.memoryBytes ?? 32 * 1024 * 1024;
  const now = options.now ?? Date.now;
  const pipelines = new Map<string, Promise<Pipeline>>();
  // The running invocation's failures and re-ingested records (one invocation at a time per worker).
  let failures = new Map<number, FlowlogError>();
  let reingested: Pending[] = [];
  const reingester: Reingester = {
    // Firehose puts re-ingested records back into its buffer: here, back into this object's queue.
    reingest: async (_arn, records) => {
      for (const data of records) reingested.push({ data: Buffer.from(data), line: 0, source: 'reingested' });
      return { accepted: records.map(() => true), calls: 1, retries: 0 };
    },
  };
  const pipelineFor = (format: string | undefined) => {
    const key = format ?? '';
    let pipeline = pipelines.get(key);
    if (!pipeline) {
      pipeline = options.pipelineFor(format, reingester, (index, error) => failures.set(index, error));
      pipelines.set(key, pipeline);
    }
    return pipeline;
  };

  return {
    async backfill(source, target) {
      const sourceUrl = `s3://${source.bucket}/${source.key}`;
      const result: ObjectResult = {
        source: sourceUrl,
        lines: 0,
        ok: 0,
        dropped: 0,
        failed: 0,
        reingested: 0,
        invocations: 0,
        flows: 0,
        written: [],
        damaged: [],
      };
      const stem = sourceStem(source.bucket, source.key);
      const arrival = source.lastModifiedMs;
      const open = new Map<string, GzipObject>();
      const sequence = new Map<string, number>();
      const held = () => {
        let bytes = 0;
        for (const object of open.values()) bytes += object.compressed;
        return bytes;
      };

      const put = async (folder: string) => {
        const object = open.get(folder);
        if (!object) return;
        open.delete(folder);
        const body = await object.finish();
        const index = sequence.get(folder) ?? 0;
        sequence.set(folder, index + 1);
        const key = `${target.prefix}${folder}${stem}-${index}.gz`;
        await options.store.put(target.bucket, key, body);
        result.written.push(key);
      };
      const write = async (folder: string, text: string) => {
        let object = open.get(folder);
        if (!object) {
          object = new GzipObject();
          open.set(folder, object);
        }
        await object.write(text);
        if (object.raw >= objectBytes) await put(folder);
        // Many partitions at once (an object spanning days): the largest goes out first, memory stays bounded.
        while (open.size > 0 && held() > memoryBytes) {
          const largest = [...open].sort((a, b) => b[1].compressed - a[1].compressed)[0]?.[0] as string;
          await put(largest);
        }
      };

      let format: string | undefined;
      let queue: Pending[] = [];
      let queued = 0;
      let recordId = 0;
      const invoke = async (batch: Pending[]) => {
        const pipeline = await pipelineFor(format);
        failures = new Map();
        reingested = [];
        const records: FirehoseTransformationEventRecord[] = batch.map((pending) => ({
          recordId: String(++recordId).padStart(20, '0'),
          approximateArrivalTimestamp: arrival,
          data: pending.data.toString('base64'),
        }));
        const response = await pipeline.transform({
          invocationId: `backfill-${stem}-${result.invocations}`,
          deliveryStreamArn: options.streamArn,
          region: options.region,
          records,
        });
        result.invocations++;
        const byFolder = new Map<string, string[]>();
        for (const [index, answer] of response.records.entries()) {
          const input = batch[index] as Pending;
          if (answer.result === 'Ok') {
            result.ok++;
            const text = Buffer.from(answer.data, 'base64').toString('utf8');
            const folder = dataFolder(answer.metadata.partitionKeys, target.layout);
            const texts = byFolder.get(folder) ?? [];
            texts.push(text);
            byFolder.set(folder, texts);
            for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) result.flows++;
          } else if (answer.result === 'Dropped') {
            result.dropped++;
          } else {
            result.failed++;
            const error = failures.get(index);
            const message = error ? `${error.reason}: ${error.message}` : 'processing failed';
            // Firehose's own error-record shape, with the original data; our reason in errorMessage.
            const line = `${JSON.stringify({
              attemptsMade: 1,
              arrivalTimestamp: arrival,
              errorCode: 'Lambda.ProcessingFailed',
              errorMessage: `${input.source}:${input.line}: ${message}`,
              attemptEndingTimestamp: now(),
              rawData: input.data.toString('base64'),
              lambdaArn: options.lambdaArn,
            })}\n`;
            const folder = errorFolder(arrival);
            byFolder.set(folder, [...(byFolder.get(folder) ?? []), line]);
          }
        }
        for (const [folder, texts] of byFolder) await write(folder, texts.join(''));
        const again = reingested;
        result.reingested += again.length;
        return again;
      };
      const flush = async () => {
        let batch = queue;
        queue = [];
        queued = 0;
        // What the transform re-ingests goes back in, as Firehose would, until nothing is left.
        while (batch.length > 0) batch = await invoke(batch);
      };

      const damaged = (problem: InputProblem) => result.damaged.push(problem);
      const records = source.key.endsWith('.parquet')
        ? readParquetObject(options.store, source, sourceUrl, damaged)
        : readObject(
            source.bucket,
            source.key,
            await options.store.open(source.bucket, source.key),
            {},
            damaged,
          );
      for await (const record of records) {
        result.lines++;
        // One object has one format (its header or its Parquet columns); it is known by its first record.
        if (record.format !== format) {
          await flush();
          format = record.format;
        }
        queue.push({ data: record.data, line: record.line, source: record.source });
        queued += record.data.length;
        if (queued >= options.bufferBytes) await flush();
      }
      await flush();
      // Sorted: the keys written do not depend on which partition filled first.
      for (const folder of [...open.keys()].sort()) await put(folder);
      return result;
    },
  };
}

/**
 * A Parquet object's records, read with ranged GETs (never whole, never to a file): its footer, then a row
 * group at a time. A footer that cannot be read, or a row group that cannot be decoded, is reported to
 * `damaged` (after the rows before it), never thrown.
 */
async function* readParquetObject(
  store: ObjectStore,
  source: SourceObject,
  sourceUrl: string,
  damaged: (problem: InputProblem) => void,
): AsyncGenerator<InputRecord> {
  const size = source.size ?? (await store.size(source.bucket, source.key));
  let table: Awaited<ReturnType<typeof openParquet>>;
  try {
    table = await openParquet(
      rangeBuffer(size, (start, end) => store.read(source.bucket, source.key, start, end)),
    );
  } catch (error) {
    damaged({ source: sourceUrl, message: `not a readable Parquet file (${(error as Error).message})` });
    return;
  }
  yield* readParquetTable(table, sourceUrl, damaged);
}
