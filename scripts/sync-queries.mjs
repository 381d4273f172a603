// Writes the Athena named queries of template.yaml from queries/*.sql, and the Glue view of
// queries/views/flow_logs_v.sql with the columns of src/columns.ts (the single sources of the SQL and columns).
// Usage: node scripts/sync-queries.mjs [--check]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadColumns } from './sync-columns.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const BEGIN = '  # BEGIN NAMED QUERIES';
const END = '  # END NAMED QUERIES';

export function namedQueriesYaml() {
  const files = readdirSync(`${root}queries`)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  return files
    .map((file) => {
      const name = file.replace(/\.sql$/, '');
      const sql = readFileSync(`${root}queries/${file}`, 'utf8').trimEnd();
      const description = (sql.split('\n')[0] ?? '').replace(/^--\s*/, '');
      const logical = `Query${name.replace(/(^|-)([a-z])/g, (_, __, c) => c.toUpperCase())}`;
      return [
        `  ${logical}:`,
        '    Type: AWS::Athena::NamedQuery',
        '    Properties:',
        `      Name: ${name}`,
        `      Description: ${JSON.stringify(description.slice(0, 1024))}`,
        '      Database: !Ref GlueDatabase',
        '      WorkGroup: !Ref AthenaWorkGroup',
        '      QueryString: |',
        ...sql.split('\n').map((line) => (line === '' ? '' : `        ${line}`)),
        '',
      ].join('\n');
    })
    .join('\n');
}

export function syncedTemplate(template) {
  const start = template.indexOf(BEGIN);
  const end = template.indexOf(END);
  if (start === -1 || end === -1) throw new Error('template.yaml has no named-query markers');
  const head = template.slice(0, template.indexOf('\n', start) + 1);
  return `${head}\n${namedQueriesYaml()}\n${template.slice(end)}`;
}

const VIEW_BEGIN = '  # BEGIN VIEWS';
const VIEW_END = '  # END VIEWS';

/** The view's SQL as Athena is given it: without whole-line `--` comments and the closing `;`. */
export function viewSql(text) {
  return text
    .split('\n')
    .filter((line) => !/^\s*--/.test(line))
    .join('\n')
    .trim()
    .replace(/;+$/, '')
    .trimEnd();
}

/** Hive (Glue) type → Presto (Trino) type, as Athena writes a view's columns. */
export const PRESTO_TYPES = {
  int: 'integer',
  bigint: 'bigint',
  string: 'varchar',
  timestamp: 'timestamp(3) with time zone',
  'array<string>': 'array(varchar)',
  'map<string,string>': 'map(varchar,varchar)',
};

/**
 * The partition keys of FlowLogTable, in order, each with the condition it depends on (none: every layout
 * has it). `SELECT f.*` expands to the data columns and then these, so the view's columns follow them.
 */
export const VIEW_PARTITIONS = [
  { name: 'aws_account_id', condition: 'ByAccount' },
  { name: 'aws_region' },
  { name: 'dt' },
  { name: 'hour', condition: 'ByHour' },
];

/** What flow_logs_v adds after `f.*`, with the types Athena gives the expressions (Hive type for Glue). */
export const VIEW_DERIVED = [
  { name: 'start_time', glue: 'timestamp' },
  { name: 'end_time', glue: 'timestamp' },
  { name: 'protocol_name', glue: 'string' },
  { name: 'tcp_flag_names', glue: 'array<string>' },
  { name: 'ip_version', glue: 'int' },
];

const NAME = 'flow_logs_v';
const variable = (name) => `${name.replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase())}Column`;
const prestoColumn = (name, glue) => JSON.stringify({ name, type: PRESTO_TYPES[glue] });

/** The Glue VIRTUAL_VIEW resource for flow_logs_v, as template.yaml lines. */
export function viewYaml(columns, sqlText) {
  const sql = viewSql(sqlText);
  // Fn::Sub reads `${x}` as a variable; the SQL's own `${` stays literal written as `${!`.
  const original = JSON.stringify(sql).replaceAll('${', '${!');
  const json = [
    `{"originalSql": ${original},`,
    ' "catalog": "awsdatacatalog",',
    ' "schema": "${GlueDatabase}",',
    ' "columns": [',
    ...columns.map((c) => `  ${prestoColumn(c.name, c.glue)},`),
    ...VIEW_PARTITIONS.map((p) =>
      p.condition ? `  \${${variable(p.name)}}` : `  ${prestoColumn(p.name, 'string')},`,
    ),
    ...VIEW_DERIVED.map(
      (d, i) => `  ${prestoColumn(d.name, d.glue)}${i < VIEW_DERIVED.length - 1 ? ',' : ''}`,
    ),
    ' ]}',
  ];
  const yamlString = (text) => `'${text.replaceAll("'", "''")}'`;
  const variables = VIEW_PARTITIONS.filter((p) => p.condition).map(
    (p) =>
      `${variable(p.name)}: !If [${p.condition}, ${yamlString(`${prestoColumn(p.name, 'string')},`)}, '']`,
  );
  const hive = [
    ...columns.map((c) => `            - { Name: ${c.name}, Type: "${c.glue}" }`),
    ...VIEW_PARTITIONS.map((p) =>
      p.condition
        ? `            - !If [${p.condition}, { Name: ${p.name}, Type: "string" }, !Ref AWS::NoValue]`
        : `            - { Name: ${p.name}, Type: "string" }`,
    ),
    ...VIEW_DERIVED.map((d) => `            - { Name: ${d.name}, Type: "${d.glue}" }`),
  ];
  return [
    '  # The view flow_logs_v over flow_logs, from queries/views/flow_logs_v.sql: the text `flowlog-enrich query`',
    '  # gives DuckDB. A Glue table of type VIRTUAL_VIEW in the form Athena itself writes for CREATE VIEW (Presto',
    '  # view: base64 JSON of the SQL and its columns), so the view exists as soon as the stack does, is deleted',
    '  # with it, and cfn-lint and the tests see it. The alternative, a custom resource running CREATE VIEW in',
    '  # Athena, would let Athena type the columns but adds a function, its role, a query to poll at deploy time',
    '  # and a failure mode on delete; test/integration/flow-logs-view.test.ts checks the types given here',
    '  # against what the SQL yields. The view lists the columns `f.*` expands to, so the partition keys that',
    '  # depend on PartitionLayout are in or out by the same conditions as FlowLogTable.PartitionKeys (one',
    '  # resource, no copy per layout). The schema is the database name, known only at deploy: hence Fn::Sub',
    '  # before Fn::Base64.',
    '  FlowLogsView:',
    '    Type: AWS::Glue::Table',
    '    DependsOn: FlowLogTable',
    '    Properties:',
    '      CatalogId: !Ref AWS::AccountId',
    '      DatabaseName: !Ref GlueDatabase',
    '      TableInput:',
    `        Name: ${NAME}`,
    '        Description: Every column of flow_logs plus start_time, end_time, protocol_name, tcp_flag_names, ip_version.',
    '        TableType: VIRTUAL_VIEW',
    '        Parameters:',
    "          presto_view: 'true'",
    '          comment: Presto View',
    "        ViewExpandedText: '/* Presto View */'",
    '        ViewOriginalText: !Join',
    "          - ''",
    "          - - '/* Presto View: '",
    '            - Fn::Base64:',
    '                Fn::Sub:',
    '                  - |-',
    ...json.map((line) => `                    ${line}`),
    ...variables.map((line, i) => `${i === 0 ? '                  - ' : '                    '}${line}`),
    "            - ' */'",
    '        StorageDescriptor:',
    '          SerdeInfo: {}',
    '          Columns:',
    ...hive,
    '',
  ].join('\n');
}

export function syncedView(template, columns, sqlText) {
  const start = template.indexOf(VIEW_BEGIN);
  const end = template.indexOf(VIEW_END);
  if (start === -1 || end === -1) throw new Error('template.yaml has no view markers');
  const head = template.slice(0, template.indexOf('\n', start) + 1);
  return `${head}\n${viewYaml(columns, sqlText)}\n${template.slice(end)}`;
}

export const VIEW_SQL_PATH = `${root}queries/views/${NAME}.sql`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = `${root}template.yaml`;
  const current = readFileSync(path, 'utf8');
  const next = syncedView(syncedTemplate(current), await loadColumns(), readFileSync(VIEW_SQL_PATH, 'utf8'));
  if (process.argv.includes('--check')) {
    if (current !== next) {
      console.error('template.yaml named queries or views are stale: run npm run queries');
      process.exit(1);
    }
  } else writeFileSync(path, next);
}
