/**
 * Address arithmetic shared by ip-ranges and peer-scope checks. IPv4 addresses become unsigned 32-bit
 * numbers; IPv6 addresses become bigints. Parsing is by hand, without regular expressions: it runs for
 * every address of every flow whose answer is not memoised yet.
 */

export type ParsedAddress = { readonly v: 4; readonly n: number } | { readonly v: 6; readonly n: bigint };

/** Dotted-quad to uint32, or -1. */
export function parseIPv4(text: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/** IPv6 (any notation, IPv4-mapped included) to a 128-bit bigint, or -1n. */
export function parseIPv6(text: string): bigint {
  const percent = text.indexOf('%');
  const address = percent === -1 ? text : text.slice(0, percent);
  const double = address.indexOf('::');
  if (double !== -1 && address.indexOf('::', double + 1) !== -1) return -1n;
  const head = double === -1 ? address : address.slice(0, double);
  const tail = double === -1 ? '' : address.slice(double + 2);
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups: number[] = [];
  const all = [...headGroups, ...tailGroups];
  const last = all[all.length - 1];
  let v4: number | undefined;
  if (last?.includes('.')) {
    v4 = parseIPv4(last);
    if (v4 < 0) return -1n;
    if (tailGroups.length > 0) tailGroups.pop();
    else headGroups.pop();
  }
  const total = headGroups.length + tailGroups.length + (v4 === undefined ? 0 : 2);
  if (double === -1 ? total !== 8 : total > 7) return -1n;
  const push = (group: string) => {
    if (group.length === 0 || group.length > 4) return false;
    const value = Number.parseInt(group, 16);
    if (!/^[0-9a-fA-F]+$/.test(group)) return false;
    groups.push(value);
    return true;
  };
  for (const group of headGroups) if (!push(group)) return -1n;
  for (let i = 0; i < 8 - total; i++) groups.push(0);
  for (const group of tailGroups) if (!push(group)) return -1n;
  if (v4 !== undefined) groups.push(Math.floor(v4 / 65536), v4 % 65536);
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

export function parseAddress(text: string): ParsedAddress | undefined {
  if (text.includes(':')) {
    const n = parseIPv6(text);
    return n < 0n ? undefined : { v: 6, n };
  }
  const n = parseIPv4(text);
  return n < 0 ? undefined : { v: 4, n };
}

export interface Cidr4 {
  readonly v: 4;
  readonly first: number;
  readonly last: number;
  readonly length: number;
}
export interface Cidr6 {
  readonly v: 6;
  readonly first: bigint;
  readonly last: bigint;
  readonly length: number;
}
export type Cidr = Cidr4 | Cidr6;

/** `10.0.0.0/8` or `2600:1f00::/24` to its first and last address; undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) return undefined;
  const suffix = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(suffix)) return undefined;
  const length = Number(suffix);
  const address = parseAddress(text.slice(0, slash));
  if (!address || !Number.isInteger(length) || length < 0) return undefined;
  if (address.v === 4) {
    if (length > 32) return undefined;
    const size = 2 ** (32 - length);
    const first = Math.floor(address.n / size) * size;
    return { v: 4, first, last: first + size - 1, length };
  }
  if (length > 128) return undefined;
  const hostBits = BigInt(128 - length);
  const first = (address.n >> hostBits) << hostBits;
  return { v: 6, first, last: first + (1n << hostBits) - 1n, length };
}

export function cidrContains(cidr: Cidr, address: ParsedAddress): boolean {
  if (cidr.v === 4) return address.v === 4 && address.n >= cidr.first && address.n <= cidr.last;
  return address.v === 6 && address.n >= cidr.first && address.n <= cidr.last;
}

/** RFC 1918, RFC 6598 (carrier-grade NAT, used inside AWS) and IPv6 unique local addresses (fc00::/7). */
export const INTERNAL_RANGES: readonly Cidr[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  'fc00::/7',
].map((text) => parseCidr(text) as Cidr);

export function isInternal(address: ParsedAddress, extra: readonly Cidr[] = []): boolean {
  for (const cidr of INTERNAL_RANGES) if (cidrContains(cidr, address)) return true;
  for (const cidr of extra) if (cidrContains(cidr, address)) return true;
  return false;
}
