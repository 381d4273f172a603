import type { Detection } from '../detect/types.js';
import type { EniInfo, Enrichment } from '../enrich/types.js';
import type { FormatSpec } from '../flowlog/format.js';
import type { Flow } from '../flowlog/parse.js';

export type FlowWriter = (flow: Flow, enrichment: Enrichment | undefined, detection: Detection) => string;

/**
 * Builds the writer of emitted records for one format: one JSON object per flow, `\n`-terminated, fields
 * in format order then enrichment then detection, absent values omitted. Hand-built rather than
 * `JSON.stringify`: key prefixes are computed once, and values the schema restricts to
 * `[A-Za-z0-9.:_-]` need no escaping — this runs for every line of every batch.
 */
export function createFlowWriter(format: FormatSpec): FlowWriter {
  const writeFields = compileFieldWriter(format);
  const hasDirection = format.indexOf.has('flow_direction');

  return (flow, enrichment, detection) => {
    let out = writeFields(flow, JSON.stringify);
    let sep = out.length > 1 ? ',' : '';
    if (enrichment) {
      if (enrichment.status) {
        out += `${sep}"enrichment_status":"${enrichment.status}"`;
        sep = ',';
      }
      if (enrichment.eni) {
        out += sep === '' ? enrichment.eni.fragment.slice(1) : enrichment.eni.fragment;
        sep = ',';
      }
      if (enrichment.src_aws_service) {
        out += `${sep}"src_aws_service":"${enrichment.src_aws_service}"`;
        sep = ',';
      }
      if (enrichment.dst_aws_service) {
        out += `${sep}"dst_aws_service":"${enrichment.dst_aws_service}"`;
        sep = ',';
      }
      if (enrichment.flow_direction && !hasDirection) {
        out += `${sep}"flow_direction":"${enrichment.flow_direction}"`;
        sep = ',';
      }
      if (enrichment.peer_scope) {
        out += `${sep}"peer_scope":"${enrichment.peer_scope}"`;
        sep = ',';
      }
    }
    out += `${sep}"flags":${flagsJson(detection.flags)},"severity":"${detection.severity}"}\n`;
    return out;
  };
}

/**
 * Generates the writer of a format's own fields (`{"version":2,"account_id":"…"` without the closing
 * brace): one straight-line statement per field, no loop over a field table, null values skipped. Values
 * the schema restricts to `[A-Za-z0-9.:_-]` are quoted as they are; free text goes through JSON.stringify.
 */
function compileFieldWriter(format: FormatSpec): (flow: Flow, stringify: (value: unknown) => string) => string {
  const statements = format.fields.map((field) => {
    const key = JSON.stringify(field.key);
    const value =
      field.kind === 'int' ? 'v' : field.kind === 'safe' ? `'"' + v + '"'` : 'stringify(v)';
    return `v = flow[${key}]; if (v !== null && v !== undefined) { o += s + ${JSON.stringify(`${JSON.stringify(field.key)}:`)} + ${value}; s = ','; }`;
  });
  const body = ["let o = '{', s = '', v;", ...statements, 'return o;'].join('\n');
  return new Function('flow', 'stringify', body) as (flow: Flow, stringify: (value: unknown) => string) => string;
}

function flagsJson(flags: readonly string[]): string {
  if (flags.length === 0) return '[]';
  return `["${flags.join('","')}"]`;
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
