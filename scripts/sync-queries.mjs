// Writes the Athena named queries of template.yaml from queries/*.sql (the single source of the SQL).
// Usage: node scripts/sync-queries.mjs [--check]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = `${root}template.yaml`;
  const current = readFileSync(path, 'utf8');
  const next = syncedTemplate(current);
  if (process.argv.includes('--check')) {
    if (current !== next) {
      console.error('template.yaml named queries are stale: run npm run queries');
      process.exit(1);
    }
  } else writeFileSync(path, next);
}
