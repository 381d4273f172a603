import { ConfigError } from '../errors.js';
import { isPartitionLayout, type PartitionLayout } from './worker.js';

/** What the backfill worker Lambda reads from its environment (template.yaml, BackfillFunction). */
export interface BackfillConfig {
  /** The only bucket the worker reads: the state machine lists it, the role may read only its prefix. */
  readonly sourceBucket: string;
  /** The stack's flow-log bucket, written under `flowlogs/` and `errors/` as the stream writes it. */
  readonly outputBucket: string;
  readonly layout: PartitionLayout;
  /** The delivery stream's ARN (account of records without one) and the transform's (error records name it). */
  readonly streamArn: string;
  readonly transformFunctionArn: string;
  /** Input bytes per transform invocation: the stream's ProcessorBufferSizeMB. */
  readonly bufferBytes: number;
}

/** Parsed once at cold start; a missing or bad variable fails the start, naming the variable. */
export function loadBackfillConfig(env: Readonly<Record<string, string | undefined>>): BackfillConfig {
  const required = (name: string) => {
    const value = env[name]?.trim();
    if (!value) throw new ConfigError(name, 'is required');
    return value;
  };
  const layout = env.PARTITION_LAYOUT?.trim() || 'account-region-day-hour';
  if (!isPartitionLayout(layout))
    throw new ConfigError('PARTITION_LAYOUT', `${JSON.stringify(layout)} is not a PartitionLayout value`);
  const bufferMb = Number(env.PROCESSOR_BUFFER_MB ?? '0.5');
  if (!Number.isFinite(bufferMb) || bufferMb <= 0 || bufferMb > 3)
    throw new ConfigError(
      'PROCESSOR_BUFFER_MB',
      `${JSON.stringify(env.PROCESSOR_BUFFER_MB)} is not in (0, 3]`,
    );
  return Object.freeze({
    sourceBucket: required('SOURCE_BUCKET'),
    outputBucket: required('OUTPUT_BUCKET'),
    layout,
    streamArn: required('STREAM_ARN'),
    transformFunctionArn: required('TRANSFORM_FUNCTION_ARN'),
    bufferBytes: Math.round(bufferMb * 1024 * 1024),
  });
}

/** One item of the Distributed Map's S3 ListObjectsV2 reader (LastModified in epoch seconds, or ISO text). */
export interface ListedObject {
  readonly Key: string;
  readonly LastModified?: number | string;
  readonly Size?: number;
  readonly Etag?: string;
}

/** What the map's ItemBatcher hands the worker. */
export interface BackfillBatch {
  readonly Items: readonly ListedObject[];
  readonly BatchInput?: Readonly<Record<string, unknown>>;
}

/** The item's LastModified in ms (the records' arrival time); a reader that gives none fails the item. */
export function lastModifiedMs(item: ListedObject): number {
  const value = item.LastModified;
  const ms =
    typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new Error(`item ${item.Key}: LastModified ${JSON.stringify(value)} is not a time`);
  return ms;
}
