import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { COLUMNS, type Column } from '../columns.js';
import { defineAthenaFunctions, setToday } from './athena-functions.js';

/**
 * Runs the stack's Athena queries locally with DuckDB over what the pipeline wrote: the same table name
 * (`flow_logs`), the same columns (typed from the column table, as the Glue table is), and the
 * partition columns of the S3 folders.
 */

export interface QueryResult {
  readonly columns: string[];
  readonly rows: Record<string, unknown>[];
}

export interface FlowLogsDatabase {
  /** Runs `sql`; `params` are bound to its `?` placeholders in order (Athena's ExecutionParameters). */
  query(sql: string, params?: readonly (string | number)[]): Promise<QueryResult>;
  /** Makes `current_date` this day (YYYY-MM-DD), for queries that filter on days relative to today. */
  setToday(today: string): Promise<void>;
  close(): void;
}

/** A view over `flow_logs`, defined by the text of its SELECT (queries/views/NAME.sql). */
export interface ViewDefinition {
  readonly name: string;
  readonly sql: string;
}

const PARTITIONS = ['aws_account_id', 'aws_region', 'dt', 'hour'];

/** DuckDB type ids of integers: TINYINT…BIGINT, their unsigned forms, HUGEINT, UHUGEINT. */
const INTEGER_TYPE_IDS = new Set([2, 3, 4, 5, 6, 7, 8, 9, 16, 32]);

/** DuckDB column types for the emitted record, mirroring the Glue table's (both from the column table). */
export function columnTypes(): Record<string, string> {
  return Object.fromEntries(COLUMNS.map((column) => [column.name, DUCKDB_TYPES[column.glue]]));
}

const DUCKDB_TYPES: Readonly<Record<Column['glue'], string>> = {
  int: 'INTEGER',
  bigint: 'BIGINT',
  string: 'VARCHAR',
  'array<string>': 'VARCHAR[]',
  'map<string,string>': 'MAP(VARCHAR, VARCHAR)',
};

function hasFiles(dir: string, extension: string): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(extension)) return true;
  }
  return false;
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** The `columns = {…}` argument of read_ndjson: the emitted record typed as the Glue table types it. */
export function ndjsonColumns(): string {
  return `{${Object.entries(columnTypes())
    .map(([name, type]) => `${quote(name)}: ${quote(type)}`)
    .join(', ')}}`;
}

/**
 * Writes JSON Lines of emitted records as one Parquet file (snappy), as Firehose's Parquet option does.
 * `rowGroupSize` (rows) bounds what DuckDB buffers before it writes a row group.
 */
export async function writeParquet(
  connection: { run(sql: string): Promise<unknown> },
  ndjsonPath: string,
  parquetPath: string,
  // Kept for callers; the types come from the column table.
  _schemaPath?: string,
  options: { rowGroupSize?: number } = {},
): Promise<void> {
  const rowGroup = options.rowGroupSize ? `, ROW_GROUP_SIZE ${Math.trunc(options.rowGroupSize)}` : '';
  await connection.run(
    `COPY (SELECT * FROM read_ndjson(${quote(ndjsonPath)}, columns = ${ndjsonColumns()})) TO ${quote(parquetPath)} (FORMAT parquet, COMPRESSION snappy${rowGroup})`,
  );
}

/**
 * Opens what the pipeline wrote under `outDir` as the table `flow_logs`, with Athena's functions defined
 * (src/local/athena-functions.ts) so that the stack's SQL runs unchanged, and the given views over it.
 */
export async function openFlowLogs(
  outDir: string,
  // Kept for callers; the types come from the column table.
  _schemaPath?: string,
  views: readonly ViewDefinition[] = [],
): Promise<FlowLogsDatabase> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await defineAthenaFunctions(connection);
  const dataDir = join(outDir, 'flowlogs');
  const hiveTypes = `{${PARTITIONS.map((p) => `'${p}': 'VARCHAR'`).join(', ')}}`;
  const types = columnTypes();
  const columns = ndjsonColumns();
  const sources: string[] = [];
  if (hasFiles(dataDir, '.gz')) {
    sources.push(
      `SELECT * FROM read_ndjson(${quote(join(dataDir, '**/*.gz'))}, columns = ${columns}, hive_partitioning = true, hive_types = ${hiveTypes}, compression = 'gzip')`,
    );
  }
  if (hasFiles(dataDir, '.parquet')) {
    sources.push(
      `SELECT * FROM read_parquet(${quote(join(dataDir, '**/*.parquet'))}, hive_partitioning = true, hive_types = ${hiveTypes}, union_by_name = true)`,
    );
  }
  if (sources.length === 0) {
    // An empty table with the right columns, so queries run and return nothing.
    const empty = Object.entries(types)
      .map(([name, type]) => `CAST(NULL AS ${type}) AS "${name}"`)
      .concat(PARTITIONS.map((p) => `CAST(NULL AS VARCHAR) AS ${p}`))
      .join(', ');
    sources.push(`SELECT ${empty} WHERE false`);
  }
  await connection.run(`CREATE VIEW flow_logs AS ${sources.join(' UNION ALL BY NAME ')}`);
  for (const view of views) {
    try {
      await connection.run(`CREATE VIEW "${view.name}" AS ${view.sql}`);
    } catch (error) {
      connection.closeSync();
      instance.closeSync();
      throw new Error(`view ${view.name}: ${(error as Error).message}`, { cause: error });
    }
  }
  return {
    setToday: (today) => setToday(connection, today),
    async query(sql, params) {
      const reader = await connection.runAndReadAll(
        sql,
        params && params.length > 0 ? [...params] : undefined,
      );
      const columns = reader.columnNames();
      const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
      // DuckDB's JSON form writes BIGINT and HUGEINT as strings to stay lossless; give back numbers where
      // they are exact (sums of bytes), strings otherwise. VARCHAR columns (account ids) stay strings.
      const integer = reader.columnTypes().map((type) => INTEGER_TYPE_IDS.has(type.typeId as number));
      for (const row of rows) {
        columns.forEach((column, i) => {
          const value = row[column];
          if (integer[i] && typeof value === 'string' && Number.isSafeInteger(Number(value)))
            row[column] = Number(value);
        });
      }
      return { columns, rows };
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** The newest `dt` in the data, used as "today" for the named queries' relative date filters. */
export async function newestDay(db: FlowLogsDatabase): Promise<string | undefined> {
  const { rows } = await db.query('SELECT max(dt) AS dt FROM flow_logs');
  const dt = rows[0]?.dt;
  return typeof dt === 'string' ? dt : undefined;
}
