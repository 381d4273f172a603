/**
 * Athena (Trino) functions that DuckDB lacks or defines otherwise, as DuckDB macros: defined once on the
 * connection, so the stack's SQL (queries/, queries/views/) runs locally as Athena runs it, with no
 * rewriting of its text. Each is checked against the value Trino's documentation gives, through real
 * DuckDB, in test/integration/athena-functions.test.ts.
 *
 * Where DuckDB cannot give Trino's exact type, the value is the same and the type the nearest:
 * - timestamps with time zone are DuckDB's TIMESTAMPTZ, shown in the session zone, which
 *   `defineAthenaFunctions` sets to UTC as Athena's is; an instant parsed with another offset
 *   (`from_iso8601_timestamp('…+01:00')`) is the same instant, shown in UTC rather than in its offset;
 *   `from_unixtime(t, zone)` and `from_unixtime(t, hours, minutes)` give the wall-clock time there as a
 *   plain TIMESTAMP;
 * - `approx_distinct` counts exactly: the exact count is within any error bound Trino allows, and
 *   DuckDB's own `approx_count_distinct` is not (1,249 for 1,000 distinct values, measured on 1.5.6);
 * - `element_at(array, 0)` is NULL where Trino fails.
 */

export interface AthenaFunction {
  /** The function's name, as Athena's SQL calls it. */
  readonly name: string;
  /** `CREATE OR REPLACE MACRO …` for DuckDB. */
  readonly sql: string;
}

/**
 * MySQL-style format specifiers (Trino's `date_format` and `date_parse`) → DuckDB's strftime/strptime
 * ones, for formatting and for parsing (the unpadded numbers differ: strftime marks them with `-`,
 * strptime reads either). Trino prints `%f` as six digits of a millisecond timestamp (`123000`).
 */
const SPECIFIERS: ReadonlyArray<readonly [mysql: string, format: string, parse: string]> = [
  ['a', 'a', 'a'],
  ['b', 'b', 'b'],
  ['c', '-m', 'm'],
  ['d', 'd', 'd'],
  ['e', '-d', 'd'],
  ['f', 'g000', 'f'],
  ['H', 'H', 'H'],
  ['h', 'I', 'I'],
  ['I', 'I', 'I'],
  ['i', 'M', 'M'],
  ['j', 'j', 'j'],
  ['k', '-H', 'H'],
  ['l', '-I', 'I'],
  ['M', 'B', 'B'],
  ['m', 'm', 'm'],
  ['p', 'p', 'p'],
  ['r', 'I:%M:%S %p', 'I:%M:%S %p'],
  ['S', 'S', 'S'],
  ['s', 'S', 'S'],
  ['T', 'H:%M:%S', 'H:%M:%S'],
  ['v', 'V', 'V'],
  ['W', 'A', 'A'],
  ['x', 'G', 'G'],
  ['Y', 'Y', 'Y'],
  ['y', 'y', 'y'],
];

/** What Trino refuses: `%D %U %u %V %w %X` (`%%` is a literal percent sign, so `%%D` is not one). */
const UNSUPPORTED = `CREATE OR REPLACE MACRO athena_unsupported_format(fmt) AS
  regexp_matches(replace(fmt, '%%', ''), '%[DUuVwX]')`;

/**
 * The translation, by plain string replacement so that DuckDB can fold it to a constant (strptime and
 * strftime take constant formats only; a lambda would not fold). A translated `%` is written as \x01
 * and a literal one (`%%`, or a lone `%` at the end) as \x02 until the end, so no replacement sees
 * another's output; `%x` for any `x` not listed is `x`, as in Trino.
 */
function mysqlFormatMacro(name: string, column: 1 | 2): string {
  let body = "regexp_replace(replace(fmt, '%%', chr(2)), '%$', chr(2))";
  for (const row of SPECIFIERS) {
    const translated = (row[column] as string).replaceAll('%', "' || chr(1) || '");
    body = `replace(${body}, '%${row[0]}', chr(1) || '${translated}')`;
  }
  body = `replace(replace(regexp_replace(${body}, '%(.)', '\\1', 'g'), chr(1), '%'), chr(2), '%%')`;
  return `CREATE OR REPLACE MACRO ${name}(fmt) AS ${body}`;
}

export const ATHENA_FUNCTIONS: readonly AthenaFunction[] = [
  {
    name: 'from_unixtime',
    sql: `CREATE OR REPLACE MACRO from_unixtime(unixtime) AS to_timestamp(unixtime),
      (unixtime, zone) AS timezone(zone, to_timestamp(unixtime)),
      (unixtime, hours, minutes) AS timezone('UTC', to_timestamp(unixtime))
        + to_hours(CAST(hours AS BIGINT)) + to_minutes(CAST(minutes AS BIGINT))`,
  },
  { name: 'to_unixtime', sql: 'CREATE OR REPLACE MACRO to_unixtime(ts) AS epoch(ts)' },
  {
    name: 'from_iso8601_timestamp',
    sql: 'CREATE OR REPLACE MACRO from_iso8601_timestamp(text) AS CAST(text AS TIMESTAMPTZ)',
  },
  { name: 'athena_unsupported_format', sql: UNSUPPORTED },
  { name: 'athena_strftime_format', sql: mysqlFormatMacro('athena_strftime_format', 1) },
  { name: 'athena_strptime_format', sql: mysqlFormatMacro('athena_strptime_format', 2) },
  {
    name: 'date_format',
    sql: `CREATE OR REPLACE MACRO date_format(ts, fmt) AS CASE WHEN athena_unsupported_format(fmt)
      THEN error('date_format: ' || fmt || ' has a specifier Athena (Trino) does not support: %D %U %u %V %w %X')
      ELSE strftime(ts, athena_strftime_format(fmt)) END`,
  },
  {
    name: 'date_parse',
    sql: `CREATE OR REPLACE MACRO date_parse(text, fmt) AS CASE WHEN athena_unsupported_format(fmt)
      THEN error('date_parse: ' || fmt || ' has a specifier Athena (Trino) does not support: %D %U %u %V %w %X')
      ELSE strptime(text, athena_strptime_format(fmt)) END`,
  },
  // DuckDB's element_at(map, key) is a one-element list; its subscript is Trino's element_at for maps
  // (NULL for a missing key) and for arrays (1-based, negative from the end, NULL out of range).
  { name: 'element_at', sql: 'CREATE OR REPLACE MACRO element_at(container, key) AS container[key]' },
  {
    // DuckDB's cardinality takes maps only and len lists only; a macro cannot choose by type, so the
    // value is counted through its JSON form: an array's elements or an object's keys.
    name: 'cardinality',
    sql: `CREATE OR REPLACE MACRO cardinality(x) AS CASE json_type(to_json(x))
      WHEN 'ARRAY' THEN CAST(json_array_length(to_json(x)) AS BIGINT)
      ELSE CAST(len(json_keys(to_json(x))) AS BIGINT) END`,
  },
  {
    name: 'regexp_like',
    sql: 'CREATE OR REPLACE MACRO regexp_like(text, pattern) AS regexp_matches(text, pattern)',
  },
  {
    name: 'approx_distinct',
    sql: `CREATE OR REPLACE MACRO approx_distinct(x) AS count(DISTINCT x),
      (x, max_standard_error) AS count(DISTINCT x)`,
  },
  {
    name: 'array_join',
    sql: `CREATE OR REPLACE MACRO array_join(items, delimiter) AS array_to_string(items, delimiter),
      (items, delimiter, null_replacement) AS array_to_string(
        list_transform(items, lambda item: coalesce(CAST(item AS VARCHAR), null_replacement)), delimiter)`,
  },
  { name: 'bitwise_and', sql: 'CREATE OR REPLACE MACRO bitwise_and(x, y) AS x & y' },
];

/** Runs SQL that returns nothing. */
export interface SqlRunner {
  run(sql: string): Promise<unknown>;
}

/**
 * Defines the Athena functions on a DuckDB connection, and Athena's session time zone (UTC). With
 * `today` (YYYY-MM-DD), `current_date` is that day: local data is from whenever it was generated, and
 * the named queries filter on days relative to today.
 */
export async function defineAthenaFunctions(
  connection: SqlRunner,
  options: { today?: string } = {},
): Promise<void> {
  await connection.run("SET TimeZone = 'UTC'");
  for (const fn of ATHENA_FUNCTIONS) await connection.run(fn.sql);
  if (options.today !== undefined) await setToday(connection, options.today);
}

/** Makes `current_date` return `today` (YYYY-MM-DD) on this connection. */
export async function setToday(connection: SqlRunner, today: string): Promise<void> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today))
    throw new RangeError(`today must be YYYY-MM-DD, not ${JSON.stringify(today)}`);
  await connection.run(`CREATE OR REPLACE MACRO current_date() AS DATE '${today}'`);
}
