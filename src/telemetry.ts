import { BoundedMap } from './bounded-map.js';

/**
 * One structured line per invocation, which is at once the summary log and the CloudWatch metrics
 * (Embedded Metric Format: CloudWatch Logs extracts the metrics listed under `_aws`). It carries counts
 * only — never flow data, addresses or interface ids — and one low-cardinality dimension.
 * Metric names are the alarm contract: `template.yaml` alarms reference them.
 */
export interface InvocationSummary {
  readonly stream: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly durationMs: number;
  /** Non-metric context (e.g. the first failure's field and position). Never flow values. */
  readonly context?: Readonly<Record<string, unknown>>;
  /**
   * AWS errors of the invocation by name or code (`ThrottlingException`, `AccessDenied`, `TimeoutError` …)
   * and how many times each ended a call: written as `context.awsErrors`, so the alarm runbook's "check
   * Ec2Errors" can say which error it was. Not metrics (names are open-ended); `Ec2Errors` and
   * `ReingestFailed` stay the counters.
   */
  readonly awsErrors?: Readonly<Record<string, number>>;
  /**
   * Milliseconds each phase of the transform took (begin, admit, enrich, detect, write, reingest,
   * report): where an invocation's time went. Written as `context.phaseMs`, not as metrics.
   */
  readonly phaseMs?: Readonly<Record<string, number>>;
}

export const METRIC = {
  recordsIn: 'RecordsIn',
  recordsOk: 'RecordsOk',
  recordsDropped: 'RecordsDropped',
  recordsFailed: 'RecordsFailed',
  recordsReingested: 'RecordsReingested',
  reingestFailed: 'ReingestFailed',
  linesIn: 'LinesIn',
  flowsOk: 'FlowsOk',
  bytesIn: 'BytesIn',
  bytesOut: 'BytesOut',
  responseBytes: 'ResponseBytes',
  failed: (reason: string) => named('Failed_', reason),
  dropped: (why: string) => named('Dropped_', why),
  flag: (flag: string) => named('Flag_', flag),
  severity: (severity: string) => named('Severity_', severity),
  suppressed: (flag: string) => named('Suppressed_', flag),
  enrichment: (status: string) => named('Enrichment_', status),
  /** A stage that threw (a bug, not bad data): its records still went out, without that stage's work. */
  phaseErrors: (phase: string) => named('PhaseErrors_', phase),
  cacheHits: 'EniCacheHits',
  cacheMisses: 'EniCacheMisses',
  lookupCalls: 'Ec2Calls',
  lookupMs: 'Ec2Milliseconds',
  lookupErrors: 'Ec2Errors',
  /** Days since AWS published the ip-ranges snapshot in use. */
  ipRangesAgeDays: 'IpRangesAgeDays',
  durationMs: 'TransformMilliseconds',
} as const;

// Metric names are built per flow on the hot path; the set of names is small, so keep each one built once.
const names = new Map<string, BoundedMap<string, string>>();
function named(prefix: string, value: string): string {
  let byValue = names.get(prefix);
  if (!byValue) {
    byValue = new BoundedMap(1000);
    names.set(prefix, byValue);
  }
  return byValue.getOrMake(value, (v) => `${prefix}${v}`);
}

const MILLISECONDS = new Set<string>([METRIC.lookupMs, METRIC.durationMs]);
const BYTES = new Set<string>([METRIC.bytesIn, METRIC.bytesOut, METRIC.responseBytes]);

/** Builds the EMF line. Zero counts are left out: CloudWatch treats a missing point as "no data". */
export function formatSummary(namespace: string, summary: InvocationSummary, nowMs: number): string {
  const values: Record<string, number> = {};
  for (const [name, value] of Object.entries(summary.counts)) if (value !== 0) values[name] = value;
  values[METRIC.durationMs] = Math.round(summary.durationMs * 100) / 100;
  const metrics = Object.keys(values).map((name) => ({
    Name: name,
    Unit: MILLISECONDS.has(name) ? 'Milliseconds' : BYTES.has(name) ? 'Bytes' : 'Count',
  }));
  return JSON.stringify({
    _aws: {
      Timestamp: nowMs,
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['DeliveryStream']], Metrics: metrics }],
    },
    message: 'flowlog-enrich invocation summary',
    DeliveryStream: summary.stream,
    ...values,
    ...withContext(summary),
  });
}

function withContext(summary: InvocationSummary): { context?: Record<string, unknown> } {
  const awsErrors: Record<string, number> = {};
  let named = 0;
  for (const [name, count] of Object.entries(summary.awsErrors ?? {})) {
    if (!(count > 0)) continue;
    // Names come from AWS responses: keep them short, plain and few, whatever a response says.
    let key = ERROR_NAME.test(name) ? name : 'UnknownError';
    if (!(key in awsErrors) && ++named > MAX_ERROR_NAMES) key = 'OtherErrors';
    awsErrors[key] = (awsErrors[key] ?? 0) + count;
  }
  const context = {
    ...summary.context,
    ...(Object.keys(awsErrors).length > 0 ? { awsErrors } : {}),
    ...(summary.phaseMs ? { phaseMs: summary.phaseMs } : {}),
  };
  return Object.keys(context).length > 0 ? { context } : {};
}

const ERROR_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
const MAX_ERROR_NAMES = 20;

/**
 * The name an error is counted under: an AWS SDK error's `name` is its error code (`ThrottlingException`,
 * `UnauthorizedOperation`, `TimeoutError` …); a Node system error's `code` (`ECONNREFUSED`); else `Error`.
 */
export function errorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'Error';
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (typeof name === 'string' && name !== '' && name !== 'Error') return name;
  if (typeof code === 'string' && code !== '') return code;
  // The SDK's configuration errors are plain Errors; the one people meet first deserves a name.
  const message = (error as { message?: unknown }).message;
  if (typeof message === 'string' && message.startsWith('Region is missing')) return 'RegionMissing';
  return 'Error';
}

/** Counts `error` under its name ({@link errorName}); a name that is not a plain identifier as `UnknownError`. */
export function countError(counts: Record<string, number>, error: unknown): void {
  const name = errorName(error);
  bump(counts, ERROR_NAME.test(name) ? name : 'UnknownError');
}

/** Adds every count of `from` into `into`. */
export function addCounts(
  into: Record<string, number>,
  from: Readonly<Record<string, number>> | undefined,
): void {
  if (from) for (const [name, count] of Object.entries(from)) bump(into, name, count);
}

/** Adds to a counter map. */
export function bump(counts: Record<string, number>, name: string, by = 1): void {
  counts[name] = (counts[name] ?? 0) + by;
}
