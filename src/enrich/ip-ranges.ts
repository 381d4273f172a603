import { type Cidr, type ParsedAddress, parseCidr } from './ip.js';

/** The parts of AWS's ip-ranges.json this project reads (https://ip-ranges.amazonaws.com/ip-ranges.json). */
export interface IpRangesDocument {
  readonly syncToken?: string;
  readonly createDate?: string;
  readonly prefixes?: ReadonlyArray<{
    readonly ip_prefix: string;
    readonly service: string;
    readonly region?: string;
  }>;
  readonly ipv6_prefixes?: ReadonlyArray<{
    readonly ipv6_prefix: string;
    readonly service: string;
    readonly region?: string;
  }>;
}

export interface ServiceIndex {
  /** The AWS service behind an address: the most specific prefix's service other than AMAZON, else AMAZON. */
  lookup(address: ParsedAddress): string | undefined;
  readonly createDate: string | undefined;
  readonly prefixCount: number;
}

/**
 * Builds the address → service index once per container. Overlapping prefixes (AMAZON covers most of the
 * others; services nest) are flattened at build time into disjoint, sorted intervals, so a lookup is one
 * binary search — a linear scan over ~8,000 prefixes per address is far too slow on the hot path.
 */
export function createServiceIndex(document: IpRangesDocument): ServiceIndex {
  const v4: Entry<number>[] = [];
  const v6: Entry<bigint>[] = [];
  for (const prefix of document.prefixes ?? []) addEntry(prefix.ip_prefix, prefix.service, v4, v6);
  for (const prefix of document.ipv6_prefixes ?? []) addEntry(prefix.ipv6_prefix, prefix.service, v4, v6);
  const index4 = flatten(v4, 1);
  const index6 = flatten(v6, 1n);
  return {
    createDate: document.createDate,
    prefixCount: v4.length + v6.length,
    lookup(address) {
      return address.v === 4 ? search(index4, address.n) : search(index6, address.n);
    },
  };
}

interface Entry<N> {
  readonly first: N;
  readonly last: N;
  readonly length: number;
  readonly service: string;
  /** Precedence among overlapping prefixes (see `rank`), computed once. */
  readonly rank: number;
}

function addEntry(text: string, service: string, v4: Entry<number>[], v6: Entry<bigint>[]): void {
  const cidr: Cidr | undefined = parseCidr(text);
  if (!cidr || typeof service !== 'string' || service === '') return;
  const name = service.toUpperCase();
  const entry = { length: cidr.length, service: name, rank: rank(name, cidr.length) };
  if (cidr.v === 4) v4.push({ ...entry, first: cidr.first, last: cidr.last });
  else v6.push({ ...entry, first: cidr.first, last: cidr.last });
}

/** Higher wins: any named service beats AMAZON, then the longer prefix, then anything but the generic EC2. */
function rank(service: string, length: number): number {
  return (service === 'AMAZON' ? 0 : 1000) + length * 2 + (service === 'EC2' ? 0 : 1);
}

interface Intervals<N> {
  readonly starts: N[];
  readonly ends: N[];
  readonly services: string[];
}

function flatten<N extends number | bigint>(entries: Entry<N>[], one: N): Intervals<N> {
  const boundaries = new Set<N>();
  for (const entry of entries) {
    boundaries.add(entry.first);
    boundaries.add(add(entry.last, one));
  }
  const points = [...boundaries].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const byStart = [...entries].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: Intervals<N> = { starts: [], ends: [], services: [] };
  const active: Entry<N>[] = [];
  let next = 0;
  for (let i = 0; i < points.length - 1; i++) {
    const start = points[i] as N;
    const end = add(points[i + 1] as N, negate(one));
    while (next < byStart.length && (byStart[next] as Entry<N>).first <= start)
      active.push(byStart[next++] as Entry<N>);
    // Drop the prefixes that ended, in place (the active set is a handful of nested prefixes).
    let kept = 0;
    for (const entry of active) if (entry.last >= start) active[kept++] = entry;
    active.length = kept;
    if (kept === 0) continue;
    let best = active[0] as Entry<N>;
    for (const entry of active) {
      if (entry.rank > best.rank || (entry.rank === best.rank && entry.service < best.service)) best = entry;
    }
    const last = out.services.length - 1;
    // Merge with the previous interval when it is adjacent and names the same service.
    if (last >= 0 && out.services[last] === best.service && add(out.ends[last] as N, one) === start) {
      out.ends[last] = end;
    } else {
      out.starts.push(start);
      out.ends.push(end);
      out.services.push(best.service);
    }
  }
  return out;
}

function search<N extends number | bigint>(index: Intervals<N>, value: N): string | undefined {
  let low = 0;
  let high = index.starts.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if ((index.starts[mid] as N) > value) high = mid - 1;
    else if ((index.ends[mid] as N) < value) low = mid + 1;
    else return index.services[mid];
  }
  return undefined;
}

// number and bigint arithmetic through one generic path; both operands always have the same type.
function add<N extends number | bigint>(a: N, b: N): N {
  return ((a as unknown as number) + (b as unknown as number)) as unknown as N;
}

function negate<N extends number | bigint>(a: N): N {
  return -(a as unknown as number) as unknown as N;
}
