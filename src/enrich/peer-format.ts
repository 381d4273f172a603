/**
 * The layout of `peer-data.bin`, shared by its writer (scripts/peer-data.ts, at build time) and its reader
 * (peer.ts, once per container). One file, little-endian, every section 8-byte aligned so the reader takes
 * typed-array views over the file's bytes without copying them:
 *
 * ```
 * magic "FLPEER\0\0" · u32 format version · u32 header length · header (UTF-8 JSON, padded to 8) · sections
 * ```
 *
 * Each address family is a sorted list of disjoint ranges that together cover the whole space, each range
 * running from its start to the next range's start; its answer is a row of the row table, row 0 meaning
 * "nothing known" (gaps between the databases' ranges, and the reserved ranges below). A row is a distinct
 * (ASN, organisation, country) triple, so identical answers are one object at run time.
 *
 * The file is read whole at every cold start, and first touches of memory are what that costs, so it is
 * kept small: ranges are bucketed by their start's top 16 bits (an index gives each bucket's first range),
 * so a start keeps only the bits below those; row numbers take 3 bytes; an IPv6 range starts on a /64
 * boundary but for a few thousand /64s cut finer, which have small tables of their own.
 */

export const PEER_MAGIC = 'FLPEER\0\0';
/** Bump when the layout changes: a reader refuses a file of another version, the build rewrites it. */
export const PEER_FORMAT_VERSION = 2;
/** Entries of v4Index and v6Index: one per value of the top 16 bits, and one past them. */
export const PEER_INDEX_LENGTH = 65_537;
/** In v6Rows: the entry is not a row but a /64 cut finer, whose number is in the bits below. */
export const PEER_SUB_FLAG = 0x80_0000;

/** Typed-array sections, in file order. */
export const PEER_SECTIONS = {
  /**
   * 65,537 Uint32: entry h is the first IPv4 range whose start's top 16 bits are h or more (so bucket h's ranges
   * are entries h to h + 1, exclusive), the last entry the number of ranges.
   */
  v4Index: 'u32',
  /** Uint16 per IPv4 range: its start's low 16 bits. */
  v4Low: 'u16',
  /** 3 bytes per IPv4 range, little-endian: its row. */
  v4Rows: 'u8',
  /** The same as v4Index, over IPv6 ranges and the top 16 bits of their /64. */
  v6Index: 'u32',
  /** Uint16 per IPv6 range: bits 32–47 of its /64 (the rest of the first 32-bit word). */
  v6Mid: 'u16',
  /** Uint32 per IPv6 range: bits 0–31 of its /64 (its second 32-bit word). */
  v6Word1: 'u32',
  /** 3 bytes per IPv6 range: its row, or PEER_SUB_FLAG | the number of its finer /64. */
  v6Rows: 'u8',
  /** Uint32 per finer /64, plus one: its first entry in v6SubStarts (the last is their count). */
  v6SubIndex: 'u32',
  /** 2 × Uint32 per range inside a finer /64: the low 64 bits of its start; each /64's first is 0. */
  v6SubStarts: 'u32',
  /** 3 bytes per range inside a finer /64: its row. */
  v6SubRows: 'u8',
  /** Uint32 per row: the AS number (meaningless where rowOrg is 0). */
  rowAsn: 'u32',
  /** Uint32 per row: 0 when the ASN database knows nothing there, else 1 + the organisation's string index. */
  rowOrg: 'u32',
  /** Uint8 per row: 0 when the country database knows nothing there, else 1 + the country's index. */
  rowCountry: 'u8',
  /** Uint32 per organisation, plus one: where its UTF-8 name starts in orgBytes (the last is the end). */
  orgOffsets: 'u32',
  /** The organisations' names, UTF-8, back to back. */
  orgBytes: 'u8',
  /** Two ASCII bytes per country: ISO 3166-1 alpha-2 codes as the database writes them. */
  countryCodes: 'u8',
} as const;
/** Bytes per element of each section type. */
export const PEER_ELEMENT_BYTES = { u8: 1, u16: 2, u32: 4 } as const;
export type PeerSectionName = keyof typeof PEER_SECTIONS;

/** One source database, as the header records it (and the README cites it). */
export interface PeerSource {
  /** npm package the data came from, e.g. `@ip-location-db/asn`. */
  readonly package: string;
  readonly version: string;
  /** The data's date, `YYYY-MM-DD`, read from the package version (`2.3.YYYYMMDDHH`). */
  readonly date: string;
  readonly licence: string;
  /** What the licence asks to be said wherever the data is used. */
  readonly attribution: string;
}

/** The JSON header. */
export interface PeerHeader {
  readonly asn: PeerSource;
  readonly country: PeerSource;
  /** Ranges given no answer whatever the databases say (PEER_RESERVED_RANGES, as CIDR text). */
  readonly reserved: readonly string[];
  /** [byte offset from the start of the file, element count] of every section. */
  readonly sections: Readonly<Record<PeerSectionName, readonly [number, number]>>;
}

/**
 * Addresses that are nobody's on the internet, so a peer there has no ASN or country whatever a database
 * says: private (RFC 1918, IPv6 ULA), carrier-grade NAT, loopback, link-local, multicast, documentation
 * (RFC 5737, RFC 3849, RFC 9637), benchmarking, "this network", the reserved class E and the
 * unspecified address. IPv4-mapped (`::ffff:0:0/96`) and NAT64 (`64:ff9b::/96`, which AWS's NAT gateways use
 * with DNS64) IPv6 addresses are looked up as the IPv4 address they carry, so they are reserved here too.
 */
export const PEER_RESERVED_RANGES: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  '::ffff:0:0/96',
  '64:ff9b::/96',
  '100::/64',
  '2001:db8::/32',
  '3fff::/20',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

/** IPv6 prefixes whose low 32 bits are an IPv4 address to look up instead. */
export const PEER_EMBEDDED_V4_PREFIXES: readonly bigint[] = [0xffffn << 32n, 0x64ff9bn << 96n];
