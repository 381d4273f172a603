import { LRUCache } from 'lru-cache';
import { countError } from '../telemetry.js';
import type { LookupOptions } from './ports.js';

/** A cached answer: the value, or `null` for "does not exist" (negative entry, shorter TTL). */
interface Slot<V> {
  readonly value: V | null;
}

export type Answer<V> = V | null | 'unavailable';

export interface BatchCacheOptions {
  readonly max: number;
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  /** Injectable clock (epoch ms) so tests can move time. */
  readonly now?: () => number;
}

export interface BatchStats {
  hits: number;
  misses: number;
  calls: number;
  /** Lookups this caller waited on that failed, or had not answered by its deadline. */
  errors: number;
  ms: number;
  /** The same failures by error name (`ThrottlingException`, `TimeoutError` …). */
  errorNames: Record<string, number>;
}

/** What a `load` is given besides the keys. */
export type LoadOptions = LookupOptions;

/** One call of `load`, shared by every caller that needs its keys until it settles or is abandoned. */
interface Lookup<V> {
  readonly keys: readonly string[];
  readonly started: number;
  /** Its own deadline: that of the caller that started it. */
  readonly deadline: number;
  /** Gives it up now (no-op once it has ended). */
  readonly abandon: () => void;
  /** Set once: the answer, the error, or (abandoned at its deadline) a timeout. */
  outcome: { readonly found: Map<string, V> } | { readonly error: unknown } | undefined;
  endedAt: number | undefined;
  readonly settled: Promise<void>;
  /** The latest failed attempt while it runs (a throttled call being retried): names a timeout. */
  lastError: unknown;
}

/** Entries a cache has room for before it first grows. */
const INITIAL_CAPACITY = 1024;

const TIMED_OUT = Object.freeze(
  Object.assign(new Error('no answer before the deadline'), { name: 'TimeoutError' }),
);

/**
 * An LRU cache (max + TTL) in front of a lookup that answers many keys per call. Per `getMany`: the keys
 * it holds fresh are hits; every other key goes into one call of `load` (so a batch of 500 unknown
 * interfaces is one round, not 500 calls); keys another caller is already loading share that call
 * (concurrent misses coalesce); keys `load` does not return are cached as not found; when `load` fails
 * or misses the deadline, stale entries are served and the rest is `unavailable`, and the failure is
 * counted (by error name) for every caller it left without an answer.
 *
 * A call of `load` has its own deadline, that of the `getMany` that started it: past it, it is abandoned —
 * its `signal` aborts, so the adapter stops its requests — and the next caller loads again rather than
 * joining a request that may never answer. An answer a load still returns later is cached.
 */
export class BatchCache<V> {
  private cache: LRUCache<string, Slot<V>>;
  private readonly max: number;
  private readonly ttlMs: number;
  private readonly inflight = new Map<string, Lookup<V>>();
  private readonly negativeTtlMs: number;
  private readonly now: () => number;
  private changes = 0;

  constructor(options: BatchCacheOptions) {
    this.now = options.now ?? Date.now;
    this.negativeTtlMs = options.negativeTtlMs;
    this.max = options.max;
    this.ttlMs = options.ttlMs;
    // lru-cache allocates its arrays for `max` entries up front: five caches of 20,000 are ~3.5 MB of fresh
    // memory at cold start, most of it never used (an account has far fewer VPCs than interfaces). Start
    // small and grow as entries come.
    this.cache = this.createLru(Math.min(options.max, INITIAL_CAPACITY));
  }

  private createLru(max: number): LRUCache<string, Slot<V>> {
    const now = this.now;
    return new LRUCache<string, Slot<V>>({
      max,
      ttl: this.ttlMs,
      // Keep expired entries readable: they are the fallback when EC2 fails.
      allowStale: false,
      noDeleteOnStaleGet: true,
      perf: { now },
      // Read the clock on every check: lru-cache otherwise reuses a reading for 1 ms, which hides an
      // injected clock's moves and makes TTLs late.
      ttlResolution: 0,
    });
  }

  private store(key: string, slot: Slot<V>, ttl?: number): void {
    const cache = this.cache;
    if (cache.size >= cache.max && cache.max < this.max && !cache.has(key)) {
      // Full below the configured bound: four times the room, same entries, ages and recency order.
      const grown = this.createLru(Math.min(this.max, cache.max * 4));
      grown.load(cache.dump());
      this.cache = grown;
    }
    if (ttl === undefined) this.cache.set(key, slot);
    else this.cache.set(key, slot, { ttl });
  }

  async getMany(
    keys: readonly string[],
    load: (missing: string[], options: LoadOptions) => Promise<Map<string, V>>,
    deadline: number,
    stats: BatchStats,
  ): Promise<Map<string, Answer<V>>> {
    const out = new Map<string, Answer<V>>();
    const missing: string[] = [];
    // The lookups this caller waits on, with the keys it wants from each.
    const waiting = new Map<Lookup<V>, string[]>();
    for (const key of new Set(keys)) {
      const fresh = this.cache.get(key);
      if (fresh) {
        stats.hits++;
        out.set(key, fresh.value);
        continue;
      }
      stats.misses++;
      let pending = this.inflight.get(key);
      // Past its deadline (its timer not yet run): given up now, and this key loaded afresh.
      if (pending && this.now() >= pending.deadline) {
        pending.abandon();
        pending = undefined;
      }
      if (pending) {
        const wanted = waiting.get(pending);
        if (wanted) wanted.push(key);
        else waiting.set(pending, [key]);
      } else missing.push(key);
    }

    let started: Lookup<V> | undefined;
    if (missing.length > 0) {
      stats.calls++;
      started = this.start(missing, load, deadline);
      waiting.set(started, missing);
    }
    if (waiting.size === 0) return out;

    const lookups = [...waiting.keys()];
    if (lookups.some((lookup) => lookup.outcome === undefined)) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - this.now()));
      });
      await Promise.race([Promise.all(lookups.map((lookup) => lookup.settled)), expired]);
      clearTimeout(timer);
    }
    // This caller's deadline is the one of the lookup it started: give it up now rather than leave it to
    // its timer, which may run after the next caller has joined it.
    started?.abandon();
    if (started) stats.ms += (started.endedAt ?? this.now()) - started.started;
    for (const [lookup, wanted] of waiting) {
      const outcome = lookup.outcome;
      if (outcome && 'found' in outcome) {
        for (const key of wanted) out.set(key, outcome.found.get(key) ?? null);
        continue;
      }
      // Failed, abandoned, or not answered by this caller's deadline: one error, named after its cause.
      stats.errors++;
      countError(stats.errorNames, outcome ? outcome.error : (lookup.lastError ?? TIMED_OUT));
      for (const key of wanted) {
        // A stale answer beats none.
        const stale = this.cache.get(key, { allowStale: true });
        out.set(key, stale ? stale.value : 'unavailable');
      }
    }
    return out;
  }

  /** Starts one call of `load` for `keys`, shared until it settles or `deadline` passes. */
  private start(
    keys: string[],
    load: (missing: string[], options: LoadOptions) => Promise<Map<string, V>>,
    deadline: number,
  ): Lookup<V> {
    let settle!: () => void;
    const controller = new AbortController();
    const lookup: Lookup<V> = {
      keys,
      started: this.now(),
      deadline,
      abandon: () => {
        const error = lookup.lastError ?? TIMED_OUT;
        if (end({ error })) controller.abort(error);
      },
      outcome: undefined,
      endedAt: undefined,
      settled: new Promise<void>((resolve) => {
        settle = resolve;
      }),
      lastError: undefined,
    };
    const end = (outcome: NonNullable<Lookup<V>['outcome']>) => {
      if (lookup.outcome) return false;
      lookup.outcome = outcome;
      lookup.endedAt = this.now();
      clearTimeout(timer);
      for (const key of keys) if (this.inflight.get(key) === lookup) this.inflight.delete(key);
      settle();
      return true;
    };
    // Abandoned at its deadline; unref'd so an abandoned lookup never keeps a CLI process alive.
    const timer = setTimeout(lookup.abandon, Math.max(0, deadline - this.now()));
    timer.unref?.();
    for (const key of keys) this.inflight.set(key, lookup);
    const options: LoadOptions = {
      signal: controller.signal,
      onAttemptError: (error) => {
        lookup.lastError = error;
      },
    };
    new Promise<Map<string, V>>((resolve) => resolve(load(keys, options))).then(
      (found) => {
        this.changes++;
        for (const key of keys) {
          const value = found.get(key);
          if (value === undefined) this.store(key, { value: null }, this.negativeTtlMs);
          else this.store(key, { value });
        }
        end({ found });
      },
      (error: unknown) => {
        end({ error });
      },
    );
    return lookup;
  }

  /** Puts values in without a lookup (cold-start warm-up). */
  prime(entries: Iterable<readonly [string, V]>): void {
    this.changes++;
    for (const [key, value] of entries) this.store(key, { value });
  }

  get size(): number {
    return this.cache.size;
  }

  /**
   * Bumped whenever entries are added or replaced (which is also when the least recently used are
   * evicted): what was derived from the entries holds while it stays the same.
   */
  get generation(): number {
    return this.changes;
  }

  /** The clock time until which `key`'s entry stays fresh; -Infinity when it is absent or stale. */
  freshUntil(key: string): number {
    // The clock first: read again inside, it can only have moved on, so the answer is never too late.
    const time = this.now();
    const remaining = this.cache.getRemainingTTL(key);
    return remaining > 0 ? time + remaining : Number.NEGATIVE_INFINITY;
  }

  /** Marks `key`'s entry as just used, as a lookup would, for the least-recently-used order. */
  touch(key: string): void {
    this.cache.get(key);
  }
}
