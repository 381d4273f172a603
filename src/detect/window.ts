import type { Aggregate } from './rule.js';

/** What one key (a source, a destination) did in earlier batches. */
export interface Entry {
  readonly key: string;
  /** The latest time anything was added, epoch seconds: the entry expires a window after it. */
  last: number;
  /** Its share of the window's byte estimate. */
  bytes: number;
  /** `distinct`: value → the latest time it was seen. */
  readonly values: Map<number, number> | undefined;
  /** `count`: times of the most recent contributions; `sum`: [time, value] pairs, flattened. */
  times: number[];
}

/** One key of the batch being evaluated: what its flows add up to. */
export interface Tally {
  readonly key: string;
  earliest: number;
  /** `distinct`: the first value, and the set once there are two. */
  first: number;
  values: Set<number> | undefined;
  /** `count` / `sum`. */
  total: number;
  crossed: boolean;
  /**
   * Its entry in the window as `crosses` found it (undefined: none yet) or a commit made it, valid while
   * the window's `generation` is the one recorded (-1 once a commit is over): one lookup per key, not one
   * per step.
   */
  entry: Entry | undefined;
  generation: number;
  /** Whether the commit under way has added to it already. */
  touched: boolean;
}

// Rough V8 sizes, for the byte bound: a map entry with its key, a value in a Map, a number in an array.
const ENTRY_BYTES = 160;
const MAP_VALUE_BYTES = 48;
const NUMBER_BYTES = 8;
/** A `sum` entry merges its older half once it holds this many transfers. */
const MAX_TRANSFERS = 256;

export interface WindowLimits {
  readonly windowSeconds: number;
  readonly maxKeys: number;
  readonly maxBytes: number;
}

/**
 * The sliding window one windowed rule keeps in this container's memory: per key, what earlier batches
 * contributed. Bounded three ways: keys (`maxKeys`), an estimate of its bytes (`maxBytes`), and time
 * (an entry nothing was added to for a window is gone). Entries are kept in the order they were last
 * updated, so the least recently active go first.
 */
export class KeyedWindow {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  /** Counts evictions: an entry looked up at one generation is still in the window at the same one. */
  private generation = 0;
  private newest = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly aggregate: Aggregate,
    private readonly threshold: number,
    private readonly limits: WindowLimits,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get estimatedBytes(): number {
    return this.bytes;
  }

  /** Whether the batch's total for this key plus the window's reaches the threshold. */
  crosses(tally: Tally): boolean {
    const threshold = this.threshold;
    const entry = this.entries.get(tally.key);
    tally.entry = entry;
    tally.generation = this.generation;
    const since = tally.earliest - this.limits.windowSeconds;
    if (this.aggregate === 'distinct') {
      const distinct = tally.values ? tally.values.size : 1;
      if (distinct >= threshold) return true;
      if (!entry?.values || distinct + entry.values.size < threshold) return false;
      const all = new Set(tally.values ?? [tally.first]);
      entry.values.forEach((time, value) => {
        if (time >= since) all.add(value);
      });
      return all.size >= threshold;
    }
    let total = tally.total;
    if (total >= threshold) return true;
    if (!entry) return false;
    const times = entry.times;
    if (this.aggregate === 'count') {
      for (let i = 0; i < times.length; i++) if ((times[i] as number) >= since) total++;
    } else {
      for (let i = 0; i < times.length; i += 2)
        if ((times[i] as number) >= since) total += times[i + 1] as number;
    }
    return total >= threshold;
  }

  /** The tally's key's entry, made (empty) when it has none; the one `crosses` found while still valid. */
  entryOf(tally: Tally, time: number): Entry {
    const key = tally.key;
    if (tally.entry !== undefined && tally.generation === this.generation) return tally.entry;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = {
        key,
        last: time,
        bytes: ENTRY_BYTES + 2 * key.length,
        values: this.aggregate === 'distinct' ? new Map() : undefined,
        times: [],
      };
      this.entries.set(key, entry);
      this.bytes += entry.bytes;
    }
    return entry;
  }

  /** Adds one flow's contribution to an entry of this window (`entryOf`), until the next `settle`. */
  addTo(entry: Entry, time: number, value: number): Entry {
    if (this.aggregate === 'distinct') {
      const values = entry.values as Map<number, number>;
      // Each value keeps the latest time it was seen: a late record of an earlier flow does not shorten
      // its stay. Only the `threshold` values seen latest can decide (one seen before them leaves any
      // window before they do): once twice as many are kept, the others go, in one sort instead of a
      // scan for the oldest at every new value.
      const previous = values.get(value);
      // A value seen at this time or later already: nothing changes (and the entry's `last` is no earlier).
      if (previous !== undefined && time <= previous) return entry;
      if (previous !== undefined) values.delete(value);
      values.set(value, time);
      if (values.size > 2 * this.threshold) keepLatestValues(values, this.threshold);
      this.resize(entry, MAP_VALUE_BYTES * values.size);
    } else if (this.aggregate === 'count') {
      entry.times.push(time);
      // The most recent `threshold` times decide as well as all of them; trim when doubled (amortised O(1)).
      if (entry.times.length > 2 * this.threshold) entry.times = keepLatest(entry.times, this.threshold);
      this.resize(entry, NUMBER_BYTES * entry.times.length);
    } else if (value > 0) {
      entry.times.push(time, value);
      if (entry.times.length > 2 * MAX_TRANSFERS) entry.times = mergeOlderHalf(entry.times);
      this.resize(entry, NUMBER_BYTES * entry.times.length);
    }
    if (time > entry.last) entry.last = time;
    if (time > this.newest) this.newest = time;
    return entry;
  }

  /** Sets an entry's share of the byte estimate from what it now holds. */
  private resize(entry: Entry, contents: number): void {
    const bytes = ENTRY_BYTES + 2 * entry.key.length + contents;
    this.bytes += bytes - entry.bytes;
    entry.bytes = bytes;
  }

  /**
   * Moves the entries a commit updated (`entryOf` in this same synchronous commit, so all still in the
   * window) behind the others, then enforces the bounds.
   */
  settle(updated: readonly Entry[]): void {
    for (const entry of updated) {
      this.entries.delete(entry.key);
      this.entries.set(entry.key, entry);
    }
    const expired = this.newest - this.limits.windowSeconds;
    for (const [key, entry] of this.entries) {
      const over = this.entries.size > this.limits.maxKeys || this.bytes > this.limits.maxBytes;
      if (!over && entry.last >= expired) break;
      this.entries.delete(key);
      this.generation++;
      this.bytes -= entry.bytes;
    }
  }
}

/**
 * Keeps the `cap` values seen latest; of those seen at the cut-off time, the ones first in the map's order
 * go first.
 */
function keepLatestValues(values: Map<number, number>, cap: number): void {
  const times = new Float64Array(values.size);
  let n = 0;
  for (const time of values.values()) times[n++] = time;
  times.sort();
  const cutoff = times[n - cap] as number;
  // Of the values seen at the cut-off time, as many stay as the cap leaves room for.
  let tiesToDrop = 0;
  for (let k = n - cap - 1; k >= 0 && times[k] === cutoff; k--) tiesToDrop++;
  for (const [value, time] of values) {
    if (time < cutoff) values.delete(value);
    else if (time === cutoff && tiesToDrop > 0) {
      values.delete(value);
      tiesToDrop--;
    }
  }
}

function keepLatest(times: number[], cap: number): number[] {
  // A typed array sorts numbers natively, without a comparator call per comparison.
  const sorted = Float64Array.from(times).sort();
  return Array.from(sorted.subarray(sorted.length - cap));
}

/** Bounds a `sum` entry: its older half collapses into one transfer at that half's latest time. */
function mergeOlderHalf(pairs: number[]): number[] {
  const half = (pairs.length >> 2) << 1;
  let total = 0;
  let time = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < half; i += 2) {
    if ((pairs[i] as number) > time) time = pairs[i] as number;
    total += pairs[i + 1] as number;
  }
  return [time, total, ...pairs.slice(half)];
}
