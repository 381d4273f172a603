import { gunzipSync, gzipSync } from 'node:zlib';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { chunks, PUT_LIMITS } from '../aws/firehose-reingester.js';
import { AwsCallError } from '../aws/timeouts.js';
import { type CliContext, CommandError } from './context.js';
import { type S3Objects, s3Objects } from './s3-objects.js';
import { awsClientConfig, type PipelineFlags } from './setup.js';

export interface RedriveFlags extends Pick<PipelineFlags, 'region' | 'endpointUrl'> {
  readonly bucket: string;
  readonly prefix: string;
  readonly stream: string;
  readonly dryRun?: boolean;
  /**
   * Delete each error object once all of its records were accepted, and rewrite one that was sent in part
   * with only the records not sent (a rerun then sends nothing twice).
   */
  readonly deleteSent?: boolean;
}

export interface RedriveResult {
  readonly objects: number;
  readonly found: number;
  readonly sent: number;
  readonly skipped: number;
  readonly failed: number;
  /** Objects that are not gzip or text they claim to be, and lines that are not error records (JSON). */
  readonly damaged: number;
  readonly deleted: number;
  readonly rewritten: number;
}

/** What redrive is built from; the CLI builds them from its flags, tests inject them. */
export interface RedriveDeps {
  /** Retries are redrive's own (below): give a client with `maxAttempts: 1`. */
  readonly firehose?: FirehoseClient;
  readonly s3?: S3Objects;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/**
 * Retries of PutRecordBatch, for errors that can pass (throttling, a service unavailable, a timeout) and for
 * the entries a call failed: at most `attempts` calls per batch, full-jitter backoff from `baseDelayMs`,
 * doubled per attempt up to `maxDelayMs` (at most ~6 s of waiting per batch).
 */
export const REDRIVE_RETRY = {
  attempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  callTimeoutMs: 30_000,
} as const;

/** Errors worth another attempt; any other error a service answers with (4xx) is final. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalServerError',
  'InternalError',
  'LimitExceededException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TooManyRequestsException',
  'SlowDown',
  'TimeoutError',
  'AbortError',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/** Whether an AWS SDK error may pass if the call is made again. */
export function isRetryable(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.name && RETRYABLE.has(e.name)) return true;
  if (e.$retryable) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

/** `Name: message` of an AWS error, on one line. */
function errorText(error: unknown): string {
  // An AWS call that failed is already one line: the operation, the AWS error's name and its message.
  if (error instanceof AwsCallError) {
    const cause = error.cause as { message?: string } | undefined;
    const detail = (cause?.message ?? '').replace(/\s+/g, ' ').trim();
    return detail ? `${error.name}: ${detail}` : error.name;
  }
  const e = error as { name?: string; code?: string; message?: string };
  const name = e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Error');
  const message = (e.message ?? String(error)).replace(/\s+/g, ' ').trim();
  return message && message !== name ? `${name}: ${message}` : name;
}

/** One line of an error object, and what redrive can do with it. */
interface Entry {
  readonly text: string;
  readonly data?: Buffer;
}

/**
 * `flowlog-enrich redrive`: reads Firehose error records (the error prefix's JSON objects with `rawData`)
 * from S3 and puts the original data back into the stream with PutRecordBatch (≤ 500 records and 4 MiB
 * per call) — what a user runs after fixing a wrong log format. An error that cannot pass (a stream that
 * does not exist, access denied, a validation error) stops it at once, named in one line; throttling and
 * unavailability are retried a bounded number of times with backoff. With `--delete-sent`, each object is
 * deleted once all its records were accepted, or rewritten with only the records it still needs to send.
 */
export async function redrive(
  flags: RedriveFlags,
  ctx: CliContext,
  deps: RedriveDeps = {},
): Promise<RedriveResult> {
  const s3 = deps.s3 ?? (await s3Objects(flags, ctx.env));
  const firehose =
    deps.firehose ?? new FirehoseClient({ ...awsClientConfig(flags, ctx.env), maxAttempts: 1 });
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = deps.random ?? Math.random;
  const where = `s3://${flags.bucket}/${flags.prefix}`;

  let keys: string[];
  try {
    keys = (await s3.list(flags.bucket, flags.prefix)).sort();
  } catch (error) {
    throw new CommandError(`redrive: cannot list ${where}: ${errorText(error)}`, 1, { cause: error });
  }

  // Ctrl-C or SIGTERM: finish the call in flight, settle the object (rewrite it with what was not sent), stop.
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const counts = { found: 0, sent: 0, skipped: 0, failed: 0, damaged: 0, deleted: 0, rewritten: 0 };
  const failureReasons = new Map<string, number>();
  const report = (line: string) => {
    // The first 20 problems in full; the counts say the rest.
    if (counts.damaged <= 20) ctx.stderr(`flowlog-enrich: ${line}\n`);
  };
  try {
    // One object at a time: memory stays bounded, and each object is settled (deleted or rewritten with
    // --delete-sent) before the next is read, so a rerun after any stop sends nothing twice.
    for (const key of keys) {
      const url = `s3://${flags.bucket}/${key}`;
      let body: Buffer;
      try {
        body = await s3.get(flags.bucket, key);
      } catch (error) {
        throw new CommandError(stopped(url, `cannot read it: ${errorText(error)}`, counts), 1, {
          cause: error,
        });
      }
      const gzip = body[0] === 0x1f && body[1] === 0x8b;
      let text: string;
      try {
        text = (gzip ? gunzipSync(body) : body).toString('utf8');
      } catch (error) {
        counts.damaged++;
        report(`${url}: damaged gzip (${(error as Error).message}); left as it was, nothing sent from it`);
        continue;
      }
      const entries: Entry[] = [];
      const lines = text.split('\n');
      for (const [index, line] of lines.entries()) {
        if (line.trim() === '') continue;
        counts.found++;
        let raw: unknown;
        try {
          raw = (JSON.parse(line) as { rawData?: unknown } | null)?.rawData;
        } catch (error) {
          counts.damaged++;
          report(
            `${url}:${index + 1}: not a Firehose error record (${(error as Error).message}); kept, not sent`,
          );
          entries.push({ text: line });
          continue;
        }
        const data = typeof raw === 'string' ? Buffer.from(raw, 'base64') : undefined;
        if (!data || data.length === 0 || data.length > PUT_LIMITS.recordBytes) {
          counts.skipped++;
          entries.push({ text: line });
          continue;
        }
        entries.push({ text: line, data });
      }
      const records = entries.flatMap((entry) => (entry.data ? [entry.data] : []));
      if (flags.dryRun) {
        counts.sent += records.length;
        continue;
      }
      const outcome =
        records.length > 0 && !interrupted
          ? await putAll(firehose, flags.stream, records, {
              sleep,
              random,
              stop: () => interrupted !== undefined,
            })
          : { accepted: records.map(() => false), reasons: [] as string[] };
      const accepted = outcome.accepted.filter(Boolean).length;
      counts.sent += accepted;
      const unsent = records.length - accepted;
      if (!outcome.fatal && !interrupted) {
        counts.failed += unsent;
        for (const reason of outcome.reasons)
          failureReasons.set(reason, (failureReasons.get(reason) ?? 0) + 1);
      }
      if (flags.deleteSent) {
        try {
          await settle(s3, flags.bucket, key, entries, outcome.accepted, gzip, counts);
        } catch (error) {
          throw new CommandError(
            stopped(
              url,
              `${accepted} of its records were sent, but it could not be ${entries.length === accepted ? 'deleted' : 'rewritten'} (${errorText(error)}): a rerun would send them again`,
              counts,
            ),
            1,
            { cause: error },
          );
        }
      }
      // What becomes of this object's records, said in the line that tells why redrive stopped.
      const left = flags.deleteSent
        ? accepted > 0
          ? `; the object now holds only its ${unsent} records not sent`
          : '; the object was left as it was'
        : accepted > 0
          ? `; ${accepted} of its records were sent, and a rerun sends them again (--delete-sent prevents that)`
          : '';
      if (outcome.fatal)
        throw new CommandError(stopped(url, outcome.fatal, counts, left), 1, { cause: outcome.cause });
      if (interrupted)
        throw new CommandError(
          stopped(url, `interrupted (${interrupted})`, counts, left),
          interrupted === 'SIGINT' ? 130 : 143,
        );
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const reasons = [...failureReasons].sort((a, b) => b[1] - a[1]);
  ctx.stdout(
    `${keys.length} error objects, ${counts.found} error records: ` +
      (flags.dryRun
        ? `${counts.sent} would be sent to ${flags.stream}`
        : `${counts.sent} sent to ${flags.stream}, ${counts.failed} failed` +
          (reasons.length > 0
            ? ` (${reasons
                .slice(0, 3)
                .map(([reason, n]) => `${n}× ${reason}`)
                .join('; ')}, after ${REDRIVE_RETRY.attempts} attempts)`
            : '')) +
      `, ${counts.skipped} skipped (no rawData, empty or over 1,000 KiB)` +
      (counts.damaged > 0 ? `, ${counts.damaged} damaged (named above; kept, not sent)` : '') +
      (flags.deleteSent
        ? `; ${counts.deleted} objects deleted after all their records were accepted, ${counts.rewritten} rewritten with only the records not sent`
        : '') +
      '\n',
  );
  return { objects: keys.length, ...counts };
}

/** The one line that says where and why redrive stopped, and what it had done. */
function stopped(url: string, why: string, counts: { sent: number }, left = ''): string {
  return `redrive stopped at ${url}: ${why}; ${counts.sent} records sent in all${left}`;
}

/**
 * After an object was sent: deleted when every line was accepted, rewritten with the lines that were not
 * (failed, skipped, damaged; in their order, in the object's own encoding) when some were, else untouched.
 */
async function settle(
  s3: S3Objects,
  bucket: string,
  key: string,
  entries: readonly Entry[],
  accepted: readonly boolean[],
  gzip: boolean,
  counts: { deleted: number; rewritten: number },
): Promise<void> {
  let next = 0;
  const kept = entries.filter((entry) => !entry.data || !accepted[next++]);
  if (kept.length === entries.length) return;
  if (kept.length === 0) {
    await s3.delete(bucket, key);
    counts.deleted++;
    return;
  }
  const text = `${kept.map((entry) => entry.text).join('\n')}\n`;
  await s3.put(bucket, key, gzip ? gzipSync(text) : Buffer.from(text));
  counts.rewritten++;
}

interface PutOutcome {
  readonly accepted: boolean[];
  /** Per record that failed after every attempt, the last entry error (`ErrorCode: ErrorMessage`). */
  readonly reasons: string[];
  /** Why the redrive must stop: an error that cannot pass, or one that did not within the attempts. */
  readonly fatal?: string;
  readonly cause?: unknown;
}

/**
 * Puts records into a stream in calls within the service limits. Entries a call failed are retried, and
 * calls that failed with an error that can pass; an error that cannot (or did not within the attempts)
 * stops it, leaving the rest unsent.
 */
async function putAll(
  client: FirehoseClient,
  stream: string,
  records: readonly Buffer[],
  options: { sleep: (ms: number) => Promise<void>; random: () => number; stop: () => boolean },
): Promise<PutOutcome> {
  const accepted = records.map(() => false);
  const reasons: string[] = [];
  for (const chunk of chunks(
    records.map((_, index) => index),
    records,
  )) {
    let pending = chunk;
    let lastEntryError = new Map<number, string>();
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (options.stop()) return { accepted, reasons };
      try {
        const response = await client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: stream,
            Records: pending.map((index) => ({ Data: records[index] as Buffer })),
          }),
          { abortSignal: AbortSignal.timeout(REDRIVE_RETRY.callTimeoutMs) },
        );
        const results = response.RequestResponses ?? [];
        const failed: number[] = [];
        lastEntryError = new Map();
        pending.forEach((index, n) => {
          const entry = results[n];
          if (entry?.RecordId && !entry.ErrorCode) accepted[index] = true;
          else {
            failed.push(index);
            lastEntryError.set(
              index,
              entry?.ErrorCode
                ? `${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`.trim()
                : 'no result for the record',
            );
          }
        });
        pending = failed;
      } catch (error) {
        const what = `PutRecordBatch to stream ${stream}: ${errorText(error)}`;
        if (!isRetryable(error))
          return { accepted, reasons, fatal: `${what} (cannot pass on a retry)`, cause: error };
        if (attempt >= REDRIVE_RETRY.attempts)
          return {
            accepted,
            reasons,
            fatal: `${what} (still failing after ${attempt} attempts)`,
            cause: error,
          };
        lastEntryError = new Map();
      }
      if (pending.length === 0) break;
      if (attempt >= REDRIVE_RETRY.attempts) {
        // Entries the service kept failing: their records stay unsent; the next batches may fare better.
        for (const index of pending) reasons.push(lastEntryError.get(index) ?? 'failed');
        break;
      }
      const ceiling = Math.min(REDRIVE_RETRY.maxDelayMs, REDRIVE_RETRY.baseDelayMs * 2 ** (attempt - 1));
      await options.sleep(ceiling * options.random());
    }
  }
  return { accepted, reasons };
}
