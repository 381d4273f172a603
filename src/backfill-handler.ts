import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createEc2Inventory } from './aws/ec2-inventory.js';
import { AWS_REQUEST_HANDLER } from './aws/timeouts.js';
import { type BackfillBatch, lastModifiedMs, loadBackfillConfig } from './backfill/config.js';
import { createBackfillWorker } from './backfill/worker.js';
import { loadConfig } from './config.js';
import { createPipeline } from './pipeline.js';

// Built once per container: a bad variable fails the cold start, not an item.
const config = loadConfig(process.env);
const backfill = loadBackfillConfig(process.env);
const inventory = createEc2Inventory({ roles: config.enrichment.crossAccountRoles });
const s3 = new S3Client({ requestHandler: AWS_REQUEST_HANDLER });
const scratch = mkdtempSync(join(tmpdir(), 'backfill-'));
let temp = 0;

const worker = createBackfillWorker({
  store: {
    open: async (Bucket, Key) => (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body as Readable,
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
  tempFile: (extension) => join(scratch, `object-${temp++}${extension}`),
  // DuckDB (native) is not in the Lambda bundle: a Parquet object fails its item, named, and
  // `flowlog-enrich run --input s3://… --out s3://…` backfills it with the same keys.
  readParquet: async () => {
    throw new Error(
      'the worker Lambda does not read Parquet; backfill it with flowlog-enrich run --out s3://',
    );
  },
});

/**
 * The Distributed Map's worker: each listed object of the batch, one after the other, into the stack's
 * bucket. An object that cannot be read to its end fails the batch (after writing what it read), so the map
 * counts it against ToleratedFailurePercentage and its ResultWriter lists it; running it again overwrites.
 */
export const handler = async (event: BackfillBatch) => {
  const results = [];
  for (const item of event.Items) {
    const result = await worker.backfill(
      { bucket: backfill.sourceBucket, key: item.Key, lastModifiedMs: lastModifiedMs(item) },
      { bucket: backfill.outputBucket, prefix: '', layout: backfill.layout },
    );
    const { written, damaged, ...counts } = result;
    process.stdout.write(
      `${JSON.stringify({ level: 'INFO', message: 'backfilled', ...counts, objects: written.length })}\n`,
    );
    if (damaged.length > 0)
      throw new Error(`${result.source} is damaged: ${damaged.map((problem) => problem.message).join('; ')}`);
    results.push({ ...counts, objects: written.length });
  }
  return { objects: results.length, lines: results.reduce((n, r) => n + r.lines, 0), results };
};
