import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/flowlog/parse.js';
import { partitionKeys, sanitizeKey } from '../../src/output/partition.js';

describe('sanitizeKey', () => {
  it.each([
    { value: '123456789012', expected: '123456789012' },
    { value: 'us-east-1', expected: 'us-east-1' },
    { value: '../../etc/passwd', expected: '_.__._etc_passwd' },
    { value: 'a/b', expected: 'a_b' },
    { value: '..', expected: '_.' },
    { value: '', expected: 'unknown' },
    { value: 'é$ ', expected: '___' },
  ])('$value → $expected', ({ value, expected }) => {
    const key = sanitizeKey(value);
    expect(key).toBe(expected);
    expect(key).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(key).not.toContain('..');
  });
});

describe('partitionKeys', () => {
  it('uses the flow start in UTC', () => {
    const flow = { account_id: '123456789012', region: 'eu-west-1', start: 1_700_000_000 } as Flow;
    expect(partitionKeys(flow, 'us-east-1', 0)).toStrictEqual({
      account_id: '123456789012',
      region: 'eu-west-1',
      dt: '2023-11-14',
      hour: '22',
    });
  });

  it('falls back to the event region and the arrival time', () => {
    const flow = { account_id: null, start: null } as Flow;
    expect(partitionKeys(flow, 'ap-south-1', Date.UTC(2024, 1, 29, 5))).toStrictEqual({
      account_id: 'unknown',
      region: 'ap-south-1',
      dt: '2024-02-29',
      hour: '05',
    });
  });

  it('does not throw for a start beyond the dates JavaScript can represent', () => {
    const flow = { start: 9_000_000_000_000_000 } as Flow;
    expect(partitionKeys(flow, 'us-east-1', Date.UTC(2024, 0, 1)).dt).toBe('2024-01-01');
  });
});
