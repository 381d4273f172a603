import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { type Answer, BatchCache, type BatchStats } from '../../src/enrich/batch-cache.js';

const TTL_MS = 10_000;
const NEGATIVE_TTL_MS = 1_000;
/** Far from 0 on purpose: lru-cache treats a start time of 0 as "no TTL". */
const T0 = 1_700_000_000_000;

type Load = (missing: string[]) => Promise<Map<string, string>>;

function newStats(): BatchStats {
  return { hits: 0, misses: 0, calls: 0, errors: 0, ms: 0 };
}

/** A cache on a hand-moved clock, and a `load` that knows the keys of `known` (and nothing else). */
function setup(known: Record<string, string> = { a: 'A', b: 'B', c: 'C' }, max = 100) {
  let now = T0;
  const cache = new BatchCache<string>({
    max,
    ttlMs: TTL_MS,
    negativeTtlMs: NEGATIVE_TTL_MS,
    now: () => now,
  });
  const load = vi.fn<Load>(async (missing) => {
    const found = new Map<string, string>();
    for (const key of missing) {
      const value = known[key];
      if (value !== undefined) found.set(key, value);
    }
    return found;
  });
  return {
    cache,
    load,
    now: () => now,
    /** A deadline comfortably in the future of the fake clock. */
    deadline: () => now + 5_000,
    /** Moves the injected clock (BatchCache sets `ttlResolution: 0`, so no real time needs to pass). */
    async advance(ms: number) {
      now += ms;
    },
  };
}

/** A promise with its resolve/reject handles, to hold a load open while other callers arrive. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('BatchCache', () => {
  it('counts fresh keys as hits and loads only the missing ones, duplicates once', async () => {
    // Prepare
    const { cache, load, deadline } = setup();
    await cache.getMany(['a'], load, deadline(), newStats());
    const stats = newStats();

    // Act
    const answers = await cache.getMany(['a', 'b', 'a', 'c', 'b'], load, deadline(), stats);

    // Assess
    expect(answers).toStrictEqual(
      new Map<string, Answer<string>>([
        ['a', 'A'],
        ['b', 'B'],
        ['c', 'C'],
      ]),
    );
    expect(stats).toStrictEqual({ hits: 1, misses: 2, calls: 1, errors: 0, ms: 0 });
    expect(load.mock.calls).toStrictEqual([[['a']], [['b', 'c']]]);
  });

  it('looks up many missing keys in one call of load', async () => {
    // Prepare
    const known = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`eni-${i}`, `value-${i}`]));
    const { cache, load, deadline } = setup(known, 1_000);
    const keys = Object.keys(known);
    const stats = newStats();

    // Act
    const answers = await cache.getMany(keys, load, deadline(), stats);

    // Assess
    expect(load).toHaveBeenCalledTimes(1);
    expect(load).toHaveBeenCalledWith(keys);
    expect(answers.size).toBe(500);
    expect(answers.get('eni-499')).toBe('value-499');
    expect(stats).toStrictEqual({ hits: 0, misses: 500, calls: 1, errors: 0, ms: 0 });
    expect(cache.size).toBe(500);
  });

  it('reports the time spent in load, on the injected clock', async () => {
    // Prepare
    let now = T0;
    const cache = new BatchCache<string>({
      max: 10,
      ttlMs: TTL_MS,
      negativeTtlMs: NEGATIVE_TTL_MS,
      now: () => now,
    });
    const stats = newStats();
    const slowLoad: Load = async (missing) => {
      now += 250;
      return new Map(missing.map((key) => [key, key.toUpperCase()]));
    };

    // Act
    await cache.getMany(['x'], slowLoad, now + 5_000, stats);

    // Assess
    expect(stats).toStrictEqual({ hits: 0, misses: 1, calls: 1, errors: 0, ms: 250 });
  });

  it('caches keys load does not return as null, for the shorter negative TTL only', async () => {
    // Prepare: `a` exists, `ghost` does not.
    const { cache, load, deadline, advance } = setup({ a: 'A' });
    const first = await cache.getMany(['a', 'ghost'], load, deadline(), newStats());
    const withinNegativeTtl = newStats();
    const second = await cache.getMany(['a', 'ghost'], load, deadline(), withinNegativeTtl);

    // Act: past the negative TTL, well within the positive one.
    await advance(NEGATIVE_TTL_MS + 1);
    const afterNegativeTtl = newStats();
    const third = await cache.getMany(['a', 'ghost'], load, deadline(), afterNegativeTtl);

    // Assess
    const expected = new Map<string, Answer<string>>([
      ['a', 'A'],
      ['ghost', null],
    ]);
    expect(first).toStrictEqual(expected);
    expect(second).toStrictEqual(expected);
    expect(third).toStrictEqual(expected);
    expect(withinNegativeTtl).toStrictEqual({ hits: 2, misses: 0, calls: 0, errors: 0, ms: 0 });
    expect(afterNegativeTtl).toStrictEqual({ hits: 1, misses: 1, calls: 1, errors: 0, ms: 0 });
    expect(load.mock.calls).toStrictEqual([[['a', 'ghost']], [['ghost']]]);
  });

  it('looks a positive entry up again once its TTL has passed, and serves the new value', async () => {
    // Prepare
    const known: Record<string, string> = { a: 'A' };
    const { cache, load, deadline, advance } = setup(known);
    await cache.getMany(['a'], load, deadline(), newStats());
    known.a = 'A2';
    await advance(TTL_MS - 10);
    const beforeExpiry = await cache.getMany(['a'], load, deadline(), newStats());

    // Act
    await advance(20);
    const stats = newStats();
    const afterExpiry = await cache.getMany(['a'], load, deadline(), stats);

    // Assess
    expect(beforeExpiry.get('a')).toBe('A');
    expect(afterExpiry.get('a')).toBe('A2');
    expect(stats).toStrictEqual({ hits: 0, misses: 1, calls: 1, errors: 0, ms: 0 });
    expect(load).toHaveBeenCalledTimes(2);
  });

  // lru-cache would keep a clock reading for 1 ms of real time unless `ttlResolution: 0`.
  it('honours a move of the injected clock at once', async () => {
    // Prepare
    let now = T0;
    const cache = new BatchCache<string>({
      max: 10,
      ttlMs: TTL_MS,
      negativeTtlMs: NEGATIVE_TTL_MS,
      now: () => now,
    });
    const load = vi.fn<Load>(async (missing) => new Map(missing.map((key) => [key, key])));
    await cache.getMany(['a'], load, now + 5_000, newStats());
    await cache.getMany(['a'], load, now + 5_000, newStats());

    // Act: no real time passes.
    now += TTL_MS + 1;
    await cache.getMany(['a'], load, now + 5_000, newStats());

    // Assess
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('coalesces concurrent misses of the same key into one load call', async () => {
    // Prepare
    const { cache, deadline } = setup();
    const gate = deferred<Map<string, string>>();
    const load = vi.fn<Load>(() => gate.promise);
    const firstStats = newStats();
    const secondStats = newStats();
    const thirdStats = newStats();

    // Act
    const first = cache.getMany(['a', 'b'], load, deadline(), firstStats);
    const second = cache.getMany(['a', 'b'], load, deadline(), secondStats);
    const third = cache.getMany(['b'], load, deadline(), thirdStats);
    gate.resolve(new Map([['a', 'A']]));
    const answers = await Promise.all([first, second, third]);

    // Assess
    expect(load).toHaveBeenCalledTimes(1);
    expect(load).toHaveBeenCalledWith(['a', 'b']);
    expect(answers).toStrictEqual([
      new Map<string, Answer<string>>([
        ['a', 'A'],
        ['b', null],
      ]),
      new Map<string, Answer<string>>([
        ['a', 'A'],
        ['b', null],
      ]),
      new Map<string, Answer<string>>([['b', null]]),
    ]);
    expect(firstStats).toStrictEqual({ hits: 0, misses: 2, calls: 1, errors: 0, ms: 0 });
    expect(secondStats).toStrictEqual({ hits: 0, misses: 2, calls: 0, errors: 0, ms: 0 });
    expect(thirdStats).toStrictEqual({ hits: 0, misses: 1, calls: 0, errors: 0, ms: 0 });
  });

  it('loads only the keys nobody is loading yet when a concurrent call overlaps', async () => {
    // Prepare
    const { cache, deadline } = setup();
    const gates = [deferred<Map<string, string>>(), deferred<Map<string, string>>()];
    let calls = 0;
    const load = vi.fn<Load>(() => gates[calls++]?.promise ?? Promise.reject(new Error('unexpected call')));

    // Act
    const first = cache.getMany(['a', 'b'], load, deadline(), newStats());
    const second = cache.getMany(['b', 'c'], load, deadline(), newStats());
    gates[0]?.resolve(
      new Map([
        ['a', 'A'],
        ['b', 'B'],
      ]),
    );
    gates[1]?.resolve(new Map([['c', 'C']]));
    const answers = await Promise.all([first, second]);

    // Assess
    expect(load.mock.calls).toStrictEqual([[['a', 'b']], [['c']]]);
    expect(answers).toStrictEqual([
      new Map<string, Answer<string>>([
        ['a', 'A'],
        ['b', 'B'],
      ]),
      new Map<string, Answer<string>>([
        ['b', 'B'],
        ['c', 'C'],
      ]),
    ]);
  });

  it('serves stale entries when load rejects and reports never-seen keys unavailable', async () => {
    // Prepare: `a` found, `ghost` not found, then both expire.
    const { cache, load, deadline, advance } = setup({ a: 'A' });
    await cache.getMany(['a', 'ghost'], load, deadline(), newStats());
    await advance(TTL_MS + 1);
    const failing = vi.fn<Load>(async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' });
    });
    const stats = newStats();

    // Act
    const answers = await cache.getMany(['a', 'ghost', 'never-seen'], failing, deadline(), stats);

    // Assess
    expect(failing).toHaveBeenCalledExactlyOnceWith(['a', 'ghost', 'never-seen']);
    expect(answers).toStrictEqual(
      new Map<string, Answer<string>>([
        ['a', 'A'],
        ['ghost', null],
        ['never-seen', 'unavailable'],
      ]),
    );
    expect(stats).toStrictEqual({ hits: 0, misses: 3, calls: 1, errors: 1, ms: 0 });
  });

  it('does not cache a failure: the next call loads again', async () => {
    // Prepare
    const { cache, load, deadline } = setup();
    const failing = vi.fn<Load>(async () => {
      throw Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' });
    });
    const failed = await cache.getMany(['a'], failing, deadline(), newStats());

    // Act
    const retried = await cache.getMany(['a'], load, deadline(), newStats());

    // Assess
    expect(failed).toStrictEqual(new Map([['a', 'unavailable']]));
    expect(retried).toStrictEqual(new Map([['a', 'A']]));
    expect(load).toHaveBeenCalledExactlyOnceWith(['a']);
  });

  it('gives up at the deadline with unavailable, and keeps the late answer for the next call', async () => {
    // Prepare: load answers after 50 ms; the deadline is 10 ms away.
    const { cache, now } = setup();
    let finished = false;
    const slow = vi.fn<Load>(async (missing) => {
      await sleep(50);
      finished = true;
      return new Map(missing.map((key) => [key, `late-${key}`]));
    });
    const stats = newStats();

    // Act
    const answers = await cache.getMany(['a'], slow, now() + 10, stats);

    // Assess
    expect(answers).toStrictEqual(new Map([['a', 'unavailable']]));
    expect(finished).toBe(false);
    expect(stats).toMatchObject({ misses: 1, calls: 1, errors: 0 });
    await vi.waitFor(() => expect(finished).toBe(true));
    const later = newStats();
    const next = await cache.getMany(['a'], slow, now() + 10, later);
    expect(next).toStrictEqual(new Map([['a', 'late-a']]));
    expect(later).toStrictEqual({ hits: 1, misses: 0, calls: 0, errors: 0, ms: 0 });
    expect(slow).toHaveBeenCalledTimes(1);
  });

  it('serves a stale entry when the refresh misses the deadline', async () => {
    // Prepare
    const { cache, load, now, advance } = setup({ a: 'A' });
    await cache.getMany(['a'], load, now() + 5_000, newStats());
    await advance(TTL_MS + 1);
    const slow = vi.fn<Load>(async () => {
      await sleep(50);
      return new Map([['a', 'A2']]);
    });

    // Act
    const answers = await cache.getMany(['a', 'b'], slow, now() + 10, newStats());

    // Assess
    expect(answers).toStrictEqual(
      new Map<string, Answer<string>>([
        ['a', 'A'],
        ['b', 'unavailable'],
      ]),
    );
    expect(slow).toHaveBeenCalledExactlyOnceWith(['a', 'b']);
  });

  it('evicts the least recently used entry beyond max', async () => {
    // Prepare
    const { cache, load, deadline } = setup({ a: 'A', b: 'B', c: 'C' }, 2);
    await cache.getMany(['a', 'b'], load, deadline(), newStats());
    await cache.getMany(['a'], load, deadline(), newStats());

    // Act
    await cache.getMany(['c'], load, deadline(), newStats());
    const stats = newStats();
    await cache.getMany(['a', 'b'], load, deadline(), stats);

    // Assess: `b` was the least recently used.
    expect(cache.size).toBe(2);
    expect(stats).toStrictEqual({ hits: 1, misses: 1, calls: 1, errors: 0, ms: 0 });
    expect(load.mock.calls.at(-1)).toStrictEqual([['b']]);
  });

  it('answers primed entries without a load', async () => {
    // Prepare
    const { cache, load, deadline } = setup();
    cache.prime([
      ['x', 'X'],
      ['y', 'Y'],
    ]);
    const stats = newStats();

    // Act
    const answers = await cache.getMany(['x', 'y'], load, deadline(), stats);

    // Assess
    expect(answers).toStrictEqual(
      new Map([
        ['x', 'X'],
        ['y', 'Y'],
      ]),
    );
    expect(load).not.toHaveBeenCalled();
    expect(stats).toStrictEqual({ hits: 2, misses: 0, calls: 0, errors: 0, ms: 0 });
  });
});
