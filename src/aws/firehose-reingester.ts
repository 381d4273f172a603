import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { Reingester, ReingestOutcome } from '../firehose/reingest.js';
import { countError } from '../telemetry.js';
import { callAws } from './timeouts.js';

/** PutRecordBatch limits: 500 records, 4 MiB per call, 1,000 KiB per record. */
export const PUT_LIMITS = { records: 500, bytes: 4 * 1024 * 1024, recordBytes: 1000 * 1024 } as const;

export interface FirehoseReingesterOptions {
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** First backoff; doubled per retry round, with full jitter. */
  readonly baseDelayMs?: number;
}

/**
 * Re-ingests records into their source stream with `PutRecordBatch`, in calls within the service limits,
 * retrying only the entries that failed (`FailedPutCount`, or the whole call on an error) with
 * exponential backoff until the deadline. Never rejects. Each failure is counted by its AWS name: a failed
 * call's error (`ThrottlingException`, `TimeoutError` …) and each failed entry's `ErrorCode`
 * (`ServiceUnavailableException` …).
 */
export function createFirehoseReingester(
  client: FirehoseClient,
  options: FirehoseReingesterOptions = {},
): Reingester {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const baseDelay = options.baseDelayMs ?? 100;

  return {
    async reingest(streamArn, records, deadline): Promise<ReingestOutcome> {
      const streamName = streamArn.slice(streamArn.lastIndexOf('/') + 1);
      const accepted = records.map(() => false);
      let pending = records
        .map((_, index) => index)
        .filter((index) => {
          // A record over the per-record limit can never be put; it stays false (the caller fails it).
          return (records[index] as Uint8Array).length <= PUT_LIMITS.recordBytes;
        });
      let calls = 0;
      let retries = 0;
      const errors: Record<string, number> = {};
      for (let round = 0; pending.length > 0; round++) {
        if (round > 0) {
          if (now() >= deadline) break;
          retries++;
          const delay = Math.min(baseDelay * 2 ** (round - 1), 5000) * Math.random();
          await sleep(Math.min(delay, Math.max(0, deadline - now())));
        }
        const failedThisRound: number[] = [];
        for (const chunk of chunks(pending, records)) {
          if (now() >= deadline) {
            failedThisRound.push(...chunk);
            continue;
          }
          calls++;
          try {
            // A hung call must not outlive the budget: Firehose would time the whole invocation out.
            const command = new PutRecordBatchCommand({
              DeliveryStreamName: streamName,
              Records: chunk.map((index) => ({ Data: records[index] as Uint8Array })),
            });
            const response = await callAws(
              'Firehose PutRecordBatch',
              command,
              (abortSignal) => client.send(command, { abortSignal }),
              { timeoutMs: deadline - now() },
            );
            const results = response.RequestResponses ?? [];
            chunk.forEach((index, n) => {
              const entry = results[n];
              if (entry && !entry.ErrorCode && entry.RecordId) accepted[index] = true;
              else {
                failedThisRound.push(index);
                countError(errors, { name: entry?.ErrorCode || 'MissingRecordResult' });
              }
            });
          } catch (error) {
            // Throttling, a timeout or a service error: the whole call is retried next round.
            countError(errors, error);
            failedThisRound.push(...chunk);
          }
        }
        pending = failedThisRound;
      }
      return { accepted, calls, retries, errors };
    },
  };
}

/** Groups record indexes into calls of at most 500 records and 4 MiB. */
export function chunks(indexes: readonly number[], records: readonly Uint8Array[]): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const index of indexes) {
    const size = (records[index] as Uint8Array).length;
    if (current.length === PUT_LIMITS.records || (current.length > 0 && bytes + size > PUT_LIMITS.bytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
