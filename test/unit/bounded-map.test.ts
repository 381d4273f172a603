import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/bounded-map.js';

describe('BoundedMap', () => {
  it('keeps at most max entries, dropping the oldest first', () => {
    // Prepare
    const map = new BoundedMap<number, string>(3);

    // Act
    for (let i = 0; i < 5; i++) map.set(i, `v${i}`);

    // Assess
    expect(map.size).toBe(3);
    expect([0, 1, 2, 3, 4].map((i) => map.get(i))).toStrictEqual([undefined, undefined, 'v2', 'v3', 'v4']);
  });

  it('replaces a value in place without evicting another', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 3);
    expect([map.size, map.get('a'), map.get('b')]).toStrictEqual([2, 3, 2]);
  });

  it('makes a missing value once and keeps it', () => {
    const map = new BoundedMap<string, number>(2);
    let made = 0;
    const make = (key: string) => {
      made++;
      return key.length;
    };
    expect([map.getOrMake('abc', make), map.getOrMake('abc', make)]).toStrictEqual([3, 3]);
    expect(made).toBe(1);
  });

  it('refuses a bound below one', () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
  });
});
