/**
 * Who is on the other end of a flow: the AS number, the AS organisation and the country of a public
 * address, IPv4 or IPv6, from dated offline databases compiled at build time into `peer-data.bin` (layout in
 * peer-format.ts, compiler in scripts/peer-data.ts). The file is read once per container; a lookup is one
 * binary search over typed arrays, and identical answers are one frozen object, so a lookup allocates nothing
 * once its answer has been seen.
 *
 * The data says who announces or registered an address, not who uses it: for AWS's own addresses it says
 * Amazon, which ip-ranges says better; look up peers that are external and not AWS.
 *
 * @example
 * // A ping from a home computer, from AWS's flow log record examples (security group and network ACL rules,
 * // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html):
 * // 2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK
 * const peers = loadPeerDatabase(fileURLToPath(new URL('./peer-data.bin', import.meta.url)));
 * peers.lookup('203.0.113.12'); // undefined: a documentation address, nobody's on the internet
 * peers.lookup('8.8.8.8'); // { asn: 15169, org: 'Google LLC', country: 'US' }
 */
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { FlowlogError } from '../errors.js';
import { type ParsedAddress, parseIPv4, parseIPv6 } from '../net/ip.js';
import {
  PEER_ELEMENT_BYTES,
  PEER_FORMAT_VERSION,
  PEER_INDEX_LENGTH,
  PEER_MAGIC,
  PEER_SECTIONS,
  PEER_SUB_FLAG,
  type PeerHeader,
  type PeerSectionName,
  type PeerSource,
} from './peer-format.js';

/** One peer's answer. A field is null where its database has no row for the address. */
export interface PeerInfo {
  /** `peer_asn`: the AS announcing (or registered for) the address. */
  readonly asn: number | null;
  /** `peer_as_org`: that AS's organisation, as the database names it. */
  readonly org: string | null;
  /** `peer_country`: ISO 3166-1 alpha-2 (whois registration, refined by geofeeds). */
  readonly country: string | null;
}

export interface PeerDatabase {
  /**
   * The peer behind an address (text, or as ip.ts parses it). Undefined for a malformed address, a reserved
   * one (private, CGNAT, loopback, link-local, multicast, documentation, …) or one neither database knows.
   */
  lookup(address: string | ParsedAddress): PeerInfo | undefined;
  /** The same for an IPv4 address as the uint32 `parseIPv4` returns: no parsing, no allocation once seen. */
  lookupV4(address: number): PeerInfo | undefined;
  /** `YYYY-MM-DD` of the ASN data. */
  readonly asnDate: string;
  /** `YYYY-MM-DD` of the country data. */
  readonly countryDate: string;
  readonly sources: { readonly asn: PeerSource; readonly country: PeerSource };
  /** Range and row counts, for the cold-start log line. */
  readonly counts: { readonly v4Ranges: number; readonly v6Ranges: number; readonly rows: number };
}

/** The peer data file is missing, truncated or of another format: fails the cold start, never a record. */
export class PeerDataError extends FlowlogError {
  readonly reason = 'internal' as const;
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`peer data ${path}: ${message}`, options);
  }
}

/**
 * Reads and checks `peer-data.bin` (or the bytes of a read `started` earlier). Asynchronous on purpose: the read runs on libuv's thread pool, where
 * first touching its ~10 MB costs the cold start nothing while the main thread builds everything else.
 */
export async function loadPeerDatabase(path: string, started?: Promise<Uint8Array>): Promise<PeerDatabase> {
  let bytes: Uint8Array;
  try {
    bytes = await (started ?? readFile(path));
  } catch (error) {
    throw new PeerDataError(path, (error as Error).message, { cause: error });
  }
  return parsePeerDatabase(bytes, path);
}

const MASK = 0xffffffffn;
const EMBEDDED_V4_MAPPED = 0xffff; // ::ffff:a.b.c.d, third word
const EMBEDDED_V4_NAT64 = 0x0064ff9b; // 64:ff9b::a.b.c.d, first word

/** Checks the bytes of a peer data file and builds the lookups over them (views, no copies). */
export function parsePeerDatabase(input: Uint8Array, path = '<bytes>'): PeerDatabase {
  const fail = (message: string): never => {
    throw new PeerDataError(path, message);
  };
  if (endianness() !== 'LE') fail('the file is little-endian and this machine is not');
  // Typed-array views need their offsets aligned: a pooled Buffer may not be.
  const bytes = input.byteOffset % 8 === 0 ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    bytes.byteLength < 16 ||
    Buffer.from(bytes.buffer, bytes.byteOffset, 8).toString('latin1') !== PEER_MAGIC
  ) {
    fail('not a peer data file');
  }
  const version = view.getUint32(8, true);
  if (version !== PEER_FORMAT_VERSION) fail(`format ${version}, expected ${PEER_FORMAT_VERSION}: rebuild it`);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.byteLength) fail('truncated header');
  let header: PeerHeader;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 16, headerLength).toString('utf8'));
  } catch (error) {
    throw new PeerDataError(path, 'unreadable header', { cause: error });
  }
  const section = <N extends PeerSectionName>(name: N) => {
    const [offset, count] = header.sections?.[name] ?? fail(`no section ${name}`);
    const type = PEER_SECTIONS[name];
    if (!Number.isInteger(offset) || !Number.isInteger(count) || count < 0 || offset % 8 !== 0) {
      fail(`section ${name} is malformed`);
    }
    if (offset + count * PEER_ELEMENT_BYTES[type] > bytes.byteLength) fail(`section ${name} out of bounds`);
    const at = bytes.byteOffset + offset;
    return type === 'u32'
      ? new Uint32Array(bytes.buffer, at, count)
      : type === 'u16'
        ? new Uint16Array(bytes.buffer, at, count)
        : new Uint8Array(bytes.buffer, at, count);
  };
  const v4Index = section('v4Index') as Uint32Array;
  const v4Low = section('v4Low') as Uint16Array;
  const v4Rows = section('v4Rows') as Uint8Array;
  const v6Index = section('v6Index') as Uint32Array;
  const v6Mid = section('v6Mid') as Uint16Array;
  const v6Word1 = section('v6Word1') as Uint32Array;
  const v6Rows = section('v6Rows') as Uint8Array;
  const v6SubIndex = section('v6SubIndex') as Uint32Array;
  const v6SubStarts = section('v6SubStarts') as Uint32Array;
  const v6SubRows = section('v6SubRows') as Uint8Array;
  const rowAsn = section('rowAsn') as Uint32Array;
  const rowOrg = section('rowOrg') as Uint32Array;
  const rowCountry = section('rowCountry') as Uint8Array;
  const orgOffsets = section('orgOffsets') as Uint32Array;
  const orgBytes = section('orgBytes') as Uint8Array;
  const countryCodes = section('countryCodes') as Uint8Array;

  // What a lookup relies on: the tables' lengths agree, each family's first range starts at address 0, the
  // string tables end inside the file (checked above). Row and string numbers are checked where they are
  // used, so a corrupt file gives no answer rather than a crash. The file is ours, written by the build:
  // checking the order of every array would cost a pass over all of them at each cold start.
  const rowCount = rowAsn.length;
  const orgCount = orgOffsets.length - 1;
  const countryCount = countryCodes.length / 2;
  const v4Count = v4Low.length;
  const v6Count = v6Mid.length;
  const subCount = v6SubStarts.length / 2;
  const cutCount = v6SubIndex.length - 1;
  if (
    v4Index.length !== PEER_INDEX_LENGTH ||
    v4Index[PEER_INDEX_LENGTH - 1] !== v4Count ||
    v4Rows.length !== 3 * v4Count ||
    !((v4Index[1] as number) > 0 && v4Low[0] === 0)
  ) {
    fail('bad IPv4 table');
  }
  if (
    v6Index.length !== PEER_INDEX_LENGTH ||
    v6Index[PEER_INDEX_LENGTH - 1] !== v6Count ||
    v6Word1.length !== v6Count ||
    v6Rows.length !== 3 * v6Count ||
    !((v6Index[1] as number) > 0 && v6Mid[0] === 0 && v6Word1[0] === 0) ||
    v6SubIndex[v6SubIndex.length - 1] !== subCount ||
    v6SubRows.length !== 3 * subCount
  ) {
    fail('bad IPv6 table');
  }
  if (rowOrg.length !== rowCount || rowCountry.length !== rowCount || orgCount < 0) fail('bad row table');
  if (!Number.isInteger(countryCount)) fail('bad country table');
  if ((orgOffsets[orgCount] as number) > orgBytes.length) fail('bad organisation table');

  const orgText = Buffer.from(orgBytes.buffer, orgBytes.byteOffset, orgBytes.byteLength);
  const countries: string[] = [];
  for (let i = 0; i < countryCount; i++)
    countries.push(String.fromCharCode(countryCodes[2 * i] as number, countryCodes[2 * i + 1] as number));
  // Filled on first use: most containers meet a few thousand of the ~100,000 rows.
  const answers: (PeerInfo | undefined)[] = new Array(rowCount);

  const answer = (row: number): PeerInfo | undefined => {
    let info = answers[row];
    if (info === undefined) {
      // Also refuses the undefined a corrupt index would lead to.
      if (!(row > 0 && row < rowCount)) return undefined;
      const org = rowOrg[row] as number;
      const country = rowCountry[row] as number;
      if (org > orgCount || country > countryCount) return undefined;
      info = Object.freeze({
        asn: org === 0 ? null : (rowAsn[row] as number),
        org: org === 0 ? null : orgText.toString('utf8', orgOffsets[org - 1], orgOffsets[org]),
        country: country === 0 ? null : (countries[country - 1] as string),
      });
      answers[row] = info;
    }
    return info;
  };

  const lookupV4 = (address: number): PeerInfo | undefined => {
    if (address >>> 0 !== address) return undefined;
    // The last range of the address's bucket that starts at or before it, else the one running into the
    // bucket from before (the entry just before the bucket's first).
    const top = address >>> 16;
    const low = address & 0xffff;
    let lo = (v4Index[top] as number) - 1;
    let hi = (v4Index[top + 1] as number) - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((v4Low[mid] as number) <= low) lo = mid;
      else hi = mid - 1;
    }
    return answer(row24(v4Rows, lo));
  };

  const lookupV6Words = (w0: number, w1: number, w2: number, w3: number): PeerInfo | undefined => {
    if (w0 === 0 && w1 === 0 && w2 === EMBEDDED_V4_MAPPED) return lookupV4(w3);
    if (w0 === EMBEDDED_V4_NAT64 && w1 === 0 && w2 === 0) return lookupV4(w3);
    // The /64 entry, as for IPv4: the bucket of its top 16 bits, then its next 48 bits (w0's low half, w1).
    const top = w0 >>> 16;
    const mid16 = w0 & 0xffff;
    let lo = (v6Index[top] as number) - 1;
    let hi = (v6Index[top + 1] as number) - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const m = v6Mid[mid] as number;
      if (m !== mid16 ? m < mid16 : (v6Word1[mid] as number) <= w1) lo = mid;
      else hi = mid - 1;
    }
    let row = row24(v6Rows, lo);
    if (row >= PEER_SUB_FLAG) {
      // A /64 cut finer: its own ranges, by their low 64 bits (w2, w3); the first starts at 0.
      const cut = row - PEER_SUB_FLAG;
      let a = v6SubIndex[cut] as number;
      let b = (v6SubIndex[cut + 1] as number) - 1;
      while (a < b) {
        const mid = (a + b + 1) >>> 1;
        const s2 = v6SubStarts[2 * mid] as number;
        if (s2 !== w2 ? s2 < w2 : (v6SubStarts[2 * mid + 1] as number) <= w3) a = mid;
        else b = mid - 1;
      }
      row = row24(v6SubRows, a);
    }
    return answer(row);
  };

  const lookupV6 = (address: bigint): PeerInfo | undefined => {
    if (address < 0n || address > (1n << 128n) - 1n) return undefined;
    return lookupV6Words(
      Number(address >> 96n),
      Number((address >> 64n) & MASK),
      Number((address >> 32n) & MASK),
      Number(address & MASK),
    );
  };

  const words = new Uint32Array(4);
  const lookup = (address: string | ParsedAddress): PeerInfo | undefined => {
    if (typeof address === 'string') {
      if (address.includes(':')) {
        if (parseIPv6Words(address, words)) {
          return lookupV6Words(
            words[0] as number,
            words[1] as number,
            words[2] as number,
            words[3] as number,
          );
        }
        // Dotted or zoned forms, and anything malformed: the general parser decides.
        return lookupV6(parseIPv6(address));
      }
      const n = parseIPv4(address);
      return n < 0 ? undefined : lookupV4(n);
    }
    return address.v === 4 ? lookupV4(address.n) : lookupV6(address.n);
  };

  return {
    lookup,
    lookupV4,
    asnDate: header.asn.date,
    countryDate: header.country.date,
    sources: { asn: header.asn, country: header.country },
    counts: { v4Ranges: v4Count, v6Ranges: v6Count - cutCount + subCount, rows: rowCount },
  };
}

/** A row number stored in 3 little-endian bytes; 0 (no answer) outside the array. */
function row24(rows: Uint8Array, i: number): number {
  return (
    ((rows[3 * i] as number) | ((rows[3 * i + 1] as number) << 8) | ((rows[3 * i + 2] as number) << 16)) >>> 0
  );
}

const groups = new Uint16Array(8);

/**
 * Hexadecimal IPv6 text (`2001:4860:4860::8888`) to four 32-bit words, most significant first, without
 * bigints or substrings: a flow log's IPv6 addresses are all in this form. False for anything else (an
 * embedded dotted IPv4, a zone, a malformed address), which the caller hands to `parseIPv6`.
 */
export function parseIPv6Words(text: string, out: Uint32Array): boolean {
  const length = text.length;
  if (length < 2 || length > 39) return false;
  let count = 0; // groups read
  let gap = -1; // where `::` stands, in groups
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === length) {
      out.fill(0);
      return true;
    }
  }
  for (;;) {
    let value = 0;
    let digits = 0;
    while (i < length) {
      const c = text.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      if (++digits > 4) return false;
      value = value * 16 + d;
      i++;
    }
    if (digits === 0 || count === 8) return false;
    groups[count++] = value;
    if (i === length) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < length && text.charCodeAt(i) === 58) {
      if (gap !== -1) return false;
      gap = count;
      i++;
      if (i === length) break;
    } else if (i === length) {
      return false;
    }
  }
  if (gap === -1 ? count !== 8 : count > 7) return false;
  const zeros = 8 - count;
  let g = 0;
  for (let w = 0; w < 4; w++) {
    const high = g < gap || gap === -1 ? groups[g] : g < gap + zeros ? 0 : groups[g - zeros];
    g++;
    const low = g < gap || gap === -1 ? groups[g] : g < gap + zeros ? 0 : groups[g - zeros];
    g++;
    out[w] = (high as number) * 65536 + (low as number);
  }
  return true;
}
