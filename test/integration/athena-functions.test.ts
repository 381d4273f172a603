import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATHENA_FUNCTIONS, defineAthenaFunctions, setToday } from '../../src/local/athena-functions.js';

/*
 * Each Athena (Trino) function, defined as a DuckDB macro, run as real SQL through DuckDB and compared to
 * the value Trino gives: from the examples of Trino's documentation (docs/src/main/sphinx/functions/*.md
 * in trinodb/trino) where it has one, else from the documented definition (noted per row).
 */

let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  await defineAthenaFunctions(connection);
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

/** The one value of a one-row, one-column query, in DuckDB's JSON form (BIGINT as a string). */
async function value(sql: string): Promise<unknown> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowsJson()[0]?.[0];
}

describe('Athena functions as DuckDB macros', () => {
  it.each([
    // datetime.md, "MySQL date functions"
    {
      name: 'date_format (documentation example)',
      sql: "date_format(TIMESTAMP '2022-10-20 05:10:00', '%m-%d-%Y %H')",
      trino: '10-20-2022 05',
    },
    {
      // Every specifier Trino supports, on the timestamp of the documentation's date_trunc table; each
      // value as the specifier table defines it (2001-08-22 is a Wednesday, day 234, ISO week 34).
      name: 'date_format (every supported specifier)',
      sql: "date_format(TIMESTAMP '2001-08-22 03:04:05.321', '%a %b %c %d %e %f %H %h %I %i %j %k %l %M %m %p %r %S %s %T %v %W %x %Y %y %% %q')",
      trino:
        'Wed Aug 8 22 22 321000 03 03 03 04 234 3 3 August 08 AM 03:04:05 AM 05 05 03:04:05 34 Wednesday 2001 2001 01 % q',
    },
    {
      name: 'date_format of a flow-log start time',
      sql: "date_format(from_unixtime(1418530010), '%Y-%m-%d %H:%i:%s')",
      trino: '2014-12-14 04:06:50',
    },
    {
      name: 'date_parse (documentation example: 2022-10-20 05:00:00.000)',
      sql: "CAST(date_parse('2022/10/20/05', '%Y/%m/%d/%H') AS VARCHAR)",
      trino: '2022-10-20 05:00:00',
    },
    {
      name: 'date_parse with unpadded numbers and minutes',
      sql: "CAST(date_parse('2022-1-5 7:03', '%Y-%c-%e %k:%i') AS VARCHAR)",
      trino: '2022-01-05 07:03:00',
    },
    {
      // "unixtime is the number of seconds since 1970-01-01 00:00:00 UTC"; a timestamp with time zone
      name: 'from_unixtime(0)',
      sql: "strftime(from_unixtime(0), '%Y-%m-%d %H:%M:%S %Z') || ' ' || typeof(from_unixtime(0))",
      trino: '1970-01-01 00:00:00 UTC TIMESTAMP WITH TIME ZONE',
    },
    {
      name: 'from_unixtime of the AWS documentation record start 1418530010',
      sql: "strftime(from_unixtime(1418530010), '%Y-%m-%d %H:%M:%S')",
      trino: '2014-12-14 04:06:50',
    },
    {
      name: 'from_unixtime(unixtime, zone): the wall-clock time there',
      sql: "strftime(from_unixtime(1418530010, 'America/New_York'), '%Y-%m-%d %H:%M:%S')",
      trino: '2014-12-13 23:06:50',
    },
    {
      name: 'from_unixtime(unixtime, hours, minutes)',
      sql: "strftime(from_unixtime(1418530010, 5, 30), '%Y-%m-%d %H:%M:%S')",
      trino: '2014-12-14 09:36:50',
    },
    { name: 'to_unixtime (a double)', sql: 'to_unixtime(from_unixtime(1418530010.5))', trino: 1418530010.5 },
    {
      name: "from_iso8601_timestamp('2020-05-11') (documentation: 2020-05-11 00:00:00.000 in the session zone)",
      sql: "strftime(from_iso8601_timestamp('2020-05-11'), '%Y-%m-%d %H:%M:%S.%g')",
      trino: '2020-05-11 00:00:00.000',
    },
    {
      name: "from_iso8601_timestamp('2020-05-11T11:15:05') (documentation: 2020-05-11 11:15:05.000)",
      sql: "strftime(from_iso8601_timestamp('2020-05-11T11:15:05'), '%Y-%m-%d %H:%M:%S.%g')",
      trino: '2020-05-11 11:15:05.000',
    },
    {
      name: "from_iso8601_timestamp('…055+01:00') (documentation: 2020-05-11 11:15:05.055 +01:00, the same instant)",
      sql: "to_unixtime(from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00'))",
      trino: 1589192105.055,
    },
    // map.md and array.md
    {
      name: 'element_at(map, key)',
      sql: "element_at(MAP(ARRAY['key1', 'key2', 'key3'], ARRAY['v1', 'v2', 'v3']), 'key2')",
      trino: 'v2',
    },
    {
      name: 'element_at(map, key) without a space (once rewritten wrongly)',
      sql: "element_at(MAP(ARRAY['Name'], ARRAY['web-1']),'Name')",
      trino: 'web-1',
    },
    {
      name: 'element_at(map, missing key) is NULL',
      sql: "element_at(MAP(ARRAY['key1'], ARRAY['v1']), 'key9')",
      trino: null,
    },
    { name: 'element_at(array, 2)', sql: 'element_at(ARRAY[1, 2, 4], 2)', trino: 2 },
    { name: 'element_at(array, -1): from the last', sql: 'element_at(ARRAY[1, 2, 4], -1)', trino: 4 },
    { name: 'element_at(array, beyond the end) is NULL', sql: 'element_at(ARRAY[1, 2, 4], 4)', trino: null },
    {
      name: 'cardinality(array), NULL elements counted',
      sql: 'cardinality(ARRAY[1, 2, NULL, -4, NULL])',
      trino: '5',
    },
    { name: 'cardinality(empty array)', sql: 'cardinality(ARRAY[])', trino: '0' },
    {
      name: 'cardinality(map)',
      sql: "cardinality(MAP(ARRAY['key1', 'key2', 'key3'], ARRAY[2373, 3463, 45837]))",
      trino: '3',
    },
    { name: 'cardinality(NULL)', sql: 'cardinality(CAST(NULL AS VARCHAR[]))', trino: null },
    // regexp.md
    { name: 'regexp_like (documentation example)', sql: "regexp_like('1a 2b 14m', '\\d+b')", trino: true },
    { name: 'regexp_like anchored', sql: "regexp_like('1a 2b 14m', '^\\d+b$')", trino: false },
    // array.md: "Null elements are omitted in the result."
    { name: 'array_join', sql: "array_join(ARRAY['a', NULL, 'b'], ',')", trino: 'a,b' },
    {
      name: 'array_join with null_replacement',
      sql: "array_join(ARRAY['a', NULL, 'b'], ',', 'x')",
      trino: 'a,x,b',
    },
    // bitwise.md
    { name: 'bitwise_and (documentation example)', sql: 'bitwise_and(19, 25)', trino: 17 },
  ])('$name', async ({ sql, trino }) => {
    // Act
    const result = await value(`SELECT ${sql}`);

    // Assess
    expect(result).toStrictEqual(trino);
  });

  it('approx_distinct gives the exact count: within the 2.3% standard error Trino documents', async () => {
    expect(await value('SELECT approx_distinct(i % 1000) FROM range(100000) t(i)')).toBe('1000');
    expect(await value('SELECT approx_distinct(i % 1000, 0.01) FROM range(100000) t(i)')).toBe('1000');
    // "Zero is returned if all input values are null."
    expect(await value('SELECT approx_distinct(CAST(NULL AS INTEGER)) FROM range(10)')).toBe('0');
  });

  it.each(['%D', '%U', '%u', '%V', '%w', '%X'])(
    'date_format fails on %s, as Trino does',
    async (specifier) => {
      await expect(
        value(`SELECT date_format(TIMESTAMP '2022-10-20 05:10:00', '${specifier}')`),
      ).rejects.toThrow(/not support/);
    },
  );

  it('works on columns, not only on constants', async () => {
    // Prepare
    const sql = `SELECT date_format(from_unixtime(start), '%H:%i') AS t, element_at(tags, 'Name') AS name,
        cardinality(flags) AS n
      FROM (VALUES (1418530010, MAP(['Name'], ['web-1']), ['a', 'b']), (1418533610, MAP(['x'], ['y']), [])) v(start, tags, flags)`;

    // Act
    const reader = await connection.runAndReadAll(sql);

    // Assess
    expect(reader.getRowObjectsJson()).toStrictEqual([
      { t: '04:06', name: 'web-1', n: '2' },
      { t: '05:06', name: null, n: '0' },
    ]);
  });

  it('makes current_date the given day', async () => {
    await setToday(connection, '2026-11-23');
    expect(await value("SELECT CAST(current_date - INTERVAL '1' DAY AS DATE) = DATE '2026-11-22'")).toBe(
      true,
    );
    await expect(setToday(connection, "2026-11-23'; DROP")).rejects.toThrow(RangeError);
  });

  it('defines every function it lists', async () => {
    const reader = await connection.runAndReadAll(
      "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'macro' AND schema_name = 'main' AND database_name = 'memory'",
    );
    const defined = reader.getRowsJson().map((row) => row[0]);
    expect(defined).toEqual(expect.arrayContaining(ATHENA_FUNCTIONS.map((fn) => fn.name)));
  });
});
