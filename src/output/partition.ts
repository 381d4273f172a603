import { BoundedMap } from '../bounded-map.js';
import type { PartitionKeys } from '../firehose/result.js';
import type { Flow } from '../flowlog/parse.js';

export type { PartitionKeys };

export const PARTITION_KEY_NAMES = ['account_id', 'region', 'dt', 'hour'] as const;

const UNSAFE = /[^A-Za-z0-9_.-]/g;

/**
 * Keeps a value that comes from data inside its S3 prefix: only `[A-Za-z0-9_.-]`, never `..`, never empty.
 * @example sanitizeKey('../../etc') // → '_.__._etc'
 */
export function sanitizeKey(value: string): string {
  let cleaned = value.replace(UNSAFE, '_');
  // Replacing '..' can leave another '..' behind ('...' → '_..'): repeat until none is left.
  while (cleaned.includes('..')) cleaned = cleaned.replaceAll('..', '_.');
  if (cleaned === '' || cleaned === '.') return 'unknown';
  return cleaned;
}

/**
 * Partition keys from a record's first flow: account (the record's own, else — also for AWS's `unknown` —
 * the delivery stream's, so the data stays inside the accounts Athena's projection lists), region (the
 * record's own field, else the event's), and the UTC date and hour of the flow's `start` (arrival time when
 * the flow has none, or one past year 9999).
 */
export function partitionKeys(
  flow: Flow,
  eventRegion: string,
  arrivalMs: number,
  streamAccount?: string,
): PartitionKeys {
  const ms = timestampMs(flow, arrivalMs);
  const hourStart = ms - (ms % 3_600_000);
  const rawAccount =
    flow.account_id && flow.account_id !== 'unknown' ? flow.account_id : (streamAccount ?? 'unknown');
  const rawRegion = flow.region ?? eventRegion;
  // Consecutive records nearly always share account, region and hour: hand back the same object
  // without formatting or sanitising anything.
  const last = lastKeys;
  if (last && hourStart === lastHour && rawAccount === lastAccount && rawRegion === lastRegion) return last;
  const day = Math.floor(ms / DAY_MS);
  const account_id = sanitizeCached(rawAccount);
  const region = sanitizeCached(rawRegion);
  const dt = dayString(day);
  const hour = HOURS[Math.floor((ms - day * DAY_MS) / 3_600_000)] as string;
  lastHour = hourStart;
  lastAccount = rawAccount;
  lastRegion = rawRegion;
  if (
    last &&
    last.account_id === account_id &&
    last.region === region &&
    last.dt === dt &&
    last.hour === hour
  ) {
    return last;
  }
  lastKeys = Object.freeze({ account_id, region, dt, hour });
  return lastKeys;
}

let lastHour = Number.NaN;
let lastAccount: string | undefined;
let lastRegion: string | undefined;
let lastKeys: PartitionKeys | undefined;

const DAY_MS = 86_400_000;
const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));

// Per-record date formatting and regex sanitising are the costly part of a partition key; a batch has
// few distinct days and accounts. Both memos are bounded.
const days = new BoundedMap<number, string>(10_000);
const formatDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
function dayString(day: number): string {
  return days.getOrMake(day, formatDay);
}

const sanitized = new BoundedMap<string, string>(10_000);
function sanitizeCached(value: string): string {
  return sanitized.getOrMake(value, sanitizeKey);
}

// Past year 9999 an ISO date gains a sign and more digits ('+011476-08-…'): not a folder name to write.
const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

function timestampMs(flow: Flow, arrivalMs: number): number {
  if (typeof flow.start === 'number' && flow.start * 1000 <= MAX_DATE_MS) return flow.start * 1000;
  if (Number.isFinite(arrivalMs) && arrivalMs >= 0 && arrivalMs <= MAX_DATE_MS) return arrivalMs;
  return 0;
}

/**
 * The delivery stream's S3 prefix for the default layout, exactly as `template.yaml` gives it to Firehose
 * (a test keeps the two equal). The local pipeline writes under the same folders.
 */
export const DATA_PREFIX =
  'flowlogs/aws_account_id=!{partitionKeyFromLambda:account_id}/aws_region=!{partitionKeyFromLambda:region}/dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/';

/** The error prefix; Firehose fills in `processing-failed` and the date. */
export const ERROR_PREFIX = 'errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/';

/** The folder one record's keys select under `DATA_PREFIX`. */
export function renderPrefix(keys: PartitionKeys): string {
  return DATA_PREFIX.replace(
    /!\{partitionKeyFromLambda:([a-z_]+)\}/g,
    (_, name: string) => keys[name as keyof PartitionKeys],
  );
}
