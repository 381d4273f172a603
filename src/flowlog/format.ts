import { ConfigError } from '../errors.js';
import { ADDED_KEYS, FIELDS, type FieldKind, type GlueType, toKey } from './fields.js';

export interface FieldSpec {
  readonly name: string;
  readonly key: string;
  readonly kind: FieldKind;
  readonly glue: GlueType;
  /** 1-based position in the line, for error messages. */
  readonly position: number;
  /** False for a field AWS added after this table was written: passed through as a string. */
  readonly known: boolean;
}

export interface FormatSpec {
  /** The format string exactly as configured. */
  readonly source: string;
  readonly fields: readonly FieldSpec[];
  /** Field names not in the table (logged once at start-up, parsed as strings). */
  readonly unknown: readonly string[];
  /** Position of each key, for callers that need a specific field. */
  readonly indexOf: ReadonlyMap<string, number>;
}

const TOKEN = /^\$\{([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\}$/;

/**
 * Parses a custom flow-log format string, exactly as given to `aws ec2 create-flow-logs --log-format`.
 *
 * @example parseFormat('${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ...')
 * @throws ConfigError naming `variable` when the string is not `${name}` tokens separated by single spaces,
 *   or names a field twice.
 */
export function parseFormat(source: string, variable = 'FLOW_LOG_FORMAT'): FormatSpec {
  const trimmed = source.trim();
  if (trimmed === '') throw new ConfigError(variable, 'the log format is empty');
  const tokens = trimmed.split(/\s+/);
  const seen = new Set<string>();
  const unknown: string[] = [];
  const fields = tokens.map((token, index): FieldSpec => {
    const match = TOKEN.exec(token);
    if (!match?.[1]) {
      throw new ConfigError(
        variable,
        `token ${index + 1} ${JSON.stringify(token)} is not a field reference like \${srcaddr}`,
      );
    }
    const name = match[1];
    if (seen.has(name)) throw new ConfigError(variable, `field ${name} appears more than once`);
    seen.add(name);
    const definition = FIELDS.get(name);
    if (!definition) {
      if (ADDED_KEYS.has(toKey(name))) {
        throw new ConfigError(
          variable,
          `field ${name} would collide with the ${toKey(name)} column this function adds`,
        );
      }
      unknown.push(name);
    }
    return Object.freeze({
      name,
      key: definition?.key ?? toKey(name),
      kind: definition?.kind ?? 'text',
      glue: definition?.glue ?? 'string',
      position: index + 1,
      known: definition !== undefined,
    });
  });
  return Object.freeze({
    source: trimmed,
    fields: Object.freeze(fields),
    unknown: Object.freeze(unknown),
    indexOf: new Map(fields.map((field, index) => [field.key, index])),
  });
}

/**
 * Turns the header line of an S3-delivered flow-log file (`version account-id interface-id …`)
 * into the format string it stands for.
 */
export function formatFromHeader(header: string): string {
  return header
    .trim()
    .split(/\s+/)
    .map((name) => `\${${name}}`)
    .join(' ');
}

/** True when a line is a header (field names, as in S3-delivered files) rather than data. */
export function isHeaderLine(line: string): boolean {
  // Data lines almost always start with a digit or `-`; only a lower-case letter can start a field name.
  const first = line.charCodeAt(0);
  if (first < 97 || first > 122) return false;
  const space = line.indexOf(' ');
  if (!FIELDS.has(space === -1 ? line : line.slice(0, space))) return false;
  return /^[a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*\s*$/.test(line);
}
