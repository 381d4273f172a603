import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { syncedView } from '../../scripts/sync-queries.mjs';
import { COLUMNS } from '../../src/columns.js';
import { LAYOUTS, loadTemplate, resolveIf, type Yaml } from '../helpers/template.js';
import { decode, evaluate } from '../helpers/view.js';

/**
 * The Glue view flow_logs_v as CloudFormation creates it, decoded the way Athena reads it: the Presto view
 * JSON inside `/* Presto View: <base64> *\/`, for each PartitionLayout, with a sample database name.
 */

const SQL_URL = new URL('../../queries/views/flow_logs_v.sql', import.meta.url);
const DATABASE = 'flowlogs_sample';
const template = loadTemplate();
const view = template.Resources.FlowLogsView;
const table = template.Resources.FlowLogTable?.Properties.TableInput;

/** Written here, not taken from the generator: a mistake in one is caught by the other. */
const PRESTO: Record<string, string> = {
  int: 'integer',
  bigint: 'bigint',
  string: 'varchar',
  'array<string>': 'array(varchar)',
  'map<string,string>': 'map(varchar,varchar)',
  timestamp: 'timestamp(3) with time zone',
};

/** What the view adds after `f.*`: Athena's types of from_unixtime, the CASEs, filter(ARRAY[…]). */
const DERIVED = [
  { Name: 'start_time', Type: 'timestamp' },
  { Name: 'end_time', Type: 'timestamp' },
  { Name: 'protocol_name', Type: 'string' },
  { Name: 'tcp_flag_names', Type: 'array<string>' },
  { Name: 'ip_version', Type: 'int' },
];

/** The SQL file without its whole-line comments and final `;`, as the view's originalSql must hold it. */
function sqlOf(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .trim()
    .replace(/;$/, '')
    .trim();
}

describe('template.yaml: the view flow_logs_v', () => {
  it('is a Presto view in the Glue database', () => {
    const input = view?.Properties.TableInput;
    expect(view?.Type).toBe('AWS::Glue::Table');
    expect(view?.Properties.DatabaseName).toStrictEqual({ Ref: 'GlueDatabase' });
    expect(input.Name).toBe('flow_logs_v');
    expect(input.TableType).toBe('VIRTUAL_VIEW');
    expect(input.Parameters).toStrictEqual({ presto_view: 'true', comment: 'Presto View' });
    expect(input.ViewExpandedText).toBe('/* Presto View */');
  });

  it('is in step with queries/views/flow_logs_v.sql and src/columns.ts', () => {
    const text = readFileSync(new URL('../../template.yaml', import.meta.url), 'utf8');
    expect(syncedView(text, COLUMNS, readFileSync(SQL_URL, 'utf8'))).toBe(text);
  });

  it.each(Object.entries(LAYOUTS))(
    'layout %s: holds the SQL file and the columns SELECT f.* expands to, in Presto and Hive types',
    (_, truths) => {
      // Prepare
      const set = new Set(truths);
      const input = resolveIf(view?.Properties.TableInput, set) as Yaml;
      const partitionKeys = resolveIf(table.PartitionKeys, set) as { Name: string; Type: string }[];

      // Act
      const decoded = decode(
        evaluate(input.ViewOriginalText, { GlueDatabase: DATABASE, 'AWS::AccountId': '123456789012' }),
      );

      // Assess
      expect(decoded.originalSql).toBe(sqlOf(readFileSync(SQL_URL, 'utf8')));
      expect(decoded.catalog).toBe('awsdatacatalog');
      expect(decoded.schema).toBe(DATABASE);
      const hive = [...COLUMNS.map((c) => ({ Name: c.name, Type: c.glue })), ...partitionKeys, ...DERIVED];
      expect(input.StorageDescriptor.Columns).toStrictEqual(hive);
      expect(decoded.columns).toStrictEqual(hive.map((c) => ({ name: c.Name, type: PRESTO[c.Type] })));
    },
  );
});
