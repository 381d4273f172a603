import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { type Answer, BatchCache, type BatchStats, type LoadOptions } from '../../src/enrich/batch-cache.js';
import { guard } from '../helpers/guard.js';

const TTL_MS = 10_000;
const NEGATIVE_TTL_MS = 1_000;
/** Far from 0 on purpose: lru-cache treats a start time of 0 as "no TTL". */
const T0 = 1_700_000_000_000;

type Load = (missing: string[], options?: LoadOptions) => Promise<Map<string, string>>;

/** The keys of each call of a load (its second argument is the lookup's options). */
function keysOf(load: { mock: { calls: [string[], ...unknown[]][] } }): string[][] {
  return load.mock.calls.map(([keys]) => keys);
}

function newStats(): BatchStats {
  return { hits: 0, misses: 0, calls: 0, errors: 0, ms: 0, errorNames: {} };
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
    expect(stats).toStrictEqual({ hits: 1, misses: 2, calls: 1, errors: 0, ms: 0, errorNames: {} });
    expect(keysOf(load)).toStrictEqual([['a'], ['b', 'c']]);
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
    expect(keysOf(load)).toStrictEqual([keys]);
    expect(answers.size).toBe(500);
    expect(answers.get('eni-499')).toBe('value-499');
    expect(stats).toStrictEqual({ hits: 0, misses: 500, calls: 1, errors: 0, ms: 0, errorNames: {} });
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
    expect(stats).toStrictEqual({ hits: 0, misses: 1, calls: 1, errors: 0, ms: 250, errorNames: {} });
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
    expect(withinNegativeTtl).toStrictEqual({
      hits: 2,
      misses: 0,
      calls: 0,
      errors: 0,
      ms: 0,
      errorNames: {},
    });
    expect(afterNegativeTtl).toStrictEqual({
      hits: 1,
      misses: 1,
      calls: 1,
      errors: 0,
      ms: 0,
      errorNames: {},
    });
    expect(keysOf(load)).toStrictEqual([['a', 'ghost'], ['ghost']]);
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
    expect(stats).toStrictEqual({ hits: 0, misses: 1, calls: 1, errors: 0, ms: 0, errorNames: {} });
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
    expect(keysOf(load)).toStrictEqual([['a', 'b']]);
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
    expect(firstStats).toStrictEqual({ hits: 0, misses: 2, calls: 1, errors: 0, ms: 0, errorNames: {} });
    expect(secondStats).toStrictEqual({ hits: 0, misses: 2, calls: 0, errors: 0, ms: 0, errorNames: {} });
    expect(thirdStats).toStrictEqual({ hits: 0, misses: 1, calls: 0, errors: 0, ms: 0, errorNames: {} });
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
    expect(keysOf(load)).toStrictEqual([['a', 'b'], ['c']]);
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
    expect(keysOf(failing)).toStrictEqual([['a', 'ghost', 'never-seen']]);
    expect(answers).toStrictEqual(
      new Map<string, Answer<string>>([
        ['a', 'A'],
        ['ghost', null],
        ['never-seen', 'unavailable'],
      ]),
    );
    expect(stats).toStrictEqual({
      hits: 0,
      misses: 3,
      calls: 1,
      errors: 1,
      ms: 0,
      errorNames: { RequestLimitExceeded: 1 },
    });
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
    expect(keysOf(load)).toStrictEqual([['a']]);
  });

  it('gives up at the deadline with unavailable, counts a TimeoutError, and keeps a late answer for the next call', async () => {
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
    // The budget running out is an error of the lookup (the Ec2Errors metric), named.
    expect(stats).toMatchObject({ misses: 1, calls: 1, errors: 1, errorNames: { TimeoutError: 1 } });
    await vi.waitFor(() => expect(finished).toBe(true));
    const later = newStats();
    const next = await cache.getMany(['a'], slow, now() + 10, later);
    expect(next).toStrictEqual(new Map([['a', 'late-a']]));
    expect(later).toStrictEqual({ hits: 1, misses: 0, calls: 0, errors: 0, ms: 0, errorNames: {} });
    expect(slow).toHaveBeenCalledTimes(1);
  });

  describe('a lookup that never answers (a hung EC2)', () => {
    const never = () => new Promise<Map<string, string>>(() => {});

    it('is abandoned at the deadline of the caller that started it: the next caller loads again', async () => {
      // Prepare: the first load hangs; the deadline is 20 ms away.
      const { cache, load, now } = setup();
      const hung = vi.fn<Load>(never);
      const firstStats = newStats();
      const first = await cache.getMany(['a'], hung, now() + 20, firstStats);
      const secondStats = newStats();

      // Act
      const second = await guard(1_000, cache.getMany(['a'], load, now() + 5_000, secondStats));

      // Assess
      expect(first).toStrictEqual(new Map([['a', 'unavailable']]));
      expect(firstStats).toMatchObject({ calls: 1, errors: 1, errorNames: { TimeoutError: 1 } });
      expect(second).toStrictEqual(new Map([['a', 'A']]));
      expect(secondStats).toStrictEqual({ hits: 0, misses: 1, calls: 1, errors: 0, ms: 0, errorNames: {} });
      expect(keysOf(hung)).toStrictEqual([['a']]);
      expect(keysOf(load)).toStrictEqual([['a']]);
    });

    it('holds a caller that joined it only until its own deadline, and counts the timeout for both', async () => {
      // Prepare: the first caller's deadline is 30 ms away; the second joins with 5 s to spare.
      const { cache, now } = setup();
      const hung = vi.fn<Load>(never);
      const firstStats = newStats();
      const secondStats = newStats();
      const started = performance.now();

      // Act
      const answers = await guard(
        1_000,
        Promise.all([
          cache.getMany(['a', 'b'], hung, now() + 30, firstStats),
          cache.getMany(['b'], hung, now() + 5_000, secondStats),
        ]),
      );

      // Assess
      expect(performance.now() - started).toBeLessThan(500);
      expect(answers).toStrictEqual([
        new Map([
          ['a', 'unavailable'],
          ['b', 'unavailable'],
        ]),
        new Map([['b', 'unavailable']]),
      ]);
      expect(hung).toHaveBeenCalledTimes(1);
      expect(firstStats).toMatchObject({ misses: 2, calls: 1, errors: 1, errorNames: { TimeoutError: 1 } });
      expect(secondStats).toStrictEqual({
        hits: 0,
        misses: 1,
        calls: 0,
        errors: 1,
        ms: 0,
        errorNames: { TimeoutError: 1 },
      });
    });

    it('is not joined once its deadline has passed, even before its timer has run', async () => {
      // Prepare: a hung lookup with a deadline 50 ms away; the clock then moves past it at once.
      const { cache, load, now, advance } = setup();
      const firstStats = newStats();
      const first = cache.getMany(['a'], never, now() + 50, firstStats);
      await advance(100);
      const secondStats = newStats();

      // Act
      const second = await cache.getMany(['a'], load, now() + 5_000, secondStats);

      // Assess
      expect(second).toStrictEqual(new Map([['a', 'A']]));
      expect(secondStats).toMatchObject({ misses: 1, calls: 1, errors: 0 });
      expect(await first).toStrictEqual(new Map([['a', 'unavailable']]));
      expect(firstStats).toMatchObject({ errors: 1, errorNames: { TimeoutError: 1 } });
    });

    it('tells the load it abandoned to stop (its signal aborts), and no load it did not', async () => {
      // Prepare
      const { cache, load, now } = setup();
      const signals: AbortSignal[] = [];
      const hung = vi.fn<Load>((_missing, options) => {
        if (options?.signal) signals.push(options.signal);
        return never();
      });
      const answered = vi.fn<Load>((missing, options) => {
        if (options?.signal) signals.push(options.signal);
        return load(missing);
      });

      // Act
      await cache.getMany(['a'], hung, now() + 20, newStats());
      await cache.getMany(['b'], answered, now() + 5_000, newStats());

      // Assess
      expect(signals.map((signal) => signal.aborted)).toStrictEqual([true, false]);
      expect(signals[0]?.reason).toMatchObject({ name: 'TimeoutError' });
    });

    it('names the timeout after the failed attempts the load reported (throttling being retried)', async () => {
      // Prepare: the SDK is retrying a throttled call when the deadline comes.
      const { cache, now } = setup();
      const throttled = vi.fn<Load>((_missing, options) => {
        options?.onAttemptError?.(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
        return never();
      });
      const stats = newStats();

      // Act
      const answers = await cache.getMany(['a'], throttled, now() + 20, stats);

      // Assess
      expect(answers).toStrictEqual(new Map([['a', 'unavailable']]));
      expect(stats).toMatchObject({ errors: 1, errorNames: { ThrottlingException: 1 } });
    });
  });

  it('counts a failed lookup for every caller it left without an answer', async () => {
    // Prepare
    const { cache, deadline } = setup();
    const gate = deferred<Map<string, string>>();
    const load = vi.fn<Load>(() => gate.promise);
    const firstStats = newStats();
    const secondStats = newStats();

    // Act
    const first = cache.getMany(['a'], load, deadline(), firstStats);
    const second = cache.getMany(['a'], load, deadline(), secondStats);
    gate.reject(Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }));
    await Promise.all([first, second]);

    // Assess
    expect(load).toHaveBeenCalledTimes(1);
    expect(firstStats).toMatchObject({ calls: 1, errors: 1, errorNames: { RequestLimitExceeded: 1 } });
    expect(secondStats).toMatchObject({ calls: 0, errors: 1, errorNames: { RequestLimitExceeded: 1 } });
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
    expect(keysOf(slow)).toStrictEqual([['a', 'b']]);
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
    expect(stats).toStrictEqual({ hits: 1, misses: 1, calls: 1, errors: 0, ms: 0, errorNames: {} });
    expect(keysOf(load).at(-1)).toStrictEqual(['b']);
  });

  it('keeps every entry, its TTL and its recency as it grows past its first allocation, up to max', async () => {
    // Prepare: more keys than the cache first makes room for (1,024), fewer than max.
    const keys = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `k${from + i}`);
    const known = Object.fromEntries(keys(0, 2500).map((k) => [k, k.toUpperCase()]));
    const { cache, load, deadline, advance } = setup(known, 2000);
    await cache.getMany([...keys(0, 1500), 'gone'], load, deadline(), newStats());

    // Act 1: within the negative TTL everything is a hit; past it only the negative entry is looked up.
    const within = newStats();
    const answers = await cache.getMany([...keys(0, 1500), 'gone'], load, deadline(), within);
    await advance(NEGATIVE_TTL_MS + 1);
    const after = newStats();
    await cache.getMany([...keys(0, 1500), 'gone'], load, deadline(), after);

    // Assess 1
    expect(within).toMatchObject({ hits: 1501, misses: 0, calls: 0 });
    expect(answers.get('k1499')).toBe('K1499');
    expect(answers.get('gone')).toBeNull();
    expect(after).toMatchObject({ hits: 1500, misses: 1, calls: 1 });
    expect(keysOf(load).at(-1)).toStrictEqual(['gone']);

    // Act 2: k0…k499 used most recently, then 1,000 new keys push the cache past max.
    await cache.getMany(keys(0, 500), load, deadline(), newStats());
    await cache.getMany(keys(1500, 2500), load, deadline(), newStats());
    const evicted = newStats();
    await cache.getMany(keys(500, 1000), load, deadline(), evicted);

    // Assess 2: bounded by max; the least recently used (k500…, `gone`) went first, the recent stayed.
    expect(cache.size).toBe(2000);
    expect(evicted).toMatchObject({ hits: 0, misses: 500, calls: 1 });
    const kept = newStats();
    await cache.getMany(keys(0, 500), load, deadline(), kept);
    expect(kept).toMatchObject({ hits: 500, misses: 0, calls: 0 });
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
    expect(stats).toStrictEqual({ hits: 2, misses: 0, calls: 0, errors: 0, ms: 0, errorNames: {} });
  });
});
