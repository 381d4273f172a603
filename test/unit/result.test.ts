import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { jsonStringLength } from '../../src/firehose/result.js';

describe('jsonStringLength', () => {
  it.each([
    ['49546986683135544286507457936321625675700192471156785154', 58],
    ['', 2],
    ['a"b', 6],
    ['a\\b', 6],
    ['tab\there', 11],
    ['é', 4],
    ['\u{1f600}', 6],
    ['\ud800', 8],
  ])('%j is %d bytes of JSON', (value, expected) => {
    expect(jsonStringLength(value)).toBe(expected);
    expect(jsonStringLength(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
  });

  test.prop([fc.string({ unit: 'binary' })])(
    'is the UTF-8 length of JSON.stringify for any string',
    (value) => {
      expect(jsonStringLength(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
    },
  );
});
