import { assertSafeKey, compile, formatTag } from '../codegen.js';
import { ParseError, quoteValue } from '../errors.js';
import type { ValidationError } from '../generated/validator.js';
import { validateFlowRecord } from '../generated/validators.js';
import { validateFlowRecordDetailed } from '../generated/validators-detailed.js';
import type { FormatSpec } from './format.js';

/** A parsed flow-log line: snake_case AWS field names; `null` where the line had `-`. */
export type FlowValue = string | number | null;
export type FlowRecord = Record<string, FlowValue>;

/** The fields the rest of the pipeline reads, when the format has them. */
export interface KnownFlowFields {
  version?: number | null;
  account_id?: string | null;
  interface_id?: string | null;
  srcaddr?: string | null;
  dstaddr?: string | null;
  srcport?: number | null;
  dstport?: number | null;
  protocol?: number | null;
  packets?: number | null;
  bytes?: number | null;
  start?: number | null;
  end?: number | null;
  action?: string | null;
  log_status?: string | null;
  vpc_id?: string | null;
  subnet_id?: string | null;
  instance_id?: string | null;
  tcp_flags?: number | null;
  pkt_srcaddr?: string | null;
  pkt_dstaddr?: string | null;
  region?: string | null;
  az_id?: string | null;
  pkt_src_aws_service?: string | null;
  pkt_dst_aws_service?: string | null;
  flow_direction?: string | null;
  tgw_src_eni?: string | null;
  tgw_dst_eni?: string | null;
  tgw_src_vpc_account_id?: string | null;
  tgw_dst_vpc_account_id?: string | null;
  packets_lost_blackhole?: number | null;
}

export type Flow = FlowRecord & KnownFlowFields;

export interface ParseOptions {
  /** Longer lines are rejected before any work is done on them. */
  readonly maxLineLength: number;
}

export type LineParser = (line: string) => Flow;

/**
 * Builds the parser for one configured format. Conversion and validation are split on purpose:
 * conversion only turns digits into numbers; every constraint (ranges, patterns, enums, addresses)
 * comes from `schemas/flow-record.json` through the compiled validator.
 *
 * @example
 * // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html
 * createLineParser(parseFormat(DEFAULT_FORMAT), { maxLineLength: 8192 })(
 *   '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
 * ); // → { version: 2, account_id: '123456789010', …, dstport: 22, …, action: 'ACCEPT', log_status: 'OK' }
 */
export function createLineParser(format: FormatSpec, options: ParseOptions): LineParser {
  const fields = format.fields;
  const count = fields.length;
  const { maxLineLength } = options;
  const isInt = fields.map((field) => field.kind === 'int');
  const invalid = (index: number, token: string) => invalidInteger(format, index, token);
  const scan = compileScanner(format, toIntegerIn);

  return (line: string): Flow => {
    if (line.length > maxLineLength) {
      throw new ParseError(
        'line_too_long',
        `line is ${line.length} characters long, over the limit of ${maxLineLength}`,
      );
    }
    // Fast path: read fields straight out of the line. Anything irregular (a missing or doubled space,
    // extra fields) falls through to the tokenizing path, which also words the errors.
    const scanned = scan(line);
    if (scanned !== undefined) {
      if (!validateFlowRecord(scanned)) throw schemaError(format, scanned);
      return scanned as Flow;
    }
    // Slow path, for irregular lines only: it names what is wrong, or reads a line whose fields AWS
    // separated by runs of spaces (its own examples have one) through the same scanner.
    let tokens = line.split(' ');
    if (tokens.length !== count && line.includes('  ')) tokens = line.split(/ +/);
    if (tokens.length !== count) {
      throw new ParseError(
        'field_count',
        `expected ${count} space-separated fields for the configured format, found ${tokens.length}`,
      );
    }
    tokens.forEach((token, i) => {
      if (token === '') throw emptyField(format, i);
      if (isInt[i] && token !== '-' && toInteger(token) < 0) throw invalid(i, token);
    });
    const record = scan(tokens.join(' ')) as FlowRecord;
    if (!validateFlowRecord(record)) throw schemaError(format, record);
    return record as Flow;
  };
}

type Scanner = (line: string) => FlowRecord | undefined;

/**
 * Generates the fast reader of one format: walks the line with `indexOf(' ')`, converts integers in place
 * and slices only the string fields, building one object literal (one hidden class per format). Returns
 * undefined when the line is not exactly `count` single-space-separated non-empty fields.
 */
function compileScanner(
  format: FormatSpec,
  toInt: (line: string, start: number, end: number) => number,
): Scanner {
  const count = format.fields.length;
  const lines = format.fields.map((field, i) => {
    const last = i === count - 1;
    const find = last
      ? 'e = n; if (e === p || line.indexOf(" ", p) !== -1) return undefined;'
      : 'e = line.indexOf(" ", p); if (e <= p) return undefined;';
    const dash = 'e - p === 1 && line.charCodeAt(p) === 45';
    // A bad integer hands the line to the tokenizing path too: it reports a wrong field count first,
    // which is what a wrong log format looks like.
    const value =
      field.kind === 'int'
        ? `let f${i} = null; if (!(${dash})) { v = toInt(line, p, e); if (v < 0) return undefined; f${i} = v; }`
        : `const f${i} = ${dash} ? null : line.slice(p, e);`;
    return `${find} ${value} p = e + 1;`;
  });
  const keys = format.fields.map((field, i) => `${JSON.stringify(field.key)}: f${i},`);
  const body = [
    'return function scan(line) {',
    'const n = line.length; let p = 0, e, v;',
    ...lines,
    'return {',
    ...keys,
    '};',
    '};',
  ].join('\n');
  const tag = formatTag(format.fields.map((field) => assertSafeKey(field.key)));
  return compile<Scanner>(`line-scanner-${tag}`, ['toInt'], body, [toInt]);
}

/** Like toInteger, over `line[start..end)` without slicing it out. */
function toIntegerIn(line: string, start: number, end: number): number {
  const length = end - start;
  if (length === 0 || length > 16) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = line.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value <= Number.MAX_SAFE_INTEGER ? value : -1;
}

/** Non-negative decimal integer, or -1 when the token is not one (or is beyond 2^53). */
function toInteger(token: string): number {
  const length = token.length;
  if (length === 0 || length > 16) return -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = token.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value <= Number.MAX_SAFE_INTEGER ? value : -1;
}

function emptyField(format: FormatSpec, index: number): ParseError {
  const field = format.fields[index];
  return new ParseError(
    'invalid_field',
    `field ${field?.name} (position ${field?.position}) is empty`,
    field?.name,
    field?.position,
  );
}

function invalidInteger(format: FormatSpec, index: number, token: string): ParseError {
  const field = format.fields[index];
  return new ParseError(
    'invalid_field',
    `field ${field?.name} (position ${field?.position}): ${quoteValue(token)} is not a non-negative integer`,
    field?.name,
    field?.position,
  );
}

/** Re-runs the all-errors validator on a record that already failed, to name the first bad field. */
function schemaError(format: FormatSpec, record: FlowRecord): ParseError {
  validateFlowRecordDetailed(record);
  const error = validateFlowRecordDetailed.errors?.[0];
  const key = error?.instancePath.slice(1) ?? '';
  const index = format.indexOf.get(key);
  const field = index === undefined ? undefined : format.fields[index];
  const value = record[key];
  const shown = typeof value === 'string' ? quoteValue(value) : String(value);
  return new ParseError(
    'invalid_field',
    `field ${field?.name ?? key} (position ${field?.position ?? '?'}): ${shown} ${describe(error)}`,
    field?.name ?? key,
    field?.position,
  );
}

function describe(error: ValidationError | undefined): string {
  if (!error) return 'is invalid';
  const params = error.params;
  switch (error.keyword) {
    case 'maximum':
    case 'minimum':
      return `is out of range (${error.keyword} ${String(params.limit)})`;
    case 'enum':
      return `is not one of ${(params.allowedValues as unknown[]).filter((v) => v !== null).join(', ')}`;
    case 'pattern':
      return `does not match ${String(params.pattern)}`;
    case 'format':
      return 'is not a valid IPv4 or IPv6 address';
    default:
      return error.message ?? 'is invalid';
  }
}
