import { gunzipSync } from 'node:zlib';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { createFirehoseReingester, PUT_LIMITS } from '../aws/firehose-reingester.js';
import type { CliContext } from './context.js';
import { s3Objects } from './s3-objects.js';
import { awsClientConfig, type PipelineFlags } from './setup.js';

export interface RedriveFlags extends Pick<PipelineFlags, 'region' | 'endpointUrl'> {
  readonly bucket: string;
  readonly prefix: string;
  readonly stream: string;
  readonly dryRun?: boolean;
  /** Delete each error object once all of its records were accepted (a rerun then sends nothing twice). */
  readonly deleteSent?: boolean;
}

export interface RedriveResult {
  readonly objects: number;
  readonly found: number;
  readonly sent: number;
  readonly skipped: number;
  readonly failed: number;
}

/**
 * `flowlog-enrich redrive`: reads Firehose error records (the error prefix's JSON objects with `rawData`)
 * from S3 and puts the original data back into the stream with PutRecordBatch (≤ 500 records and 4 MiB
 * per call, failed entries retried with backoff) — what a user runs after fixing a wrong log format.
 */
export async function redrive(flags: RedriveFlags, ctx: CliContext): Promise<RedriveResult> {
  const config = awsClientConfig(flags, ctx.env);
  const s3 = await s3Objects(flags, ctx.env);
  const firehose = new FirehoseClient(config);
  const keys = await s3.list(flags.bucket, flags.prefix);

  // One object at a time: memory stays bounded, and an object whose records were all accepted can be
  // deleted (--delete-sent), so running redrive again after a partial failure does not send them twice.
  const reingester = createFirehoseReingester(firehose);
  let found = 0;
  let skipped = 0;
  let sent = 0;
  let failed = 0;
  let deleted = 0;
  for (const key of keys.sort()) {
    let body = await s3.get(flags.bucket, key);
    if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
    const records: Buffer[] = [];
    const skippedBefore = skipped;
    for (const line of body.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      found++;
      let raw: unknown;
      try {
        raw = (JSON.parse(line) as { rawData?: unknown }).rawData;
      } catch {
        raw = undefined;
      }
      const data = typeof raw === 'string' ? Buffer.from(raw, 'base64') : undefined;
      if (!data || data.length === 0 || data.length > PUT_LIMITS.recordBytes) {
        skipped++;
        continue;
      }
      records.push(data);
    }
    if (flags.dryRun || records.length === 0) {
      if (flags.dryRun) sent += records.length;
      continue;
    }
    const outcome = await reingester.reingest(`/${flags.stream}`, records, Date.now() + 120_000);
    const accepted = outcome.accepted.filter(Boolean).length;
    sent += accepted;
    failed += records.length - accepted;
    // Only an object all of whose records were sent: a skipped record exists nowhere else.
    if (flags.deleteSent && accepted === records.length && skipped === skippedBefore) {
      await s3.delete(flags.bucket, key);
      deleted++;
    }
  }
  ctx.stdout(
    `${keys.length} error objects, ${found} error records: ` +
      (flags.dryRun
        ? `${sent} would be sent to ${flags.stream}`
        : `${sent} sent to ${flags.stream}, ${failed} failed`) +
      `, ${skipped} skipped (no rawData, empty or over 1,000 KiB)` +
      (flags.deleteSent
        ? `; ${deleted} objects deleted after all their records were accepted (objects with skipped records are kept)`
        : '') +
      '\n',
  );
  return { objects: keys.length, found, sent, skipped, failed };
}
