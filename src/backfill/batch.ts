import { describeProblem } from '../local/inputs.js';
import { type ListedObject, lastModifiedMs } from './config.js';
import type { BackfillWorker, ObjectResult, OutputTarget } from './worker.js';

/** What one object of a batch did: the worker's counts, the objects written, and its damage if any. */
export type ObjectSummary = Omit<ObjectResult, 'written' | 'damaged'> & {
  readonly objects: number;
  readonly damaged?: readonly string[];
};

/** The worker Lambda's answer for one batch of the Distributed Map. */
export interface BatchResult {
  readonly objects: number;
  readonly lines: number;
  /** Objects that could not be read to their end (what came before the damage is written). */
  readonly damaged: number;
  /** The damaged objects and why, one line each: the state machine fails the batch with it as the Cause. */
  readonly cause?: string;
  readonly results: readonly ObjectSummary[];
}

/** Objects of a batch that failed with an error (S3 refused or timed out): thrown once the others are done. */
export class BackfillBatchError extends Error {
  constructor(readonly failures: readonly { readonly key: string; readonly error: unknown }[]) {
    super(
      `${failures.length} object(s) failed: ${failures
        .map(({ key, error }) => `${key}: ${error instanceof Error ? error.message : String(error)}`)
        .join('; ')}`,
      { cause: failures[0]?.error },
    );
    this.name = 'BackfillBatchError';
  }
}

/**
 * Every object of one batch of the map, one after the other; none is left out because another failed.
 * A damaged object (a truncated `.gz`, a Parquet object whose footer or a row group cannot be read) has
 * what came before the damage written and is named in `cause`: the state machine fails the batch with it
 * (no retry: the damage would be read again). An object whose reading threw (S3 refused, a timeout) is
 * tried after the rest and the batch then throws a BackfillBatchError, which the map retries: the keys
 * derive from the sources, so a retry overwrites.
 */
export async function backfillBatch(
  worker: BackfillWorker,
  items: readonly ListedObject[],
  sourceBucket: string,
  target: OutputTarget,
  log: (summary: ObjectSummary) => void = () => {},
): Promise<BatchResult> {
  const results: ObjectSummary[] = [];
  const failures: { key: string; error: unknown }[] = [];
  const causes: string[] = [];
  for (const item of items) {
    let result: ObjectResult;
    try {
      result = await worker.backfill(
        {
          bucket: sourceBucket,
          key: item.Key,
          lastModifiedMs: lastModifiedMs(item),
          ...(typeof item.Size === 'number' ? { size: item.Size } : {}),
        },
        target,
      );
    } catch (error) {
      failures.push({ key: item.Key, error });
      continue;
    }
    const { written, damaged, ...counts } = result;
    const summary: ObjectSummary = {
      ...counts,
      objects: written.length,
      ...(damaged.length > 0 ? { damaged: damaged.map(describeProblem) } : {}),
    };
    if (damaged.length > 0) causes.push(...damaged.map(describeProblem));
    log(summary);
    results.push(summary);
  }
  if (failures.length > 0) throw new BackfillBatchError(failures);
  return {
    objects: results.length,
    lines: results.reduce((n, r) => n + r.lines, 0),
    damaged: results.filter((r) => r.damaged).length,
    ...(causes.length > 0 ? { cause: causes.join('\n') } : {}),
    results,
  };
}
