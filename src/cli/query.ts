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
  /** The window of a fleet query (`15m`, `2h`, `1d`): its `?` parameters. */
  readonly since?: string;
  /** The window's end (ISO 8601; default: the newest flow end in the data). */
  readonly until?: string;
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
    const params = await windowParameters(sql as string, flags, db);
    let result: QueryResult;
    try {
      result = await db.query(sql as string, params);
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

/** `15m`, `2h`, `1d` → minutes. */
export function parseWindow(text: string): number {
  const match = /^(\d+)([mhd])$/.exec(text.trim());
  if (!match || Number(match[1]) === 0)
    throw new UsageError(`--since ${JSON.stringify(text)}: give a window like 15m, 2h or 1d`);
  return Number(match[1]) * { m: 1, h: 60, d: 1440 }[match[2] as 'm' | 'h' | 'd'];
}

/**
 * The `?` parameters of a fleet query, as the scheduled state machine passes them to Athena: pairs of the
 * window's end (ISO 8601) and its length in minutes, one pair per placeholder pair. Locally the end is the
 * newest flow end in the data unless `--until` gives it (data is from whenever it was generated).
 */
async function windowParameters(
  sql: string,
  flags: QueryFlags,
  db: Awaited<ReturnType<typeof openFlowLogs>>,
): Promise<(string | number)[]> {
  const placeholders = (sql.replace(/--[^\n]*/g, '').match(/\?/g) ?? []).length;
  if (placeholders === 0) {
    if (flags.since) throw new UsageError('--since is for the fleet queries (their window is a parameter)');
    return [];
  }
  if (!flags.since) throw new UsageError(`${flags.name ?? 'this query'} takes a window: add --since 15m`);
  const minutes = parseWindow(flags.since);
  let end = flags.until;
  if (end === undefined) {
    const { rows } = await db.query('SELECT max("end") AS newest FROM flow_logs');
    const newest = Number(rows[0]?.newest);
    end = new Date((Number.isFinite(newest) ? newest : Date.now() / 1000) * 1000).toISOString();
  } else if (Number.isNaN(Date.parse(end))) throw new UsageError(`--until ${end}: not an ISO 8601 time`);
  return Array.from({ length: placeholders }, (_, i) => (i % 2 === 0 ? (end as string) : minutes));
}
