import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ByteWriter, putInt } from '../../src/bytes/byte-writer.js';

describe('putInt', () => {
  it.each([0, 9, 10, 99, 100, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 1_795_420_800, Number.MAX_SAFE_INTEGER])(
    'writes %d as its decimal digits',
    (value) => {
      const buffer = Buffer.alloc(32, 0x20);
      const end = putInt(buffer, 3, value);
      expect(buffer.toString('latin1', 3, end)).toBe(String(value));
      expect(buffer[end]).toBe(0x20);
    },
  );

  test.prop([fc.maxSafeNat()])('agrees with String() for every safe integer', (value) => {
    const buffer = Buffer.alloc(20);
    expect(buffer.toString('latin1', 0, putInt(buffer, 0, value))).toBe(String(value));
  });
});

describe('ByteWriter.json', () => {
  test.prop([fc.string({ unit: 'binary' })])('writes what JSON.stringify writes', (text) => {
    const out = new ByteWriter(4);
    out.json(text);
    expect(out.toString()).toBe(JSON.stringify(text));
  });
});
