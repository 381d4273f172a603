import type { Detection } from '../detect/types.js';
import type { EniInfo, Enrichment } from '../enrich/types.js';
import type { FormatSpec } from '../flowlog/format.js';
import type { Flow } from '../flowlog/parse.js';
import { ByteWriter, bytesOf, putAscii, putBytes, putInt } from './byte-writer.js';

export type FlowWriter = (
  out: ByteWriter,
  flow: Flow,
  enrichment: Enrichment | undefined,
  detection: Detection,
) => void;

const K = {
  enrichmentStatus: bytesOf('"enrichment_status":"'),
  srcService: bytesOf('"src_aws_service":"'),
  dstService: bytesOf('"dst_aws_service":"'),
  flowDirection: bytesOf('"flow_direction":"'),
  peerScope: bytesOf('"peer_scope":"'),
  flagsEmpty: bytesOf('"flags":[],"severity":"'),
  flags: bytesOf('"flags":['),
  severity: bytesOf('],"severity":"'),
  end: bytesOf('"}\n'),
};
const COMMA = 0x2c;
const QUOTE = 0x22;

/**
 * Builds the writer of emitted records for one format: one JSON object per flow, `\n`-terminated, fields
 * in format order then enrichment then detection, absent values omitted. Hand-built rather than
 * `JSON.stringify`, straight into bytes: key prefixes are encoded once, and values the schema restricts to
 * `[A-Za-z0-9.:_-]` need no escaping — this runs for every line of every batch.
 */
export function createFlowWriter(format: FormatSpec, maxLineLength = 8192): FlowWriter {
  // Every token is at most the line long; keys, quotes and commas add a bounded amount per field.
  const reserveBytes = maxLineLength + format.fields.reduce((sum, field) => sum + field.key.length + 6, 64);
  const writeFields = compileFieldWriter(format, reserveBytes);
  const hasDirection = format.indexOf.has('flow_direction');

  return (out, flow, enrichment, detection) => {
    // Room for the longest line this format can produce; the generated code then writes unchecked.
    out.reserve(reserveBytes);
    out.byte(0x7b);
    let sep = writeFields(out, flow);
    if (enrichment) {
      if (enrichment.status) {
        if (sep) out.byte(COMMA);
        out.bytes(K.enrichmentStatus);
        out.ascii(enrichment.status);
        out.byte(QUOTE);
        sep = true;
      }
      const eni = enrichment.eni;
      if (eni) {
        // The fragment starts with a comma: skip it when nothing precedes it.
        if (sep) out.bytes(eni.fragmentBytes);
        else out.bytes(eni.fragmentBytes.subarray(1));
        sep = sep || eni.fragmentBytes.length > 0;
      }
      sep = member(out, sep, K.srcService, enrichment.src_aws_service);
      sep = member(out, sep, K.dstService, enrichment.dst_aws_service);
      if (!hasDirection) sep = member(out, sep, K.flowDirection, enrichment.flow_direction);
      sep = member(out, sep, K.peerScope, enrichment.peer_scope);
    }
    if (sep) out.byte(COMMA);
    const flags = detection.flags;
    if (flags.length === 0) out.bytes(K.flagsEmpty);
    else {
      out.bytes(K.flags);
      for (let i = 0; i < flags.length; i++) {
        if (i > 0) out.byte(COMMA);
        out.byte(QUOTE);
        out.ascii(flags[i] as string);
        out.byte(QUOTE);
      }
      out.bytes(K.severity);
    }
    out.ascii(detection.severity);
    out.bytes(K.end);
  };
}

function member(out: ByteWriter, sep: boolean, key: Uint8Array, value: string | undefined): boolean {
  if (!value) return sep;
  if (sep) out.byte(COMMA);
  out.bytes(key);
  out.ascii(value);
  out.byte(QUOTE);
  return true;
}

/** One flow as its JSON line (tests and tools; the transform writes into one shared buffer). */
export function flowToLine(
  writer: FlowWriter,
  flow: Flow,
  enrichment: Enrichment | undefined,
  detection: Detection,
): string {
  const out = new ByteWriter(1024);
  writer(out, flow, enrichment, detection);
  return out.toString();
}

/**
 * Generates the writer of a format's own fields (the members after `{`): one straight-line statement per
 * field, no loop over a field table, null values skipped. Values the schema restricts to `[A-Za-z0-9.:_-]`
 * are copied as they are; free text is escaped. Returns whether anything was written.
 */
function compileFieldWriter(format: FormatSpec, room: number): (out: ByteWriter, flow: Flow) => boolean {
  const keys = format.fields.map((field) => [bytesOf(`"${field.key}":`), bytesOf(`,"${field.key}":`)]);
  const statements = format.fields.map((field, i) => {
    const key = `p = putBytes(b, p, s ? keys[${i}][1] : keys[${i}][0]);`;
    const value =
      field.kind === 'int'
        ? 'p = putInt(b, p, v);'
        : field.kind === 'safe'
          ? 'b[p++] = 34; p = putAscii(b, p, v); b[p++] = 34;'
          : // Free text may need escaping (up to 6 bytes a character): the writer makes room for it, then
            // room again for every field after it, before the unchecked writes resume.
            'out.length = p; out.json(v); out.reserve(room); b = out.buffer; p = out.length;';
    return `v = flow[${JSON.stringify(field.key)}]; if (v !== null && v !== undefined) { ${key} ${value} s = true; }`;
  });
  const body = [
    'return function writeFields(out, flow) {',
    'let b = out.buffer, p = out.length, s = false, v;',
    ...statements,
    'out.length = p;',
    'return s;',
    '};',
  ].join('\n');
  return new Function('keys', 'putBytes', 'putAscii', 'putInt', 'room', body)(
    keys,
    putBytes,
    putAscii,
    putInt,
    room,
  ) as (out: ByteWriter, flow: Flow) => boolean;
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
