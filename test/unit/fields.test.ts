import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateValidators } from '../../scripts/build-validators.mjs';
import { FIELDS } from '../../src/flowlog/fields.js';

const schema = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../schemas/${name}.json`, import.meta.url), 'utf8')) as {
    properties: Record<string, { type?: string | string[]; enum?: unknown[] }>;
  };

const typeOf = (property: { type?: string | string[]; enum?: unknown[] }) => {
  const types = property.type ? [property.type].flat() : [...new Set(property.enum?.map((v) => typeof v))];
  return types.filter((t) => t !== 'null' && t !== 'object').join();
};

describe('schemas/ and the field table', () => {
  const flow = schema('flow-record');
  const emitted = schema('emitted-record');

  it('describes exactly the fields of the table', () => {
    expect(Object.keys(flow.properties).sort()).toStrictEqual([...FIELDS.values()].map((f) => f.key).sort());
  });

  it.each([...FIELDS.values()])('agrees on the type of $name', (field) => {
    const expected = field.kind === 'int' ? 'integer' : 'string';
    expect(typeOf(flow.properties[field.key] ?? {})).toBe(expected);
    expect(typeOf(emitted.properties[field.key] ?? {})).toBe(expected);
  });

  it('lists as added columns exactly the emitted columns that are not flow-log fields', async () => {
    const { ADDED_KEYS } = await import('../../src/flowlog/fields.js');
    const flowKeys = new Set([...FIELDS.values()].map((f) => f.key));
    expect([...ADDED_KEYS].sort()).toStrictEqual(
      Object.keys(emitted.properties)
        .filter((k) => !flowKeys.has(k))
        .sort(),
    );
  });

  it('has committed validators generated from the current schemas', () => {
    for (const [file, code] of Object.entries(generateValidators())) {
      expect(readFileSync(file, 'utf8'), `${file} is stale: run npm run schemas`).toBe(code);
    }
  });
});
