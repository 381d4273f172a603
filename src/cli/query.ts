import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newestDay, openFlowLogs, type QueryResult, type ViewDefinition } from '../local/duckdb.js';
import { type CliContext, UsageError } from './context.js';
import { projectRoot } from './project-root.js';
import { formatTable } from './table.js';

/** Rows a query prints as a table; `--json` prints them all. */
const TABLE_ROWS = 20;

export interface QueryFlags {
  readonly name?: string;
  readonly sql?: string;
  readonly out: string;
  /** The date the named queries take as today (default: the newest day in the data). */
  readonly today?: string;
  readonly json?: boolean;
}

export interface NamedQuery {
  readonly name: string;
  readonly description: string;
  readonly sql: string;
}

/** The stack's named queries: queries/*.sql, the same text template.yaml gives Athena. */
export function namedQueries(): NamedQuery[] {
  const dir = join(projectRoot(), 'queries');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        name: file.replace(/\.sql$/, ''),
        description: (sql.split('\n')[0] ?? '').replace(/^--\s*/, ''),
        sql,
      };
    });
}

/**
 * The stack's views: queries/views/NAME.sql holds the SELECT of view NAME, the text Athena is given too.
 */
export function viewDefinitions(): ViewDefinition[] {
  const dir = join(projectRoot(), 'queries', 'views');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => ({ name: file.replace(/\.sql$/, ''), sql: readFileSync(join(dir, file), 'utf8') }));
}

/**
 * `flowlog-enrich query [NAME | --sql SQL] --out DIR`: runs a named query (or the given SQL) with DuckDB
 * over what `run` wrote; without either, lists the queries.
 */
export async function query(flags: QueryFlags, ctx: CliContext): Promise<QueryResult | undefined> {
  const queries = namedQueries();
  if (!flags.name && !flags.sql) {
    ctx.stdout('named queries (flowlog-enrich query NAME --out DIR):\n');
    ctx.stdout(
      formatTable(
        ['name', 'description'],
        queries.map((q) => [q.name, q.description]),
        { header: false, footer: false, indent: '  ', maxWidth: 100 },
      ),
    );
    return undefined;
  }
  let sql = flags.sql;
  if (flags.name) {
    const found = queries.find((q) => q.name === flags.name);
    if (!found)
      throw new UsageError(`no query named ${JSON.stringify(flags.name)}; run without a name to list them`);
    sql = found.sql;
  }
  if (!existsSync(flags.out))
    throw new UsageError(`${flags.out} does not exist: run \`flowlog-enrich run --out ${flags.out}\` first`);
  const db = await openFlowLogs(
    flags.out,
    join(projectRoot(), 'schemas', 'emitted-record.json'),
    viewDefinitions(),
  );
  try {
    // Local data is from whenever it was generated: "today" is the newest day in it unless given.
    const today = flags.today ?? (await newestDay(db));
    if (today) await db.setToday(today);
    let result: QueryResult;
    try {
      result = await db.query(sql as string);
    } catch (error) {
      // A mistake in the SQL is the user's to fix: say what DuckDB said, without a stack trace.
      throw new UsageError(`query failed: ${(error as Error).message}`);
    }
    ctx.stdout(
      flags.json
        ? `${JSON.stringify(result.rows)}\n`
        : formatTable(
            result.columns,
            result.rows.map((row) => result.columns.map((column) => row[column])),
            { maxRows: TABLE_ROWS },
          ),
    );
    return result;
  } finally {
    db.close();
  }
}
