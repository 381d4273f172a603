import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createEc2Inventory } from './aws/ec2-inventory.js';
import { AWS_REQUEST_HANDLER, callAws } from './aws/timeouts.js';
import { type BatchResult, backfillBatch } from './backfill/batch.js';
import { type BackfillBatch, loadBackfillConfig } from './backfill/config.js';
import { createBackfillWorker } from './backfill/worker.js';
import { loadConfig } from './config.js';
import { createPipeline } from './pipeline.js';

// Built once per container: a bad variable fails the cold start, not an item.
const config = loadConfig(process.env);
const backfill = loadBackfillConfig(process.env);
const inventory = createEc2Inventory({ roles: config.enrichment.crossAccountRoles });
const s3 = new S3Client({ requestHandler: AWS_REQUEST_HANDLER });

const worker = createBackfillWorker({
  store: {
    open: async (Bucket, Key) => (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body as Readable,
    // Parquet: the footer, then each row group's column chunks, by range (never the whole object).
    read: async (Bucket, Key, start, end) => {
      const command = new GetObjectCommand({ Bucket, Key, Range: `bytes=${start}-${end - 1}` });
      const object = await callAws('S3 GetObject', command, (abortSignal) =>
        s3.send(command, { abortSignal }),
      );
      return (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    },
    size: async (Bucket, Key) => {
      const command = new HeadObjectCommand({ Bucket, Key });
      const head = await callAws('S3 HeadObject', command, (abortSignal) =>
        s3.send(command, { abortSignal }),
      );
      return head.ContentLength ?? 0;
    },
    put: async (Bucket, Key, Body) => {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'application/x-ndjson' }));
    },
  },
  pipelineFor: (format, reingester, onRecordError) =>
    createPipeline({
      // The object's header (or Parquet columns) is its format; the stack's FLOW_LOG_FORMAT otherwise.
      config: format ? loadConfig({ ...process.env, FLOW_LOG_FORMAT: format }) : config,
      inventory,
      reingester,
      onRecordError,
      writeLine: (line) => process.stdout.write(`${line}\n`),
      peerDataPath: fileURLToPath(new URL('./peer-data.bin', import.meta.url)),
    }),
  region: process.env.AWS_REGION ?? 'us-east-1',
  bufferBytes: backfill.bufferBytes,
  streamArn: backfill.streamArn,
  lambdaArn: backfill.transformFunctionArn,
});

/**
 * The Distributed Map's worker: each listed object of the batch, one after the other, into the stack's
 * bucket (`backfillBatch`). A damaged object is named in the answer's `cause` and the state machine fails the
 * batch with it, so the map counts it against ToleratedFailurePercentage and its ResultWriter lists it; the
 * other objects of the batch are backfilled all the same. Running it again overwrites.
 */
export const handler = async (event: BackfillBatch): Promise<BatchResult> =>
  backfillBatch(
    worker,
    event.Items,
    backfill.sourceBucket,
    { bucket: backfill.outputBucket, prefix: '', layout: backfill.layout },
    (summary) =>
      process.stdout.write(`${JSON.stringify({ level: 'INFO', message: 'backfilled', ...summary })}\n`),
  );
