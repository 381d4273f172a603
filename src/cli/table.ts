/**
 * The CLI's text tables and numbers, in one format: columns as wide as their content (up to a cap, a cut
 * value ends in `…`), numbers right-aligned with thousands separators (`25,244`), and a last line that says
 * how many rows there are and, when some are left out, how to see them all.
 *
 * @example
 * formatTable(['srcaddr', 'flows'], [['203.0.113.66', 25244]])
 * // srcaddr       flows
 * // ------------  ------
 * // 203.0.113.66  25,244
 * // (1 row)
 */

/** An integer with thousands separators, a fraction to at most three places: one format everywhere. */
export function formatNumber(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toLocaleString('en-US');
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

/** `n` and the noun, singular or plural: `1 row`, `25,244 rows`. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${formatNumber(n)} ${n === 1 ? noun : plural}`;
}

export interface TableOptions {
  /** Rows shown; the rest are counted in the last line (default: all). */
  readonly maxRows?: number;
  /** The widest a column may be, in characters; a longer value is cut and ends in `…` (default 48). */
  readonly maxWidth?: number;
  /** Printed before every line (default none). */
  readonly indent?: string;
  /** Header and rule line (default true). */
  readonly header?: boolean;
  /** The last line: `(N rows)`, or what was left out (default true). */
  readonly footer?: boolean;
  /** What to add after "for all rows" when rows are left out (default `--json`). */
  readonly allRows?: string;
  /**
   * Columns whose integers are identifiers or times, printed as they are (no separators): a port, an epoch
   * second, an account id. Default: names that say so (`port`, `start`, `end`, `*_seen`, `time`, `id`, …).
   */
  readonly plainNumbers?: (column: string) => boolean;
  /** Each column's alignment (default: numbers right, everything else left). */
  readonly align?: readonly ('left' | 'right')[];
}

const PLAIN = /port|^start$|^end$|seen|time|date|^dt$|hour|(?:^|_)id$|protocol|version|asn|year|account/i;

/**
 * A text table of `rows` under `columns`. Values: `null`/`undefined` empty, numbers formatted (right-aligned),
 * objects as JSON, everything else as text. Every line ends in `\n`.
 */
export function formatTable(
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  options: TableOptions = {},
): string {
  const maxWidth = Math.max(2, options.maxWidth ?? 48);
  const indent = options.indent ?? '';
  const plain = options.plainNumbers ?? ((column: string) => PLAIN.test(column));
  const shown = rows.slice(0, options.maxRows ?? rows.length);
  const right = columns.map((_, i) =>
    options.align?.[i] !== undefined
      ? options.align[i] === 'right'
      : shown.some((row) => isNumber(row[i])) && shown.every((row) => row[i] == null || isNumber(row[i])),
  );
  const cells = shown.map((row) => columns.map((column, i) => cut(cell(row[i], !plain(column)), maxWidth)));
  const widths = columns.map((column, i) =>
    Math.max(
      options.header === false ? 0 : width(cut(column, maxWidth)),
      ...cells.map((row) => width(row[i] ?? '')),
    ),
  );
  const line = (values: readonly string[]) =>
    indent +
    values
      .map((value, i) =>
        right[i]
          ? pad(value, widths[i] ?? 0, 'start')
          : i === values.length - 1
            ? value
            : pad(value, widths[i] ?? 0, 'end'),
      )
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  if (options.header !== false) {
    out.push(line(columns.map((column) => cut(column, maxWidth))));
    out.push(indent + widths.map((w) => '-'.repeat(w)).join('  '));
  }
  out.push(...cells.map(line));
  if (options.footer !== false) {
    const left = rows.length - shown.length;
    out.push(
      indent +
        (left > 0
          ? `… ${count(left, 'more row')} (${formatNumber(shown.length)} of ${formatNumber(rows.length)} shown; ${options.allRows ?? '--json'} for all rows)`
          : rows.length === 0
            ? '(no rows)'
            : `(${count(rows.length, 'row')})`),
    );
  }
  return out.map((text) => `${text}\n`).join('');
}

function isNumber(value: unknown): value is number | bigint {
  return typeof value === 'number' || typeof value === 'bigint';
}

function cell(value: unknown, separators: boolean): string {
  if (value === null || value === undefined) return '';
  if (isNumber(value)) return separators ? formatNumber(value) : String(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/[\r\n\t]/g, ' ');
}

/** Characters as a terminal shows them: code points, not UTF-16 units. */
function width(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function cut(text: string, max: number): string {
  if (width(text) <= max) return text;
  return `${Array.from(text)
    .slice(0, max - 1)
    .join('')}…`;
}

function pad(text: string, to: number, side: 'start' | 'end'): string {
  const fill = ' '.repeat(Math.max(0, to - width(text)));
  return side === 'start' ? fill + text : text + fill;
}
