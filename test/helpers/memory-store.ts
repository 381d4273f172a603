import { Readable } from 'node:stream';
import { createBackfillWorker, type ObjectStore } from '../../src/backfill/worker.js';
import { loadConfig } from '../../src/config.js';
import { createPipeline } from '../../src/pipeline.js';

/**
 * An object store in memory for the backfill worker. `open` hands the body out in small chunks, as a network
 * stream would; `read` answers ranged GETs and records each range, so tests can see what was fetched.
 */
export function memoryStore(objects: Record<string, Buffer>) {
  const written = new Map<string, Buffer>();
  const ranges: { key: string; start: number; end: number }[] = [];
  const opened: string[] = [];
  const body = (bucket: string, key: string) => {
    const bytes = objects[`${bucket}/${key}`];
    if (!bytes) throw new Error(`NoSuchKey: ${bucket}/${key}`);
    return bytes;
  };
  const store: ObjectStore = {
    open: async (bucket, key) => {
      const bytes = body(bucket, key);
      opened.push(`${bucket}/${key}`);
      const chunks = Array.from({ length: Math.ceil(bytes.length / 4096) }, (_, i) =>
        bytes.subarray(i * 4096, (i + 1) * 4096),
      );
      return Readable.from(chunks);
    },
    read: async (bucket, key, start, end) => {
      ranges.push({ key: `${bucket}/${key}`, start, end });
      // As S3 answers a Range past the end: the bytes there are.
      return Uint8Array.from(body(bucket, key).subarray(start, end));
    },
    size: async (bucket, key) => body(bucket, key).length,
    put: async (bucket, key, bytes) => {
      written.set(`${bucket}/${key}`, bytes);
    },
  };
  return { store, written, ranges, opened };
}

/** A backfill worker over `store` with enrichment off and a 64 KiB buffer (object and memory sizes as given). */
export const backfillWorker = (
  store: ObjectStore,
  sizes: { objectBytes?: number; memoryBytes?: number } = {},
) =>
  createBackfillWorker({
    store,
    region: 'us-east-1',
    bufferBytes: 64 * 1024,
    ...sizes,
    streamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/flowlog-enrich',
    lambdaArn: 'arn:aws:lambda:us-east-1:123456789012:function:transform',
    now: () => 0,
    pipelineFor: (format, reingester, onRecordError) =>
      createPipeline({
        config: loadConfig({ ENRICHMENT: 'off', ...(format ? { FLOW_LOG_FORMAT: format } : {}) }),
        reingester,
        onRecordError,
        writeLine: () => {},
      }),
  });
