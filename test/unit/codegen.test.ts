import { describe, expect, it } from 'vitest';
import { generatedFor } from '../../scripts/print-generated.mjs';
import { assertSafeKey } from '../../src/codegen.js';
import { ALL_FIELDS_FORMAT } from '../../src/flowlog/fields.js';

describe('generated code', () => {
  it('can be printed for a format: the byte reader, the line scanner and the field writer, each named, and the rule dispatch', async () => {
    // Act
    const generated = await generatedFor(ALL_FIELDS_FORMAT);

    // Assess
    const names = generated.map((g) => g.name.replace(/-\d+(-fields-[0-9a-f]+)?$/, '')).sort();
    expect(names).toStrictEqual([
      'byte-reader',
      'field-writer',
      'flow-rules',
      'line-scanner',
      'window-rules',
    ]);
    for (const { name, source } of generated) {
      expect(source.endsWith(`//# sourceURL=flowlog-enrich/generated/${name}.js`)).toBe(true);
    }
    const reader = generated.find((g) => g.name.startsWith('byte-reader'))?.source ?? '';
    expect(reader).toContain('// 3: srcaddr (plain text)');
    expect(reader).toContain('// 5: srcport (integer)');
    // One call site per rule, each with its bit: a rule needing `action` is asked only when there is one.
    const rules = generated.find((g) => g.name.startsWith('flow-rules'))?.source ?? '';
    expect(rules).toContain('if (hasAction && t0(facts)) bits |= 2;');
  });

  it.each(['src"addr', 'a b', 'x);process.exit(1);//', 'Upper'])('refuses to embed the key %j', (key) => {
    expect(() => assertSafeKey(key)).toThrow(/refusing to generate code/);
  });
});
