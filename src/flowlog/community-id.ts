import * as crypto from 'node:crypto';
import type { Flow } from './parse.js';

/**
 * Community ID flow hashing, version 1, seed 0: the `1:<base64 SHA-1>` identifier that Zeek, Suricata,
 * Arkime, Elastic and others attach to a flow, so that a flow-log record can be joined to their records
 * of the same connection by string equality.
 *
 * Specification: https://github.com/corelight/community-id-spec (README.md; `baseline/` has the vectors
 * test/unit/community-id.test.ts checks). The hash input, in network byte order:
 *
 * | bytes | IPv4 | IPv6 |
 * |---|---|---|
 * | seed (u16) | 0–1 | 0–1 |
 * | first address | 2–5 | 2–17 |
 * | second address | 6–9 | 18–33 |
 * | protocol (u8), then one zero byte | 10–11 | 34–35 |
 * | first port, second port (u16 each; only TCP, UDP, SCTP, ICMP, ICMPv6) | 12–15 | 36–39 |
 *
 * The endpoints are ordered so that the numerically smaller address (then port) comes first, which gives
 * both directions of a connection one ID. ICMP and ICMPv6 carry a message type and code instead of ports:
 * a type with a counterpart (echo request and reply, router solicitation and advertisement, …) becomes
 * the port pair (type, counterpart) and is ordered like a port pair; any other type is one-way, hashed
 * as (type, code) and never reordered.
 *
 * **ICMP in VPC flow logs.** No flow-log field carries the ICMP type or code, and the ports of an ICMP
 * record are 0 (the ping records of https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html
 * read `203.0.113.12 172.31.16.139 0 0 1` and `172.31.16.139 203.0.113.12 0 0 1`). This module follows the specification and reads `srcport` as the
 * type and `dstport` as the code, the convention of the specification's baseline tables, so it gives
 * exactly what any Community ID implementation gives for the record's numbers. What that means:
 * - ICMP: type 0 (echo reply), code 0. The two records of one ping (request and reply) get different
 *   IDs, each hashed as an echo reply in its own direction; only the record whose source answered the
 *   ping carries the ID a packet monitor (Zeek, Suricata) gives that ping.
 * - ICMPv6 with ports 0 0: type 0 is unassigned and has no counterpart, so each record is hashed
 *   one-way, as written: the two directions differ and neither matches a packet monitor's ID.
 * TCP, UDP and SCTP records are unaffected.
 */

/** ICMP (RFC 792) types with a counterpart, as Zeek pairs them. */
const ICMP4_PAIRS: ReadonlyArray<readonly [number, number]> = [
  [8, 0], // echo request, echo reply
  [13, 14], // timestamp, timestamp reply
  [15, 16], // information request, information reply
  [10, 9], // router solicitation, router advertisement
  [17, 18], // address mask request, address mask reply
];

/** ICMPv6 (RFC 4443, 4861, 2710, 3775) types with a counterpart, as Zeek pairs them. */
const ICMP6_PAIRS: ReadonlyArray<readonly [number, number]> = [
  [128, 129], // echo request, echo reply
  [130, 131], // multicast listener query, report
  [133, 134], // router solicitation, advertisement
  [135, 136], // neighbor solicitation, advertisement
  [139, 140], // node information query, response ("who are you")
  [144, 145], // home agent address discovery request, reply
];

function counterparts(pairs: ReadonlyArray<readonly [number, number]>): Int16Array {
  const table = new Int16Array(256).fill(-1);
  for (const [a, b] of pairs) {
    table[a] = b;
    table[b] = a;
  }
  return table;
}

const ICMP4_COUNTERPART = counterparts(ICMP4_PAIRS);
const ICMP6_COUNTERPART = counterparts(ICMP6_PAIRS);

const ICMP = 1;
const TCP = 6;
const UDP = 17;
const ICMP6 = 58;
const SCTP = 132;

/** The protocols whose tuples include ports (the specification's five-tuple protocols). */
function hasPorts(protocol: number): boolean {
  return protocol === TCP || protocol === UDP || protocol === ICMP || protocol === ICMP6 || protocol === SCTP;
}

// One buffer for every call: the seed (0) stays in bytes 0–1; the rest is rewritten each time. The four
// views are the four possible input lengths, made once so that no call allocates one. (A Uint8Array, not
// a Buffer: Buffer overrides fill() with a call into C++.)
const input = new Uint8Array(40);
const V4_PORTS = input.subarray(0, 16);
const V4 = input.subarray(0, 12);
const V6_PORTS = input.subarray(0, 40);
const V6 = input.subarray(0, 36);
/** The same bytes as 32-bit words, for the memo. */
const words = new Int32Array(input.buffer, 0, 10);

// crypto.hash (Node ≥ 20.12, 21.7) hashes in one call without a Hash object; createHash is the fallback.
const sha1Base64: (data: Uint8Array) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha1', data, 'base64')
    : (data) => crypto.createHash('sha1').update(data).digest('base64');

/*
 * The last IDs computed, by their hash input (direct-mapped, 4,096 slots, ~200 KB). A connection's records
 * come close together in a batch and share one ID — its request and response directions, at each of its
 * interfaces — so most records find theirs here for ~10 ns instead of hashing again (~250 ns of SHA-1).
 * The whole input is compared, so a slot never answers for another tuple.
 */
const MEMO_BITS = 12;
const MEMO_SLOTS = 1 << MEMO_BITS;
const memoKeys = new Int32Array(MEMO_SLOTS * 10);
const memoWordCount = new Uint8Array(MEMO_SLOTS);
/** Each slot's full hash (16 KB, stays in cache): a slot held by another tuple is told apart without reading its key. */
const memoHashes = new Int32Array(MEMO_SLOTS);
const memoIds = new Array<string>(MEMO_SLOTS).fill('');

/** The hash part of the ID of the `count` words of input now in `input` (`view` holds the same bytes). */
function identify(view: Uint8Array, count: number): string {
  let h = count;
  for (let i = 0; i < count; i++) h = Math.imul(h ^ (words[i] as number), 0x9e3779b1);
  const slot = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> (32 - MEMO_BITS);
  const base = slot * 10;
  if (memoHashes[slot] === h && memoWordCount[slot] === count) {
    let i = 0;
    while (i < count && memoKeys[base + i] === words[i]) i++;
    if (i === count) return memoIds[slot] as string;
  }
  const id = sha1Base64(view);
  for (let i = 0; i < count; i++) memoKeys[base + i] = words[i] as number;
  memoWordCount[slot] = count;
  memoHashes[slot] = h;
  memoIds[slot] = id;
  return id;
}

/**
 * The Community ID (v1, seed 0) of a flow-log record's five-tuple, or undefined when it has none: an
 * address missing (`-` in the line, as in NODATA and SKIPDATA records) or not an IP address, the two of
 * different families, a protocol outside 0–255, or a port-carrying protocol without both ports.
 *
 * For ICMP (1) and ICMPv6 (58) `srcport` is read as the message type and `dstport` as the code; VPC flow
 * logs write 0 for both (see the module's comment for what that means). Other protocols without ports
 * (GRE, ESP, …) hash the addresses and protocol only, whatever their port fields hold.
 *
 * @example
 * // 2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
 * // (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html)
 * communityId('172.31.16.139', '172.31.16.21', 6, 20641, 22); // '1:78twGw5/iHs2/5/1899dIS6GfPc='
 */
export function communityId(
  srcaddr: string | null | undefined,
  dstaddr: string | null | undefined,
  protocol: number | null | undefined,
  srcport?: number | null,
  dstport?: number | null,
): string | undefined {
  const hash = communityHash(srcaddr, dstaddr, protocol, srcport, dstport);
  return hash === undefined ? undefined : `1:${hash}`;
}

/**
 * The hash (`communityHash`) of every flow of a batch, in one pass of its own: the hashing code and its
 * memo stay in the core's caches, where between the writes of each line they would not (measured on a
 * 4,608-line batch: hashing while writing cost 2.9 ms, this pass 1.8 ms).
 */
export function communityHashes(
  flows: readonly Flow[],
  hash: typeof communityHash = communityHash,
): (string | undefined)[] {
  const hashes = new Array<string | undefined>(flows.length);
  for (let i = 0; i < flows.length; i++) hashes[i] = flowCommunityHash(flows[i] as Flow, hash);
  return hashes;
}

/** One flow's hash (`communityHash`), from its addresses as logged (not `pkt-*`), protocol and ports. */
export function flowCommunityHash(
  flow: Flow,
  hash: typeof communityHash = communityHash,
): string | undefined {
  return hash(flow.srcaddr, flow.dstaddr, flow.protocol, flow.srcport, flow.dstport);
}

/**
 * The ID without its `1:` version prefix: the base64 SHA-1 as the hash made it, one flat string. The writer
 * puts the prefix in its constant key bytes: `1:` joined to it here would be a rope of two strings that
 * every byte read of it has to flatten first.
 */
export function communityHash(
  srcaddr: string | null | undefined,
  dstaddr: string | null | undefined,
  protocol: number | null | undefined,
  srcport?: number | null,
  dstport?: number | null,
): string | undefined {
  if (!srcaddr || !dstaddr || typeof protocol !== 'number') return undefined;
  if (!(protocol >= 0 && protocol <= 255 && (protocol | 0) === protocol)) return undefined;
  // IPv4 first: it is most flows, and a parse that meets a colon gives up at once.
  let size = 4;
  if (writeIPv4(srcaddr, 0, srcaddr.length, 2)) {
    if (!writeIPv4(dstaddr, 0, dstaddr.length, 6)) return undefined;
  } else {
    if (!writeIPv6(srcaddr, 2) || !writeIPv6(dstaddr, 18)) return undefined;
    size = 16;
  }
  const first = 2;
  const second = 2 + size;

  const ports = hasPorts(protocol);
  let sport = 0;
  let dport = 0;
  let oneWay = false;
  if (ports) {
    if (!isPort(srcport) || !isPort(dstport)) return undefined;
    sport = srcport;
    dport = dstport;
    if (protocol === ICMP || protocol === ICMP6) {
      const counterpart =
        sport < 256 ? (protocol === ICMP ? ICMP4_COUNTERPART : ICMP6_COUNTERPART)[sport] : -1;
      if (counterpart === undefined || counterpart < 0) oneWay = true;
      else dport = counterpart;
    }
  }

  // Order the endpoints: smaller address first; equal addresses, smaller port first.
  if (!oneWay) {
    let i = 0;
    while (i < size && input[first + i] === input[second + i]) i++;
    if (i < size ? (input[first + i] as number) > (input[second + i] as number) : sport > dport) {
      for (let k = 0; k < size; k++) {
        const byte = input[first + k] as number;
        input[first + k] = input[second + k] as number;
        input[second + k] = byte;
      }
      const port = sport;
      sport = dport;
      dport = port;
    }
  }

  const at = second + size;
  input[at] = protocol;
  input[at + 1] = 0;
  if (!ports) return size === 16 ? identify(V6, 9) : identify(V4, 3);
  input[at + 2] = sport >>> 8;
  input[at + 3] = sport & 0xff;
  input[at + 4] = dport >>> 8;
  input[at + 5] = dport & 0xff;
  return size === 16 ? identify(V6_PORTS, 10) : identify(V4_PORTS, 4);
}

function isPort(value: number | null | undefined): value is number {
  return typeof value === 'number' && value >= 0 && value <= 65535 && (value | 0) === value;
}

/** Writes the dotted quad `text[start, end)` as 4 bytes at `offset`; false when it is not one. */
function writeIPv4(text: string, start: number, end: number, offset: number): boolean {
  let octet = 0;
  let digits = 0;
  let at = offset;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || at === offset + 3) return false;
      input[at++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // No leading zeros (`010` is octal to some parsers): inet_pton, which other implementations use, refuses them.
      if (digits > 0 && octet === 0) return false;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return false;
    } else {
      return false;
    }
  }
  if (at !== offset + 3 || digits === 0) return false;
  input[at] = octet;
  return true;
}

/** Hex digit values by character code, -1 for the rest: one load instead of three range tests. */
const HEX = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX['0123456789abcdef'.charCodeAt(d)] = d;
  HEX['0123456789ABCDEF'.charCodeAt(d)] = d;
}

function hexDigit(c: number): number {
  return c < 128 ? (HEX[c] as number) : -1;
}

/**
 * Writes an IPv6 address in any RFC 4291 text form (`::` once, an IPv4 dotted quad as the last 32 bits,
 * either case) as 16 bytes at `offset`; false when it is not one. Groups are written as they are read;
 * the groups after `::` are then moved to the end and the gap zeroed.
 */
function writeIPv6(text: string, offset: number): boolean {
  const n = text.length;
  if (n < 2 || n > 45) return false;
  let i = 0;
  let pos = 0;
  let gap = -1;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const start = i;
    let value = 0;
    while (i < n && i - start < 5) {
      const digit = hexDigit(text.charCodeAt(i));
      if (digit < 0) break;
      value = value * 16 + digit;
      i++;
    }
    if (i < n && text.charCodeAt(i) === 46) {
      // The last 32 bits as a dotted quad (::ffff:192.0.2.1).
      if (pos > 12 || !writeIPv4(text, start, n, offset + pos)) return false;
      pos += 4;
      break;
    }
    const digits = i - start;
    if (digits === 0 || digits > 4 || pos === 16) return false;
    input[offset + pos] = value >>> 8;
    input[offset + pos + 1] = value & 0xff;
    pos += 2;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i === n) return false; // one trailing colon
    if (text.charCodeAt(i) === 58) {
      if (gap !== -1) return false;
      gap = pos;
      i++;
    }
  }
  if (gap === -1) return pos === 16;
  if (pos === 16) return false;
  const tail = pos - gap;
  // Right to left, as the groups after `::` move right over themselves.
  for (let k = 1; k <= tail; k++) input[offset + 16 - k] = input[offset + pos - k] as number;
  for (let k = offset + gap; k < offset + 16 - tail; k++) input[k] = 0;
  return true;
}
