import { BoundedMap } from '../bounded-map.js';
import { ByteWriter, putAscii, putInt, storeConstant } from '../bytes/byte-writer.js';
import { assertSafeKey, compile, formatTag } from '../codegen.js';
import type { Detection } from '../detect/types.js';
import type { PeerInfo } from '../enrich/peer.js';
import type { EniInfo, EniView, Enrichment } from '../enrich/types.js';
import { flowCommunityHash } from '../flowlog/community-id.js';
import type { FormatSpec } from '../flowlog/format.js';
import type { Flow } from '../flowlog/parse.js';

/**
 * Writes one flow's line, given its Community ID's hash (`communityHash`: undefined for a flow without
 * one). With `fields` and a span in it (`start >= 0`), the flow's own members are copied from there (the
 * record reader wrote them: `FieldBytes`) rather than serialized from the object. `fields` may be
 * `out.buffer` itself (the transform writes after the members): the span then ends at or before `out.length`.
 */
export type FlowWriter = (
  out: ByteWriter,
  flow: Flow,
  enrichment: Enrichment | undefined,
  detection: Detection,
  communityHash: string | undefined,
  fields?: Uint8Array,
  start?: number,
  end?: number,
) => void;

/**
 * Interfaces whose bytes the writer finds by their view's serial (a power of two). The slots hold up to this
 * many views strongly, where the WeakMap behind them holds none: bounded, a few hundred KB at most.
 */
const VIEW_SLOTS = 4096;

/**
 * Builds the writer of emitted records for one format: one JSON object per flow, `\n`-terminated, fields
 * in format order then enrichment then detection, absent values omitted. Hand-built rather than
 * `JSON.stringify`, straight into bytes: this runs for every line of every batch, so the format's keys
 * are compiled into the code, an interface's members are serialized once (its fragment), and the
 * members that take few values (`"peer_scope":"external"`, a service, the detection tail) are encoded
 * once per value and copied.
 */
export function createFlowWriter(format: FormatSpec, maxLineLength = 8192): FlowWriter {
  // Every token is at most the line long; keys, quotes and commas add a bounded amount per field.
  const reserveBytes = maxLineLength + format.fields.reduce((sum, field) => sum + field.key.length + 6, 64);
  const writeFields = compileFieldWriter(format, reserveBytes);
  const hasDirection = format.indexOf.has('flow_direction');
  const status = memberCache('enrichment_status');
  const srcService = memberCache('src_aws_service');
  const dstService = memberCache('dst_aws_service');
  const srcRegion = memberCache('src_aws_region');
  const dstRegion = memberCache('dst_aws_region');
  // A peer's members, encoded once per answer (the peer database shares one object per answer).
  const peers = new WeakMap<PeerInfo, Buffer>();
  const peerBytes = (peer: PeerInfo): Buffer => {
    let bytes = peers.get(peer);
    if (bytes === undefined) {
      let text = '';
      if (peer.asn !== null) text += `,"peer_asn":${peer.asn}`;
      if (peer.org !== null) text += `,"peer_as_org":${JSON.stringify(peer.org)}`;
      if (peer.country !== null) text += `,"peer_country":${JSON.stringify(peer.country)}`;
      bytes = Buffer.from(text, 'utf8');
      peers.set(peer, bytes);
    }
    return bytes;
  };
  // An interface's members, its enrichment status first, encoded once per interface answer (enrichment
  // hands the same EniInfo to every flow of an interface while its cache entries are unchanged).
  const interfaces = new WeakMap<EniInfo, Buffer>();
  const interfaceBytes = (info: EniInfo): Buffer => {
    let bytes = interfaces.get(info);
    if (bytes === undefined) {
      bytes = Buffer.from(`,"enrichment_status":"ok"${eniFragment(info, format)}`, 'utf8');
      interfaces.set(info, bytes);
    }
    return bytes;
  };
  // In front of that map, by the view's serial: a slot compared by identity instead of a WeakMap lookup.
  const viewSlots = new Array<EniView | undefined>(VIEW_SLOTS);
  const viewBytes = new Array<Buffer | undefined>(VIEW_SLOTS);
  const eniBytes = (view: EniView): Buffer => {
    if (view.serial === undefined) return interfaceBytes(view.info);
    const slot = view.serial & (VIEW_SLOTS - 1);
    if (viewSlots[slot] === view) return viewBytes[slot] as Buffer;
    const bytes = interfaceBytes(view.info);
    viewSlots[slot] = view;
    viewBytes[slot] = bytes;
    return bytes;
  };
  // Keyed by the detection object: a detector shares one per combination of flags; one that made one per
  // flow would only cost this writer its reuse, never memory (a WeakMap lets them go).
  const tails = new WeakMap<Detection, (Buffer | undefined)[]>();
  let lastDetection: Detection | undefined;
  let lastShapes: (Buffer | undefined)[] | undefined;
  // Transit Gateway lines: each side's members, encoded once per interface answer.
  const srcSides = new WeakMap<EniInfo, Buffer>();
  const dstSides = new WeakMap<EniInfo, Buffer>();
  const sideBytes = (info: EniInfo, side: 'src' | 'dst'): Buffer => {
    const cache = side === 'src' ? srcSides : dstSides;
    let bytes = cache.get(info);
    if (bytes === undefined) {
      bytes = Buffer.from(sideFragment(info, side), 'utf8');
      cache.set(info, bytes);
    }
    return bytes;
  };

  /**
   * The members every line ends with — inferred direction, peer scope, flags and severity — encoded once
   * per combination (findings are shared per combination of flags) and copied at once.
   */
  function tailOf(detection: Detection, direction: string | undefined, scope: string | undefined): Buffer {
    // Most flows of a batch share one detection (no findings): the last one is kept at hand.
    let byShape = detection === lastDetection ? lastShapes : tails.get(detection);
    if (byShape === undefined) {
      byShape = new Array(9);
      tails.set(detection, byShape);
    }
    lastDetection = detection;
    lastShapes = byShape;
    const directionCode = code(direction, 'ingress', 'egress');
    const scopeCode = code(scope, 'internal', 'external');
    // Only the values this writer knows are kept; anything else is encoded each time.
    const shape = directionCode < 0 || scopeCode < 0 ? -1 : 3 * directionCode + scopeCode;
    let tail = shape < 0 ? undefined : byShape[shape];
    if (tail === undefined) {
      let text = '';
      if (direction) text += `,"flow_direction":${JSON.stringify(direction)}`;
      if (scope) text += `,"peer_scope":${JSON.stringify(scope)}`;
      text += `,"flags":${JSON.stringify(detection.flags)},"severity":${JSON.stringify(detection.severity)}}\n`;
      tail = Buffer.from(text, 'utf8');
      if (shape >= 0) byShape[shape] = tail;
    }
    return tail;
  }

  /** A Transit Gateway line's two sides (`src_vpc_name` … `dst_subnet_tier`); returns whether any was written. */
  function writeSides(out: ByteWriter, sep: boolean, src?: EniInfo, dst?: EniInfo): boolean {
    const parts = [src ? sideBytes(src, 'src') : undefined, dst ? sideBytes(dst, 'dst') : undefined];
    for (const bytes of parts) {
      if (bytes === undefined || bytes.length === 0) continue;
      out.reserve(bytes.length);
      out.length = putMember(out.buffer, out.length, sep, bytes);
      sep = true;
    }
    return sep;
  }

  return (out, flow, enrichment, detection, id, fields, start = -1, end = -1) => {
    // Room for the longest line this format can produce; the generated code then writes unchecked.
    out.reserve(reserveBytes);
    out.buffer[out.length++] = 0x7b;
    let sep: boolean;
    if (fields !== undefined && start >= 0) {
      // Members in the output's own buffer (the transform writes after them) move without a view.
      if (fields === out.buffer) out.buffer.copyWithin(out.length, start, end);
      else out.buffer.set(new Uint8Array(fields.buffer, fields.byteOffset + start, end - start), out.length);
      out.length += end - start;
      sep = end > start;
    } else sep = writeFields(out, flow);
    let direction: string | undefined;
    let scope: string | undefined;
    if (enrichment) {
      const eni = enrichment.eni ? eniBytes(enrichment.eni) : undefined;
      out.reserve(TAIL_ROOM + (eni ? eni.length : 0));
      const b = out.buffer;
      let p = out.length;
      if (eni) {
        // The interface's members, its enrichment status first, in one copy.
        p = putMember(b, p, sep, eni);
        sep = true;
      } else if (enrichment.status) {
        p = putMember(b, p, sep, status(enrichment.status));
        sep = true;
      }
      if (enrichment.src_aws_service) {
        p = putMember(b, p, sep, srcService(enrichment.src_aws_service));
        sep = true;
      }
      if (enrichment.dst_aws_service) {
        p = putMember(b, p, sep, dstService(enrichment.dst_aws_service));
        sep = true;
      }
      if (enrichment.src_aws_region) {
        p = putMember(b, p, sep, srcRegion(enrichment.src_aws_region));
        sep = true;
      }
      if (enrichment.dst_aws_region) {
        p = putMember(b, p, sep, dstRegion(enrichment.dst_aws_region));
        sep = true;
      }
      if (enrichment.peer) {
        const peer = peerBytes(enrichment.peer);
        if (peer.length > 0) {
          p = putMember(b, p, sep, peer);
          sep = true;
        }
      }
      out.length = p;
      const tgw = enrichment.tgw;
      if (tgw !== undefined) sep = writeSides(out, sep, tgw.src?.info, tgw.dst?.info);
      if (!hasDirection) direction = enrichment.flow_direction;
      scope = enrichment.peer_scope;
    }
    // The flow's Community ID (from the addresses as logged, not pkt-*): ASCII, written as it is.
    if (id !== undefined) {
      out.reserve(COMMUNITY_ID_KEY.length + 2 + id.length);
      const b = out.buffer;
      let p = out.length;
      if (sep) b[p++] = 0x2c;
      p = putAscii(b, p, COMMUNITY_ID_KEY);
      p = putAscii(b, p, id);
      b[p++] = 0x22;
      out.length = p;
      sep = true;
    }
    const tail = tailOf(detection, direction, scope);
    out.reserve(tail.length);
    out.length = putMember(out.buffer, out.length, sep, tail);
  };
}

const COMMUNITY_ID_KEY = '"community_id":"1:';

/** 0 for none, 1 and 2 for a member's two values, -1 for anything else. */
function code(value: string | undefined, first: string, second: string): number {
  return value === undefined ? 0 : value === first ? 1 : value === second ? 2 : -1;
}

/** Room for the enrichment members other than the fragment (each value is a short enum or service name). */
const TAIL_ROOM = 1024;

/**
 * `,"key":"value"` encoded once per value of one member (values are few: services, scopes, statuses),
 * bounded in case a source sends many.
 */
function memberCache(key: string): (value: string) => Buffer {
  const cache = new BoundedMap<string, Buffer>(1024);
  const encode = (value: string) => Buffer.from(`,"${key}":${JSON.stringify(value)}`, 'utf8');
  return (value) => cache.getOrMake(value, encode);
}

/** Copies a member that starts with a comma, without the comma when nothing precedes it. */
function putMember(b: Buffer, p: number, sep: boolean, bytes: Uint8Array): number {
  const n = bytes.length;
  let i = sep ? 0 : 1;
  if (n - i > 48) {
    b.set(i === 0 ? bytes : bytes.subarray(1), p);
    return p + n - i;
  }
  for (; i < n; i++) b[p++] = bytes[i] as number;
  return p;
}

/** One flow as its JSON line (tests and tools; the transform writes into one shared buffer). */
export function flowToLine(
  writer: FlowWriter,
  flow: Flow,
  enrichment: Enrichment | undefined,
  detection: Detection,
): string {
  const out = new ByteWriter(1024);
  writer(out, flow, enrichment, detection, flowCommunityHash(flow));
  return out.toString();
}

/**
 * Generates the writer of a format's own fields (the members after `{`): one straight-line statement per
 * field, no loop over a field table, null values skipped. Values the schema restricts to `[A-Za-z0-9.:_-]`
 * are copied as they are; free text is escaped. Returns whether anything was written.
 */
function compileFieldWriter(format: FormatSpec, room: number): (out: ByteWriter, flow: Flow) => boolean {
  const statements = format.fields.map((field) => {
    // The key's bytes as immediate stores, four at a time: no table to load them from, no loop.
    const key = `if (s) b[p++] = 44; ${storeConstant(`"${field.key}":`, 'b', 'd', 'p')}`;
    const value =
      field.kind === 'int'
        ? 'p = putInt(b, p, v);'
        : field.kind === 'safe'
          ? 'b[p++] = 34; p = putAscii(b, p, v); b[p++] = 34;'
          : // Free text may need escaping (up to 6 bytes a character): the writer makes room for it, then
            // room again for every field after it, before the unchecked writes resume.
            'out.length = p; out.json(v); out.reserve(room); b = out.buffer; d = out.view; p = out.length;';
    return `v = flow[${JSON.stringify(field.key)}]; if (v !== null && v !== undefined) { ${key} ${value} s = true; }`;
  });
  const body = [
    'return function writeFields(out, flow) {',
    'let b = out.buffer, d = out.view, p = out.length, s = false, v;',
    ...statements,
    'out.length = p;',
    'return s;',
    '};',
  ].join('\n');
  const tag = formatTag(format.fields.map((field) => assertSafeKey(field.key)));
  return compile<(out: ByteWriter, flow: Flow) => boolean>(
    `field-writer-${tag}`,
    ['putAscii', 'putInt', 'room'],
    body,
    [putAscii, putInt, room],
  );
}
/**
 * The ENI-derived members of every flow of one interface, serialized once. `instance_id`, `subnet_id`,
 * `vpc_id` and `az_id` are written only when the format lacks them: a value is never written twice.
 */
export function eniFragment(info: EniInfo, format: FormatSpec): string {
  const has = (key: string) => format.indexOf.has(key);
  let out = '';
  const add = (key: string, value: unknown) => {
    if (value === undefined || value === null) return;
    out += `,"${key}":${JSON.stringify(value)}`;
  };
  add('eni_type', info.eniType);
  add('eni_service', info.eniService);
  if (info.tags && Object.keys(info.tags).length > 0) add('eni_tags', info.tags);
  if (info.securityGroupIds && info.securityGroupIds.length > 0)
    add('security_group_ids', info.securityGroupIds);
  if (!has('instance_id')) add('instance_id', info.instanceId);
  if (!has('subnet_id')) add('subnet_id', info.subnetId);
  if (!has('vpc_id')) add('vpc_id', info.vpcId);
  if (!has('az_id')) add('az_id', info.azId);
  add('subnet_tier', info.subnetTier);
  add('subnet_name', info.subnetName);
  add('vpc_name', info.vpcName);
  return out;
}

/**
 * One side of a Transit Gateway flow (`src` or `dst`), from its attachment interface's answer: the VPC's and
 * subnet's names and the subnet's tier, under that side's prefix.
 */
export function sideFragment(info: EniInfo, side: 'src' | 'dst'): string {
  let out = '';
  const add = (key: string, value: string | undefined) => {
    if (value !== undefined) out += `,"${side}_${key}":${JSON.stringify(value)}`;
  };
  add('vpc_name', info.vpcName);
  add('subnet_name', info.subnetName);
  add('subnet_tier', info.subnetTier);
  return out;
}
