import { errorName } from '../telemetry.js';

/**
 * Deadlines for every AWS call this project makes. The SDK's defaults wait indefinitely for a response; a
 * hung endpoint would then hold an invocation until the Lambda timeout, and Firehose would retry the whole
 * batch. Two layers: each HTTP attempt ends after `requestTimeout` (and the SDK retries it, adaptive,
 * bounded attempts), and each call as a whole — attempts, backoff, credential resolution — ends at its own
 * deadline ({@link callAws}).
 */

/**
 * Per-attempt socket timeouts, for every client. `throwOnRequestTimeout` is what makes `requestTimeout`
 * fire: without it @smithy/node-http-handler 4.x only logs a warning when it expires and the request goes on.
 */
export const AWS_REQUEST_HANDLER = {
  connectionTimeout: 1000,
  requestTimeout: 3000,
  throwOnRequestTimeout: true,
} as const;

/** The whole of one call (all attempts and backoff) when its caller sets no tighter deadline. */
export const AWS_CALL_TIMEOUT_MS = 10_000;

/**
 * An AWS call that failed, named after the AWS error that ended it (`ThrottlingException`, `AccessDenied`,
 * `TimeoutError` …) so that counting errors by name needs no knowledge of the SDK. The message is one line
 * naming the operation; the SDK's error is the `cause`.
 */
export class AwsCallError extends Error {
  /** e.g. `EC2 DescribeNetworkInterfaces`. */
  readonly operation: string;
  /** How many HTTP attempts the SDK made, when it says. */
  readonly attempts: number | undefined;

  constructor(operation: string, cause: unknown, attempts?: number) {
    const name = errorName(cause);
    const detail = oneLine(cause instanceof Error ? cause.message : String(cause));
    const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';
    super(`${operation} failed${tries}: ${name}${detail ? ` (${detail})` : ''}`, { cause });
    this.name = name;
    this.operation = operation;
    this.attempts = attempts;
  }
}

export interface CallOptions {
  /** The whole call's budget; default {@link AWS_CALL_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Called with each failed attempt's error, so a caller that stops waiting can name what was going on. */
  readonly onAttemptError?: ((error: unknown) => void) | undefined;
  /** The caller gave up (its own deadline): the call stops at once, named after the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/** The part of an SDK command this module touches: its own middleware stack. */
interface CommandWithMiddleware {
  readonly middlewareStack: {
    add(
      middleware: (next: (args: never) => Promise<unknown>) => (args: never) => Promise<unknown>,
      options: { step: 'finalizeRequest'; priority: 'low'; name: string },
    ): void;
  };
}

/**
 * Sends one command with a deadline that fires: the SDK is told to abort at `timeoutMs` (or when
 * `signal` aborts), and the caller is released then even if the SDK is stuck somewhere the abort signal
 * does not reach (a credential provider waiting on STS). Rejects with an {@link AwsCallError}.
 *
 * @example
 * const command = new DescribeVpcsCommand({});
 * await callAws('EC2 DescribeVpcs', command, (abortSignal) => ec2.send(command, { abortSignal }));
 */
export async function callAws<T>(
  operation: string,
  command: CommandWithMiddleware,
  send: (abortSignal: AbortSignal) => Promise<T>,
  options: CallOptions = {},
): Promise<T> {
  const timeoutMs = Math.max(1, options.timeoutMs ?? AWS_CALL_TIMEOUT_MS);
  let lastAttemptError: unknown;
  // Inside the retry loop (finalizeRequest, low priority): sees every attempt's error, not only the last.
  command.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        lastAttemptError = error;
        options.onAttemptError?.(error);
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'flowlogEnrichAttemptErrors' },
  );
  const controller = new AbortController();
  const { signal } = options;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    const stop = (reason: unknown) => {
      // Named after what the attempts met (a throttled call cut short is a throttled call), else the reason.
      const cause = lastAttemptError ?? reason;
      controller.abort(cause);
      reject(new AwsCallError(operation, cause));
    };
    timer = setTimeout(
      () => stop(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' })),
      timeoutMs,
    );
    if (signal) {
      onAbort = () => stop(abortReason(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([send(controller.signal), expired]);
  } catch (error) {
    if (error instanceof AwsCallError) throw error;
    throw new AwsCallError(operation, error, attemptsOf(error));
  } finally {
    // Cleared once the call settles: a response body still streaming (S3 GetObject) is not cut off.
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * `work` for a caller that may give up first: rejects with an {@link AwsCallError} for `operation` when
 * `signal` aborts (the work goes on for its other callers).
 */
export async function untilAborted<T>(operation: string, work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new AwsCallError(operation, abortReason(signal)));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Why a signal aborted; a reason that is no error (or none) counts as a timeout. */
function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : Object.assign(new Error('given up by its caller'), { name: 'TimeoutError' });
}

function attemptsOf(error: unknown): number | undefined {
  const attempts = (error as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' ? attempts : undefined;
}

function oneLine(message: string): string {
  return message
    .replace(/^@smithy\/node-http-handler - \[ERROR\] /, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/**
 * `work`, or a `TimeoutError` naming `what` once `ms` have passed (the work itself is not cancelled; each
 * AWS call inside has its own deadline).
 */
export async function withDeadline<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what}: no answer within ${ms} ms`), { name: 'TimeoutError' })),
      ms,
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
