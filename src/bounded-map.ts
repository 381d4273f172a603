/**
 * A memo with a size bound: past `max` entries the oldest one goes (first in, first out). For values that
 * are cheap to make again and taken in bursts (formatted dates, sanitised keys, encoded members, address
 * facts), where an LRU's bookkeeping per hit would cost more than a miss. Caches of things fetched from
 * AWS use `lru-cache` (`BatchCache`): there a miss is a call.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new RangeError(`BoundedMap needs a max of at least 1, not ${max}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): this {
    if (!this.entries.has(key) && this.entries.size >= this.max) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
    this.entries.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** The value of `key`, made by `make` and kept when missing. */
  getOrMake(key: K, make: (key: K) => V): V {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = make(key);
      this.set(key, value);
    }
    return value;
  }
}
