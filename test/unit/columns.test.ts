import { readFileSync } from 'node:fs';
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { fieldReference, glueColumns, loadColumns, schemas } from '../../scripts/sync-columns.mjs';
import { COLUMNS, type Column, isPlain } from '../../src/columns.js';
import { FIELDS } from '../../src/flowlog/fields.js';
import { columnTypes } from '../../src/local/duckdb.js';

// The column table is the single source of every emitted column: these tests fail when a file made from
// it (schemas, Glue columns, README) differs, or when a column marked "copied unescaped" could ever need
// escaping.

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('files generated from the column table', () => {
  it('match it: schemas, the Glue table, the README field reference (npm run columns)', async () => {
    // Prepare
    const columns = await loadColumns();
    const current = { flow: read('schemas/flow-record.json'), emitted: read('schemas/emitted-record.json') };

    // Act
    const generated = schemas(columns, current);

    // Assess
    expect(generated).toStrictEqual(current);
    expect(glueColumns(columns, read('template.yaml'))).toBe(read('template.yaml'));
    expect(fieldReference(columns, read('README.md'))).toBe(read('README.md'));
  });

  it('gives the reader its field table: every flow-log column, with safe kinds where values need no escape', () => {
    const flowLog = COLUMNS.filter((c) => c.awsName !== undefined);
    expect([...FIELDS.values()].map((f) => [f.name, f.key, f.glue])).toStrictEqual(
      flowLog.map((c) => [c.awsName, c.name, c.glue]),
    );
    for (const field of FIELDS.values()) {
      const column = COLUMNS.find((c) => c.name === field.key) as Column;
      expect(field.kind === 'int' || field.kind === (column.unescaped ? 'safe' : 'text')).toBe(true);
    }
  });

  it("gives DuckDB the Glue table's types", () => {
    const glueToDuckDb: Record<Column['glue'], string> = {
      int: 'INTEGER',
      bigint: 'BIGINT',
      string: 'VARCHAR',
      'array<string>': 'VARCHAR[]',
      'map<string,string>': 'MAP(VARCHAR, VARCHAR)',
    };
    expect(columnTypes()).toStrictEqual(
      Object.fromEntries(COLUMNS.map((c) => [c.name, glueToDuckDb[c.glue]])),
    );
  });
});

describe('columns copied into JSON unescaped', () => {
  const plainText = COLUMNS.filter((c) => c.unescaped && c.schema.type === 'string' && c.schema.pattern);
  const plainEnums = COLUMNS.filter((c) => c.unescaped && c.schema.enum);

  it.each(plainText.map((c) => ({ name: c.name, pattern: c.schema.pattern as string })))(
    '$name: every value its pattern admits is written by JSON as it is',
    ({ pattern }) => {
      fc.assert(
        fc.property(fc.stringMatching(new RegExp(pattern)), (value) => {
          expect(JSON.stringify(value)).toBe(`"${value}"`);
        }),
        { numRuns: 300 },
      );
    },
  );

  it.each(plainEnums.map((c) => ({ name: c.name, values: c.schema.enum as readonly string[] })))(
    '$name: every value of its enum is written by JSON as it is',
    ({ values }) => {
      for (const value of values) expect(JSON.stringify(value)).toBe(`"${value}"`);
    },
  );

  fcTest.prop([fc.oneof(fc.ipV4(), fc.ipV6())])('IP addresses are written by JSON as they are', (address) => {
    expect(JSON.stringify(address)).toBe(`"${address}"`);
  });

  it.each([
    { name: 'a free-text string', schema: { type: 'string' } as const },
    { name: 'a pattern with a wildcard', schema: { type: 'string', pattern: '^a.b$' } as const },
    { name: 'a negated class', schema: { type: 'string', pattern: '^[^ ]+$' } as const },
    { name: 'an escape', schema: { type: 'string', pattern: '^\\w+$' } as const },
    { name: 'a quote in an enum', schema: { enum: ['a"b'] } },
  ])('is refused for $name', ({ schema }) => {
    expect(isPlain(schema)).toBe(false);
  });
});
