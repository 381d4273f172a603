import { type Cidr, type ParsedAddress, parseCidr } from '../net/ip.js';

/**
 * The parts of AWS's ip-ranges.json this project reads (https://ip-ranges.amazonaws.com/ip-ranges.json,
 * documented at https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html).
 */
export interface IpRangesDocument {
  readonly syncToken?: string;
  readonly createDate?: string;
  readonly prefixes?: ReadonlyArray<{
    readonly ip_prefix: string;
    readonly service: string;
    readonly region?: string;
    readonly network_border_group?: string;
  }>;
  readonly ipv6_prefixes?: ReadonlyArray<{
    readonly ipv6_prefix: string;
    readonly service: string;
    readonly region?: string;
    readonly network_border_group?: string;
  }>;
}

/** What AWS says is behind an address: the winning prefix's service, region and network border group. */
export interface AwsPrefixMatch {
  /** `EC2`, `S3`, …; `AMAZON` only when no more specific service lists the address. */
  readonly service: string;
  /** `us-east-1`, … or `GLOBAL` (CloudFront, Route 53, Global Accelerator). */
  readonly region: string | undefined;
  /** `us-east-1`, `us-west-2-lax-1`, … (Local Zones and Wavelength have their own). */
  readonly networkBorderGroup: string | undefined;
}

/** `format` of the compact form; bump it when the encoding changes. */
export const COMPACT_IP_RANGES_FORMAT = 'flowlog-enrich/ip-ranges-compact@1';

/**
 * The compact form of an ip-ranges document, as `data/ip-ranges.json` holds it: the prefixes already
 * flattened into disjoint intervals covering the whole address space, each naming the winning
 * (service, region, network border group), so loading it is a base64 decode, not a parse of 2.6 MB of JSON
 * and a sort. Written by `npm run update-ip-ranges` (scripts/update-ip-ranges.mjs) with `compileIpRanges`.
 *
 * - `matches[k - 1]` is `[service, region, networkBorderGroup]` for match id `k` (`''` when the source had
 *   none); id 0 means "no AWS prefix".
 * - `ipv4.starts`: base64 of little-endian uint32, one per interval, strictly increasing, the first 0;
 *   interval `i` runs to `starts[i + 1] - 1` (the last to 255.255.255.255).
 * - `ipv6.starts`: the same with four uint32 words per start, most significant word first.
 * - `*.ids`: base64 of little-endian uint16, the match id of each interval.
 */
export interface CompactIpRanges {
  readonly format: string;
  readonly syncToken: string | null;
  readonly createDate: string | null;
  /** Prefix entries of the source document (one per prefix and service). */
  readonly prefixCount: { readonly ipv4: number; readonly ipv6: number };
  readonly matches: ReadonlyArray<ReadonlyArray<string>>;
  readonly ipv4: CompactFamily;
  readonly ipv6: CompactFamily;
}

interface CompactFamily {
  readonly intervals: number;
  readonly starts: string;
  readonly ids: string;
}

/** Loaded ip-ranges, built once per container. */
export interface ServiceIndex {
  /**
   * The AWS prefix behind an address. Among the prefixes that contain it a named service beats `AMAZON`
   * (which AWS lists beside nearly every other prefix, and around many of them); among named services the
   * longest prefix wins, then any service over the generic `EC2`, then the name. The answer is a shared,
   * frozen object: no allocation per lookup.
   * @example services.match(parseAddress('44.192.10.10')) // { service: 'EC2', region: 'us-east-1', networkBorderGroup: 'us-east-1' }
   */
  match(address: ParsedAddress): AwsPrefixMatch | undefined;
  /** `match(address)?.service`. */
  lookup(address: ParsedAddress): string | undefined;
  /** The source's `createDate` (`2026-08-22-15-17-05`, UTC), when it had one. */
  readonly createDate: string | undefined;
  readonly syncToken: string | undefined;
  /** Prefix entries of the source (IPv4 and IPv6, one per prefix and service). */
  readonly prefixCount: number;
  /** Whole days from `createDate` to `now` (ms since the epoch); undefined without a date. */
  ageDays(now: number): number | undefined;
}

/** Past this age (days since `createDate`) a cold start warns that the snapshot should be refreshed. */
export const IP_RANGES_MAX_AGE_DAYS = 60;

/**
 * Builds the index from AWS's document (compiled here: 0.1–0.6 s for the whole file, warm to cold) or from its
 * compact form (decoded: ~2 ms warm, ~7–25 ms in a fresh process; see scripts/bench-ip-ranges.mjs).
 * @throws Error when a compact form is malformed (its format, lengths, order or ids).
 */
export function createServiceIndex(source: IpRangesDocument | CompactIpRanges): ServiceIndex {
  const compact = isCompactIpRanges(source) ? source : compileIpRanges(source);
  const answers: (AwsPrefixMatch | undefined)[] = [undefined];
  for (const row of compact.matches) {
    const [service, region, networkBorderGroup] = row;
    if (row.length !== 3 || !service) throw new Error(`ip-ranges: bad match row ${JSON.stringify(row)}`);
    answers.push(
      Object.freeze({
        service,
        region: region || undefined,
        networkBorderGroup: networkBorderGroup || undefined,
      }),
    );
  }
  const v4 = decodeFamily(compact.ipv4, 1, answers.length, 'ipv4');
  const v6 = decodeFamily(compact.ipv6, 4, answers.length, 'ipv6');
  const createDate = compact.createDate ?? undefined;
  const created = createDate === undefined ? undefined : parseCreateDate(createDate);

  // Where the search for an IPv4 address starts and ends, by its first 16 bits: a few steps instead of 13.
  const v4From = bucketsBy16Bits(v4.starts);

  function match(address: ParsedAddress): AwsPrefixMatch | undefined {
    if (address.v === 4) {
      const bucket = address.n >>> 16;
      const at = findV4(v4.starts, address.n, v4From[bucket] as number, v4From[bucket + 1] as number);
      return answers[v4.ids[at] as number];
    }
    return answers[v6.ids[findV6(v6.starts, address.n)] as number];
  }

  return {
    match,
    lookup: (address) => match(address)?.service,
    createDate,
    syncToken: compact.syncToken ?? undefined,
    prefixCount: compact.prefixCount.ipv4 + compact.prefixCount.ipv6,
    ageDays: (now) => (created === undefined ? undefined : ipRangesAgeDays(created, now)),
  };
}

/** Whole days from a `createDate` (or its epoch ms) to `now`, never negative. */
export function ipRangesAgeDays(createDate: string | number, now: number): number {
  const created = typeof createDate === 'number' ? createDate : parseCreateDate(createDate);
  if (created === undefined)
    throw new Error(`ip-ranges: createDate ${JSON.stringify(createDate)} is not YYYY-MM-DD-hh-mm-ss`);
  return Math.max(0, Math.floor((now - created) / 86_400_000));
}

/** `2026-08-22-15-17-05` (AWS's format, UTC) to epoch ms; undefined when it is not that. */
export function parseCreateDate(text: string): number | undefined {
  const parts = text.split('-');
  if (parts.length !== 6 || parts.some((p) => p.length === 0 || !/^\d+$/.test(p))) return undefined;
  const [y, mo, d, h, mi, s] = parts.map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

export function isCompactIpRanges(value: unknown): value is CompactIpRanges {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { format?: unknown }).format === COMPACT_IP_RANGES_FORMAT
  );
}

/**
 * What is wrong with a parsed ip-ranges file, in words a user can act on, or undefined when it is AWS's
 * ip-ranges.json shape (or the compact form): `{ "prefixes": [{ "ip_prefix", "service", … }], … }`.
 *
 * @example ipRangesProblem({ name: 'flowlog-enrich' }) // 'not an AWS ip-ranges file (no prefixes array)'
 */
export function ipRangesProblem(value: unknown): string | undefined {
  if (isCompactIpRanges(value)) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `not an AWS ip-ranges file (${Array.isArray(value) ? 'an array' : typeof value}, not an object with a prefixes array)`;
  const document = value as Record<string, unknown>;
  if (document.prefixes === undefined && document.ipv6_prefixes === undefined)
    return 'not an AWS ip-ranges file (no prefixes array)';
  for (const [list, key] of [
    ['prefixes', 'ip_prefix'],
    ['ipv6_prefixes', 'ipv6_prefix'],
  ] as const) {
    const entries = document[list];
    if (entries === undefined) continue;
    if (!Array.isArray(entries)) return `${list} is not an array`;
    const bad = entries.findIndex(
      (entry) =>
        typeof (entry as Record<string, unknown> | null)?.[key] !== 'string' ||
        typeof (entry as Record<string, unknown>).service !== 'string',
    );
    if (bad !== -1) return `${list}[${bad}] has no ${key} and service strings`;
  }
  return undefined;
}

/** An ip-ranges document in AWS's format: a `prefixes` or `ipv6_prefixes` list (AWS's file has both). */
export function isIpRangesDocument(value: unknown): value is IpRangesDocument {
  if (typeof value !== 'object' || value === null || isCompactIpRanges(value)) return false;
  const document = value as { prefixes?: unknown; ipv6_prefixes?: unknown };
  const isList = (list: unknown) => list === undefined || Array.isArray(list);
  return (
    isList(document.prefixes) &&
    isList(document.ipv6_prefixes) &&
    (document.prefixes !== undefined || document.ipv6_prefixes !== undefined)
  );
}

const WORD = 0xffff_ffffn;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * For each 16-bit bucket b (and b = 65536), the last interval whose start is ≤ b · 2^16: an address of bucket b
 * lies in an interval between `from[b]` and `from[b + 1]`.
 */
function bucketsBy16Bits(starts: Uint32Array): Uint32Array {
  const from = new Uint32Array(65_537);
  // Interval i is the last to start at or before the buckets from ⌈start_i / 2^16⌉ up to the next
  // interval's; filled natively, as this runs at cold start before the JIT has warmed up.
  let bucket = 0;
  for (let i = 1; i <= starts.length; i++) {
    // The first bucket that interval i (or the end of the address space) starts at or before.
    const next = i < starts.length ? Math.floor(((starts[i] as number) + 65_535) / 65_536) : 65_536;
    if (next > bucket) {
      from.fill(i - 1, bucket, next);
      bucket = next;
    }
  }
  from[65_536] = starts.length - 1;
  return from;
}

/** Index of the last interval in [low, high] whose start is ≤ value (the one at `low` always is). */
function findV4(starts: Uint32Array, value: number, low: number, high: number): number {
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if ((starts[mid] as number) <= value) low = mid;
    else high = mid - 1;
  }
  return low;
}

/**
 * The same over four-word starts. The address's words are compared as numbers (a bigint per comparison
 * would allocate in the loop); the low 64 bits are needed only where a prefix is longer than /64.
 */
function findV6(starts: Uint32Array, value: bigint): number {
  const high64 = value >> 64n;
  const w0 = Number(high64 >> 32n);
  const w1 = Number(high64 & WORD);
  let w2 = -1;
  let w3 = -1;
  let low = 0;
  let high = starts.length / 4 - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    const at = mid * 4;
    // starts[mid] <= value, word by word.
    const a0 = starts[at] as number;
    const a1 = starts[at + 1] as number;
    let lessOrEqual: boolean;
    if (a0 !== w0) lessOrEqual = a0 < w0;
    else if (a1 !== w1) lessOrEqual = a1 < w1;
    else {
      if (w2 < 0) {
        const low64 = BigInt.asUintN(64, value);
        w2 = Number(low64 >> 32n);
        w3 = Number(low64 & WORD);
      }
      const a2 = starts[at + 2] as number;
      lessOrEqual = a2 !== w2 ? a2 < w2 : (starts[at + 3] as number) <= w3;
    }
    if (lessOrEqual) low = mid;
    else high = mid - 1;
  }
  return low;
}

interface Family {
  readonly starts: Uint32Array;
  readonly ids: Uint16Array;
}

function decodeFamily(family: CompactFamily, words: number, matchCount: number, name: string): Family {
  const fail = (why: string): never => {
    throw new Error(`ip-ranges: compact ${name} ${why}`);
  };
  const count = family.intervals;
  if (!Number.isInteger(count) || count < 1) fail(`interval count ${count} is not a positive integer`);
  const startBytes = Buffer.from(family.starts, 'base64');
  const idBytes = Buffer.from(family.ids, 'base64');
  if (startBytes.length !== count * words * 4)
    fail(`starts hold ${startBytes.length} bytes, not ${count * words * 4}`);
  if (idBytes.length !== count * 2) fail(`ids hold ${idBytes.length} bytes, not ${count * 2}`);
  const starts = new Uint32Array(count * words);
  const ids = new Uint16Array(count);
  if (LITTLE_ENDIAN) {
    // One native copy each (the bytes are little-endian, as the typed arrays of this machine).
    new Uint8Array(starts.buffer).set(startBytes);
    new Uint8Array(ids.buffer).set(idBytes);
  } else {
    for (let i = 0; i < starts.length; i++) starts[i] = startBytes.readUInt32LE(i * 4);
    for (let i = 0; i < count; i++) ids[i] = idBytes.readUInt16LE(i * 2);
  }
  // The search relies on these: checked once here rather than trusted.
  for (let i = 0; i < count; i++) {
    if ((ids[i] as number) >= matchCount) fail(`interval ${i} names match ${ids[i]} of ${matchCount - 1}`);
  }
  for (let w = 0; w < words; w++) if (starts[w] !== 0) fail('does not start at address 0');
  for (let i = 1; i < count; i++) {
    if (!isBefore(starts, (i - 1) * words, i * words, words))
      fail(`starts are not increasing at interval ${i}`);
  }
  return { starts, ids };
}

/** Whether the start at word `a` is below the one at word `b` (each `words` long, most significant first). */
function isBefore(starts: Uint32Array, a: number, b: number, words: number): boolean {
  for (let w = 0; w < words - 1; w++) {
    const x = starts[a + w] as number;
    const y = starts[b + w] as number;
    if (x !== y) return x < y;
  }
  return (starts[a + words - 1] as number) < (starts[b + words - 1] as number);
}

// ---------------------------------------------------------------------------------------------------------
// Compilation: document → compact form. Runs in `npm run update-ip-ranges`, and at cold start only for an
// https or file source in AWS's format.

interface Entry<N> {
  readonly first: N;
  readonly last: N;
  readonly length: number;
  readonly service: string;
  readonly region: string;
  readonly networkBorderGroup: string;
}

/**
 * Flattens the document's overlapping prefixes into disjoint intervals over the whole address space, each
 * naming the prefix that wins it (see `ServiceIndex.match`); adjacent intervals with the same answer merge.
 * Malformed prefixes and entries without a service are left out (the counts say how many were kept).
 */
export function compileIpRanges(document: IpRangesDocument): CompactIpRanges {
  const v4: Entry<number>[] = [];
  const v6: Entry<bigint>[] = [];
  for (const prefix of document.prefixes ?? []) addEntry(prefix.ip_prefix, prefix, v4, v6);
  for (const prefix of document.ipv6_prefixes ?? []) addEntry(prefix.ipv6_prefix, prefix, v4, v6);
  const flat4 = flatten(v4, 1, 2 ** 32);
  const flat6 = flatten(v6, 1n, 1n << 128n);
  // Match ids in sorted order of their rows, so that the output does not depend on the input's order.
  const rows = [
    ...new Set([...flat4.winners, ...flat6.winners].filter((w) => w !== undefined).map(rowKey)),
  ].sort();
  const idOf = new Map(rows.map((row, i) => [row, i + 1]));
  const ids = (winners: (Entry<unknown> | undefined)[]) =>
    winners.map((w) => (w === undefined ? 0 : (idOf.get(rowKey(w)) as number)));
  if (rows.length >= 0xffff) throw new Error(`ip-ranges: ${rows.length} distinct matches do not fit 16 bits`);
  return {
    format: COMPACT_IP_RANGES_FORMAT,
    syncToken: document.syncToken ?? null,
    createDate: document.createDate ?? null,
    prefixCount: { ipv4: v4.length, ipv6: v6.length },
    matches: rows.map((row) => row.split('\u0000')),
    ipv4: encodeFamily(flat4.starts, ids(flat4.winners), (n, out) => out.push(n)),
    ipv6: encodeFamily(flat6.starts, ids(flat6.winners), (n, out) =>
      out.push(Number(n >> 96n), Number((n >> 64n) & WORD), Number((n >> 32n) & WORD), Number(n & WORD)),
    ),
  };
}

function rowKey(entry: Entry<unknown>): string {
  return `${entry.service}\u0000${entry.region}\u0000${entry.networkBorderGroup}`;
}

function addEntry(
  text: string,
  prefix: { readonly service: string; readonly region?: string; readonly network_border_group?: string },
  v4: Entry<number>[],
  v6: Entry<bigint>[],
): void {
  const cidr: Cidr | undefined = typeof text === 'string' ? parseCidr(text) : undefined;
  if (!cidr || typeof prefix.service !== 'string' || prefix.service === '') return;
  const entry = {
    length: cidr.length,
    service: prefix.service.toUpperCase(),
    region: typeof prefix.region === 'string' ? prefix.region : '',
    networkBorderGroup: typeof prefix.network_border_group === 'string' ? prefix.network_border_group : '',
  };
  if (cidr.v === 4) v4.push({ ...entry, first: cidr.first, last: cidr.last });
  else v6.push({ ...entry, first: cidr.first, last: cidr.last });
}

/** Negative when `a` wins over `b`: a named service over AMAZON, the longer prefix, not EC2, then by name. */
function precedence(a: Entry<unknown>, b: Entry<unknown>): number {
  const amazon = Number(a.service === 'AMAZON') - Number(b.service === 'AMAZON');
  if (amazon !== 0) return amazon;
  if (a.length !== b.length) return b.length - a.length;
  const ec2 = Number(a.service === 'EC2') - Number(b.service === 'EC2');
  if (ec2 !== 0) return ec2;
  return (
    compareText(a.service, b.service) ||
    compareText(a.region, b.region) ||
    compareText(a.networkBorderGroup, b.networkBorderGroup)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareNumbers<N extends number | bigint>(a: N, b: N): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Disjoint intervals from address 0: `starts[i]` with `winners[i]` (undefined: no prefix). */
function flatten<N extends number | bigint>(
  entries: Entry<N>[],
  one: N,
  end: N,
): { starts: N[]; winners: (Entry<N> | undefined)[] } {
  // An array sorted and deduplicated, not a Set: V8 hashes a bigint by its lowest 64 bits, and IPv6
  // prefixes' are zero, so a Set of them degrades to a list (half a second for AWS's file).
  const points: N[] = [];
  for (const entry of entries) {
    points.push(entry.first);
    const after = add(entry.last, one);
    if (after < end) points.push(after);
  }
  points.sort(compareNumbers);
  const sorted = points.filter((point, i) => i === 0 || point !== points[i - 1]);
  const byFirst = [...entries].sort((a, b) => compareNumbers(a.first, b.first));
  const zero = add(one, negate(one));
  const starts: N[] = [zero];
  const winners: (Entry<N> | undefined)[] = [undefined];
  const active: Entry<N>[] = [];
  let next = 0;
  for (const point of sorted) {
    while (next < byFirst.length && (byFirst[next] as Entry<N>).first <= point)
      active.push(byFirst[next++] as Entry<N>);
    // Drop the prefixes that ended, in place (the active set is a handful of nested prefixes).
    let kept = 0;
    for (const entry of active) if (entry.last >= point) active[kept++] = entry;
    active.length = kept;
    let best: Entry<N> | undefined;
    for (const entry of active) if (best === undefined || precedence(entry, best) < 0) best = entry;
    const last = winners.length - 1;
    const previous = winners[last];
    if (previous === best || (previous && best && rowKey(previous) === rowKey(best))) continue;
    if (starts[last] === point) winners[last] = best;
    else {
      starts.push(point);
      winners.push(best);
    }
  }
  return { starts, winners };
}

function encodeFamily<N>(
  starts: readonly N[],
  ids: readonly number[],
  words: (n: N, out: number[]) => void,
): CompactFamily {
  const flat: number[] = [];
  for (const start of starts) words(start, flat);
  const startBytes = Buffer.alloc(flat.length * 4);
  for (let i = 0; i < flat.length; i++) startBytes.writeUInt32LE(flat[i] as number, i * 4);
  const idBytes = Buffer.alloc(ids.length * 2);
  for (let i = 0; i < ids.length; i++) idBytes.writeUInt16LE(ids[i] as number, i * 2);
  return { intervals: starts.length, starts: startBytes.toString('base64'), ids: idBytes.toString('base64') };
}

// number and bigint arithmetic through one generic path; both operands always have the same type.
function add<N extends number | bigint>(a: N, b: N): N {
  return ((a as unknown as number) + (b as unknown as number)) as unknown as N;
}

function negate<N extends number | bigint>(a: N): N {
  return -(a as unknown as number) as unknown as N;
}
