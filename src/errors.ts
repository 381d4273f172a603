/**
 * Typed errors. Each carries a stable `reason` (a low-cardinality code used in the per-invocation
 * summary log and metrics) and a message a user can act on. None of them ever carries flow data
 * beyond the offending value, and that value is truncated.
 */

export type FailureReason =
  | 'invalid_base64'
  | 'invalid_utf8'
  | 'gzip_corrupt'
  | 'gzip_too_large'
  | 'invalid_envelope'
  | 'line_too_long'
  | 'field_count'
  | 'invalid_field'
  | 'too_large'
  | 'reingest_failed'
  | 'internal';

export abstract class FlowlogError extends Error {
  abstract readonly reason: FailureReason;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The record's bytes could not be turned into text lines (base64, UTF-8, gzip, envelope). */
export class DecodeError extends FlowlogError {
  constructor(
    readonly reason:
      | 'invalid_base64'
      | 'invalid_utf8'
      | 'gzip_corrupt'
      | 'gzip_too_large'
      | 'invalid_envelope',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A flow-log line does not match the configured format (count, conversion or schema). */
export class ParseError extends FlowlogError {
  constructor(
    readonly reason: 'field_count' | 'invalid_field' | 'line_too_long',
    message: string,
    /** AWS field name, e.g. `dstport`; undefined for whole-line errors. */
    readonly field?: string,
    /** 1-based position of the field in the format. */
    readonly position?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The same error, located in a multi-line record. */
  atLine(lineNumber: number): ParseError {
    return new ParseError(this.reason, `line ${lineNumber}: ${this.message}`, this.field, this.position, {
      cause: this,
    });
  }
}

/** A record that can never fit the Lambda response, or could not be re-ingested. */
export class CapacityError extends FlowlogError {
  constructor(
    readonly reason: 'too_large' | 'reingest_failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A configuration variable is missing or malformed: fails the cold start, never a record. */
export class ConfigError extends FlowlogError {
  readonly reason = 'internal' as const;
  constructor(
    readonly variable: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${variable}: ${message}`, options);
  }
}

/** An inventory lookup (EC2, STS, file) failed; enrichment reports `unavailable`, data still flows. */
export class LookupError extends FlowlogError {
  readonly reason = 'internal' as const;
}

/** Wraps anything thrown that is not ours, so a bug in one record never fails its neighbours. */
export class InternalError extends FlowlogError {
  readonly reason = 'internal' as const;
}

export function toFlowlogError(error: unknown): FlowlogError {
  if (error instanceof FlowlogError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(`unexpected error: ${message}`, { cause: error });
}

/** Quotes a value for an error message without letting a hostile line flood the logs. */
export function quoteValue(value: string, max = 40): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(shown);
}
