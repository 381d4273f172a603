// Writes what the column table (src/columns.ts) decides into the files that cannot import it:
// schemas/flow-record.json and schemas/emitted-record.json, the Glue table's columns in template.yaml, and the
// README's field reference. Then `npm run schemas` compiles the validators from the schemas.
// Usage: node scripts/sync-columns.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The column table, bundled on the fly (scripts run on plain Node, the table is TypeScript). */
export async function loadColumns() {
  const bundle = await build({
    entryPoints: [`${root}src/columns.ts`],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'error',
  });
  const source = bundle.outputFiles[0].text;
  const module = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);
  return module.COLUMNS;
}

const nullable = (schema) => {
  if (schema.enum) return { ...schema, enum: [...schema.enum, null] };
  return { ...schema, type: [schema.type, 'null'] };
};

export function schemas(columns, current) {
  const flow = JSON.parse(current.flow);
  const emitted = JSON.parse(current.emitted);
  flow.properties = Object.fromEntries(
    columns
      .filter((c) => c.awsName !== undefined)
      .map((c) => [c.name, { ...nullable(c.schema), description: c.description }]),
  );
  emitted.properties = Object.fromEntries(
    columns.map((c) => [c.name, { ...c.schema, description: c.description }]),
  );
  return { flow: `${JSON.stringify(flow, null, 2)}\n`, emitted: `${JSON.stringify(emitted, null, 2)}\n` };
}

const GLUE_BEGIN = '          # BEGIN COLUMNS (npm run columns)';
const GLUE_END = '          # END COLUMNS';

export function glueColumns(columns, template) {
  const start = template.indexOf(GLUE_BEGIN);
  const end = template.indexOf(GLUE_END);
  if (start === -1 || end === -1) throw new Error('template.yaml has no column markers');
  const lines = columns.map((c) => `            - { Name: ${c.name}, Type: "${c.glue}" }`);
  return `${template.slice(0, start + GLUE_BEGIN.length)}\n${lines.join('\n')}\n${template.slice(end)}`;
}

const README_BEGIN = '<!-- BEGIN FIELD REFERENCE (npm run columns) -->';
const README_END = '<!-- END FIELD REFERENCE -->';

export function fieldReference(columns, readme) {
  const start = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (start === -1 || end === -1) throw new Error('README.md has no field-reference markers');
  const group = (c) =>
    typeof c.group === 'number' ? `v${c.group}${c.transitGateway ? ' (TGW)' : ''}` : c.group;
  const rows = columns.map(
    (c) =>
      `| \`${c.name}\` | ${c.glue.replace('<', '&lt;').replace('>', '&gt;')} | ${group(c)} | ${c.description.replaceAll('|', '\\|')} |`,
  );
  const table = ['| column | Athena type | since | meaning |', '|---|---|---|---|', ...rows].join('\n');
  return `${readme.slice(0, start + README_BEGIN.length)}\n${table}\n${readme.slice(end)}`;
}

async function main() {
  const check = process.argv.includes('--check');
  const columns = await loadColumns();
  const paths = {
    flow: `${root}schemas/flow-record.json`,
    emitted: `${root}schemas/emitted-record.json`,
    template: `${root}template.yaml`,
    readme: `${root}README.md`,
  };
  const current = Object.fromEntries(Object.entries(paths).map(([k, p]) => [k, readFileSync(p, 'utf8')]));
  const next = {
    ...schemas(columns, current),
    template: glueColumns(columns, current.template),
    readme: fieldReference(columns, current.readme),
  };
  const stale = Object.keys(paths).filter((k) => next[k] !== current[k]);
  if (check) {
    if (stale.length > 0) {
      console.error(
        `out of date with src/columns.ts: ${stale.map((k) => paths[k].slice(root.length)).join(', ')}`,
      );
      console.error('run `npm run columns`');
      process.exit(1);
    }
    return;
  }
  for (const k of stale) writeFileSync(paths[k], next[k]);
  console.log(
    stale.length > 0 ? `wrote ${stale.map((k) => paths[k].slice(root.length)).join(', ')}` : 'up to date',
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
