import { LRUCache } from 'lru-cache';

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
  errors: number;
  ms: number;
}

/**
 * An LRU cache (max + TTL) in front of a lookup that answers many keys per call. Per `getMany`: the keys
 * it holds fresh are hits; every other key goes into one call of `load` (so a batch of 500 unknown
 * interfaces is one round, not 500 calls); keys another caller is already loading share that call
 * (concurrent misses coalesce); keys `load` does not return are cached as not found; when `load` fails
 * or misses the deadline, stale entries are served and the rest is `unavailable`.
 */
export class BatchCache<V> {
  private readonly cache: LRUCache<string, Slot<V>>;
  private readonly inflight = new Map<string, Promise<Slot<V> | undefined>>();
  private readonly negativeTtlMs: number;
  private readonly now: () => number;
  private changes = 0;

  constructor(options: BatchCacheOptions) {
    this.now = options.now ?? Date.now;
    this.negativeTtlMs = options.negativeTtlMs;
    const now = this.now;
    this.cache = new LRUCache<string, Slot<V>>({
      max: options.max,
      ttl: options.ttlMs,
      // Keep expired entries readable: they are the fallback when EC2 fails.
      allowStale: false,
      noDeleteOnStaleGet: true,
      perf: { now },
      // Read the clock on every check: lru-cache otherwise reuses a reading for 1 ms, which hides an
      // injected clock's moves and makes TTLs late.
      ttlResolution: 0,
    });
  }

  async getMany(
    keys: readonly string[],
    load: (missing: string[]) => Promise<Map<string, V>>,
    deadline: number,
    stats: BatchStats,
  ): Promise<Map<string, Answer<V>>> {
    const out = new Map<string, Answer<V>>();
    const missing: string[] = [];
    const waiting: [string, Promise<Slot<V> | undefined>][] = [];
    for (const key of new Set(keys)) {
      const fresh = this.cache.get(key);
      if (fresh) {
        stats.hits++;
        out.set(key, fresh.value);
        continue;
      }
      stats.misses++;
      const pending = this.inflight.get(key);
      if (pending) waiting.push([key, pending]);
      else missing.push(key);
    }

    if (missing.length > 0) {
      const started = this.now();
      stats.calls++;
      const call = load(missing).then(
        (found) => {
          stats.ms += this.now() - started;
          this.changes++;
          for (const key of missing) {
            const value = found.get(key);
            if (value === undefined) this.cache.set(key, { value: null }, { ttl: this.negativeTtlMs });
            else this.cache.set(key, { value });
          }
          return found;
        },
        (error: unknown) => {
          stats.ms += this.now() - started;
          stats.errors++;
          throw error;
        },
      );
      for (const key of missing) {
        const slot = call.then(
          (found) => {
            const value = found.get(key);
            return { value: value === undefined ? null : value };
          },
          () => undefined,
        );
        this.inflight.set(key, slot);
        void slot.finally(() => {
          if (this.inflight.get(key) === slot) this.inflight.delete(key);
        });
        waiting.push([key, slot]);
      }
    }

    if (waiting.length > 0) {
      const timeout = Math.max(0, deadline - this.now());
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), timeout);
      });
      const settled = await Promise.race([Promise.all(waiting.map(([, slot]) => slot)), expired]);
      clearTimeout(timer);
      waiting.forEach(([key], index) => {
        const slot = settled === 'expired' ? undefined : settled[index];
        if (slot) out.set(key, slot.value);
        else {
          // Failed or out of time: a stale answer beats none.
          const stale = this.cache.get(key, { allowStale: true });
          out.set(key, stale ? stale.value : 'unavailable');
        }
      });
    }
    return out;
  }

  /** Puts values in without a lookup (cold-start warm-up). */
  prime(entries: Iterable<readonly [string, V]>): void {
    this.changes++;
    for (const [key, value] of entries) this.cache.set(key, { value });
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
