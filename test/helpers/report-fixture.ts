import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namedQueries, viewDefinitions } from '../../src/cli/query.js';
import { type FlowLogsDatabase, newestDay, openFlowLogs } from '../../src/local/duckdb.js';
import { runCli } from './cli.js';

/** The CLI as a user runs it: the environment's enrichment setting (on), not the tests' default. */
const cli = (argv: string[]) => runCli(argv, { ENRICHMENT: undefined });

/** Lines the default format cannot read: one short of fields, one with a bad port. */
export const BAD_LINES =
  '2 123 eni-x 1.2.3.4\n' +
  '2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 80x 443 6 1 40 1795428000 1795428060 ACCEPT OK\n';

/**
 * What `npm start` runs, in a temporary folder: an hour of the sample three-tier VPC with its attacks, plus
 * two lines that fail (so errors/ has records), through `run`. Returns the output folder.
 */
export async function demoOutput(): Promise<{ dir: string; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-report-'));
  const sample = join(dir, 'sample.log.gz');
  const inventory = join(dir, 'inventory.json');
  const bad = join(dir, 'bad.log');
  writeFileSync(bad, BAD_LINES);
  const generated = await cli([
    'generate',
    ...['--minutes', '60', '--seed', '1', '--out', sample, '--inventory-out', inventory],
  ]);
  if (generated.code !== 0) throw new Error(`generate failed: ${generated.stderr}`);
  const out = join(dir, 'out');
  const ran = await cli([
    'run',
    '--input',
    sample,
    '--input',
    bad,
    '--inventory',
    inventory,
    '--out',
    out,
    '-q',
  ]);
  if (ran.code !== 0) throw new Error(`run failed: ${ran.stderr}${ran.stdout}`);
  return { dir, out };
}

export { cli as runReportCli };

/** DuckDB over `out`, as `flowlog-enrich query` opens it (today: the newest day). */
export async function openOutput(out: string): Promise<FlowLogsDatabase> {
  const db = await openFlowLogs(out, undefined, viewDefinitions());
  const today = await newestDay(db);
  if (today) await db.setToday(today);
  return db;
}

export function namedSql(name: string): string {
  const found = namedQueries().find((q) => q.name === name);
  if (!found) throw new Error(`no query ${name}`);
  return found.sql;
}
