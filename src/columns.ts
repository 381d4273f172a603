/**
 * Every column this function emits, in one table: the flow-log fields of every version, then the columns it
 * adds. The reader's field table (`flowlog/fields.ts`), `schemas/*.json`, the Glue table's columns (and so
 * Firehose's Parquet schema), DuckDB's column types and the README's field reference all come from here:
 * `npm run columns` writes the generated ones, and `test/unit/columns.test.ts` fails when any differs.
 *
 * To add a column: one entry here, the code that computes it, and its tests; then `npm run columns`.
 *
 * Flow-log fields: "Logging IP traffic using VPC Flow Logs → Flow log records → Available fields"
 * (https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html); Transit Gateway fields: "Transit
 * Gateway Flow Logs → Transit Gateway Flow Log records" (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-flow-logs.html).
 */

/** The JSON Schema of one value as emitted (never null: a field without a value is left out). */
export interface ValueSchema {
  readonly type?: 'integer' | 'string' | 'array' | 'object';
  readonly enum?: readonly string[];
  readonly pattern?: string;
  readonly format?: 'ip';
  readonly minimum?: number;
  readonly maximum?: number;
  readonly items?: ValueSchema;
  readonly additionalProperties?: ValueSchema;
}

export interface Column {
  /** Name in the emitted record (and the Glue table): AWS's field name with `-` replaced by `_`. */
  readonly name: string;
  /** For flow-log fields, AWS's name as written in a log format (`pkt-src-aws-service`). */
  readonly awsName?: string;
  /** The flow-log version that introduced it, or the feature that adds it. */
  readonly group: number | 'flow' | 'enrichment' | 'detection';
  /**
   * Only Transit Gateway flow logs have it (version 6 of their own record): left out of the VPC formats
   * this code builds (`formatUpTo`, `ALL_FIELDS_FORMAT`).
   */
  readonly transitGateway?: true;
  readonly schema: ValueSchema;
  /** Glue/Athena type; integers are `int` unless they can exceed 2^31 (`bigint`). */
  readonly glue: 'int' | 'bigint' | 'string' | 'array<string>' | 'map<string,string>';
  /**
   * Whether every value the schema admits can be copied into JSON between quotes as it is (no escaping):
   * derived from the schema (an enum of plain values, a pattern of plain characters, an IP address);
   * a test checks the derivation against the schemas.
   */
  readonly unescaped: boolean;
  readonly description: string;
}

function flowLog(
  awsName: string,
  since: number,
  schema: ValueSchema,
  description: string,
  options: { readonly bigint?: boolean } = {},
): Column {
  return column(awsName.replaceAll('-', '_'), since, schema, description, options.bigint === true, awsName);
}

/** A field only Transit Gateway flow logs have (AWS lists them as version 6). */
function transitGateway(
  awsName: string,
  schema: ValueSchema,
  description: string,
  options: { readonly bigint?: boolean } = {},
): Column {
  return Object.freeze({
    ...flowLog(awsName, 6, schema, description, options),
    transitGateway: true as const,
  });
}

// Ids as EC2 writes them: a prefix and 8 (older resources) or 17 hexadecimal digits.
const id = (prefix: string): ValueSchema => ({ type: 'string', pattern: `^${prefix}-[0-9a-f]{8,17}$` });
const ACCOUNT_ID: ValueSchema = { type: 'string', pattern: '^[0-9]{12}$' };
const AZ_ID: ValueSchema = { type: 'string', pattern: '^[a-z0-9]{1,12}(?:-[a-z0-9]{1,12}){1,4}$' };
const LOST: ValueSchema = { type: 'integer', minimum: 0 };

function added(
  name: string,
  group: 'flow' | 'enrichment' | 'detection',
  schema: ValueSchema,
  description: string,
  options: { readonly bigint?: boolean } = {},
): Column {
  return column(name, group, schema, description, options.bigint === true);
}

function column(
  name: string,
  group: Column['group'],
  schema: ValueSchema,
  description: string,
  bigint: boolean,
  awsName?: string,
): Column {
  const glue: Column['glue'] =
    schema.type === 'integer'
      ? bigint
        ? 'bigint'
        : 'int'
      : schema.type === 'array'
        ? 'array<string>'
        : schema.type === 'object'
          ? 'map<string,string>'
          : 'string';
  return Object.freeze({
    name,
    ...(awsName !== undefined ? { awsName } : {}),
    group,
    schema,
    glue,
    unescaped: isPlain(schema),
    description,
  });
}

/** Characters JSON never escapes (and no quote or backslash for SQL literals either). */
const PLAIN = /^[A-Za-z0-9._:/=-]*$/;

/**
 * Whether the schema admits only plain values: integers, IP addresses, enums of plain strings, or strings
 * whose pattern is built of plain characters, `{m,n}` counts, groups, alternation and character classes
 * of plain characters only (no `.`, no negated class, no escape but `\d`).
 */
export function isPlain(schema: ValueSchema): boolean {
  if (schema.type === 'integer') return true;
  if (schema.enum) return schema.enum.every((value) => PLAIN.test(value));
  if (schema.type !== 'string') return false;
  if (schema.format === 'ip') return true;
  if (schema.pattern === undefined) return false;
  const body = schema.pattern
    .replace(/^\^/, '')
    .replace(/\$$/, '')
    .replace(/\{\d+(?:,\d*)?\}/g, '')
    .replace(/\(\?:/g, '')
    .replace(/\\d/g, '0');
  if (/\\|\[\^|\./.test(body)) return false;
  return PLAIN.test(body.replace(/[[\]()|?*+]/g, ''));
}

export const COLUMNS: readonly Column[] = [
  flowLog(
    'version',
    2,
    { type: 'integer', minimum: 0, maximum: 255 },
    'Flow log version of the record (2 is the default format; custom formats use the version of their newest field).',
  ),
  flowLog(
    'account-id',
    2,
    { type: 'string', pattern: '^(?:[0-9]{12}|unknown)$' },
    'AWS account that owns the source network interface (or, for TGW, the account of the flow log).',
  ),
  flowLog(
    'interface-id',
    2,
    { type: 'string', pattern: '^eni-[0-9a-f]{8,17}$' },
    'Network interface the traffic is recorded for.',
  ),
  flowLog(
    'srcaddr',
    2,
    { type: 'string', format: 'ip' },
    'Source address of incoming traffic, or the interface address for outgoing traffic.',
  ),
  flowLog(
    'dstaddr',
    2,
    { type: 'string', format: 'ip' },
    'Destination address of outgoing traffic, or the interface address for incoming traffic.',
  ),
  flowLog(
    'srcport',
    2,
    { type: 'integer', minimum: 0, maximum: 65535 },
    'Source port (0 when the protocol has none).',
  ),
  flowLog(
    'dstport',
    2,
    { type: 'integer', minimum: 0, maximum: 65535 },
    'Destination port (0 when the protocol has none).',
  ),
  flowLog(
    'protocol',
    2,
    { type: 'integer', minimum: 0, maximum: 255 },
    'IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).',
  ),
  flowLog('packets', 2, { type: 'integer', minimum: 0 }, 'Packets transferred during the flow.', {
    bigint: true,
  }),
  flowLog('bytes', 2, { type: 'integer', minimum: 0 }, 'Bytes transferred during the flow.', {
    bigint: true,
  }),
  flowLog(
    'start',
    2,
    { type: 'integer', minimum: 0 },
    'When the first packet of the flow arrived within the aggregation interval (Unix seconds).',
    { bigint: true },
  ),
  flowLog(
    'end',
    2,
    { type: 'integer', minimum: 0 },
    'When the last packet of the flow arrived within the aggregation interval (Unix seconds).',
    { bigint: true },
  ),
  flowLog(
    'action',
    2,
    { enum: ['ACCEPT', 'REJECT'] },
    'ACCEPT or REJECT, as the security groups and network ACLs decided.',
  ),
  flowLog(
    'log-status',
    2,
    { enum: ['OK', 'NODATA', 'SKIPDATA'] },
    'OK, NODATA (no traffic in the interval) or SKIPDATA (records skipped in the interval).',
  ),
  flowLog('vpc-id', 3, { type: 'string', pattern: '^vpc-[0-9a-f]{8,17}$' }, 'VPC of the network interface.'),
  flowLog(
    'subnet-id',
    3,
    { type: 'string', pattern: '^subnet-[0-9a-f]{8,17}$' },
    'Subnet of the network interface.',
  ),
  flowLog(
    'instance-id',
    3,
    { type: 'string', pattern: '^i-[0-9a-f]{8,17}$' },
    'Instance attached to the interface, if you own it.',
  ),
  flowLog(
    'tcp-flags',
    3,
    { type: 'integer', minimum: 0, maximum: 255 },
    'Bitmask of TCP flags seen in the interval: FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32 (OR-ed; SYN-ACK is 18).',
  ),
  flowLog('type', 3, { enum: ['IPv4', 'IPv6', 'EFA'] }, 'Traffic type: IPv4, IPv6 or EFA.'),
  flowLog(
    'pkt-srcaddr',
    3,
    { type: 'string', format: 'ip' },
    'Packet-level source address (differs from srcaddr behind NAT gateways and load balancers).',
  ),
  flowLog('pkt-dstaddr', 3, { type: 'string', format: 'ip' }, 'Packet-level destination address.'),
  flowLog(
    'region',
    4,
    { type: 'string', pattern: '^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$' },
    'Region of the network interface.',
  ),
  flowLog(
    'az-id',
    4,
    { type: 'string', pattern: '^[a-z0-9]{1,12}(?:-[a-z0-9]{1,12}){1,4}$' },
    'Availability Zone id of the network interface.',
  ),
  flowLog(
    'sublocation-type',
    4,
    { enum: ['wavelength', 'outpost', 'localzone'] },
    'wavelength, outpost or localzone, when the interface is in one.',
  ),
  flowLog(
    'sublocation-id',
    4,
    { type: 'string' },
    'Id of the sublocation (Wavelength Zone, Outpost, Local Zone).',
  ),
  flowLog(
    'pkt-src-aws-service',
    5,
    { type: 'string', pattern: '^[A-Z0-9_]{1,64}$' },
    'AWS service of pkt-srcaddr, when it belongs to one (as AWS names it).',
  ),
  flowLog(
    'pkt-dst-aws-service',
    5,
    { type: 'string', pattern: '^[A-Z0-9_]{1,64}$' },
    'AWS service of pkt-dstaddr, when it belongs to one.',
  ),
  flowLog(
    'flow-direction',
    5,
    { enum: ['ingress', 'egress'] },
    'ingress or egress, relative to the interface.',
  ),
  flowLog(
    'traffic-path',
    5,
    { type: 'integer', minimum: 1, maximum: 255 },
    'Path egress traffic took to its destination (1 same VPC … 8 VPC peering; AWS documents the codes).',
  ),
  flowLog(
    'ecs-cluster-arn',
    7,
    { type: 'string' },
    'ARN of the ECS cluster, for traffic of a running ECS task.',
  ),
  flowLog('ecs-cluster-name', 7, { type: 'string' }, 'Name of the ECS cluster.'),
  flowLog(
    'ecs-container-instance-arn',
    7,
    { type: 'string' },
    'ARN of the ECS container instance (EC2 launch type).',
  ),
  flowLog('ecs-container-instance-id', 7, { type: 'string' }, 'Id of the ECS container instance.'),
  flowLog('ecs-container-id', 7, { type: 'string' }, "Docker runtime id of the task's first container."),
  flowLog(
    'ecs-second-container-id',
    7,
    { type: 'string' },
    "Docker runtime id of the task's second container.",
  ),
  flowLog('ecs-service-name', 7, { type: 'string' }, 'Name of the ECS service the task belongs to.'),
  flowLog('ecs-task-definition-arn', 7, { type: 'string' }, 'ARN of the ECS task definition.'),
  flowLog('ecs-task-arn', 7, { type: 'string' }, 'ARN of the ECS task.'),
  flowLog('ecs-task-id', 7, { type: 'string' }, 'Id of the ECS task.'),
  flowLog(
    'reject-reason',
    8,
    { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    'Why traffic was rejected (e.g. BPA for VPC Block Public Access).',
  ),
  flowLog(
    'resource-id',
    9,
    { type: 'string' },
    'Id of the resource the record is about (e.g. a NAT gateway).',
  ),
  flowLog(
    'encryption-status',
    10,
    { type: 'integer', minimum: 0, maximum: 3 },
    '0 not encrypted, 1 Nitro-encrypted, 2 application-encrypted, 3 both (VPC Encryption Controls).',
  ),
  flowLog('interface-type', 11, { type: 'string' }, 'Type of the network interface.'),
  flowLog('next-hop-interface-id', 11, { type: 'string' }, 'Network interface of the next hop.'),
  flowLog('next-hop-interface-type', 11, { type: 'string' }, "Type of the next hop's interface."),
  flowLog('next-hop-subnet-id', 11, { type: 'string' }, 'Subnet of the next hop.'),
  flowLog('next-hop-vpc-id', 11, { type: 'string' }, 'VPC of the next hop.'),
  flowLog('next-hop-az-id', 11, { type: 'string' }, 'Availability Zone id of the next hop.'),
  flowLog('instance-tag', 11, { type: 'string' }, 'Tag of the instance, as the flow log records it.'),
  flowLog(
    'interface-tag',
    11,
    { type: 'string' },
    'Tag of the network interface, as the flow log records it.',
  ),
  flowLog('asg-tag', 11, { type: 'string' }, 'Tag of the Auto Scaling group, as the flow log records it.'),
  transitGateway(
    'resource-type',
    { enum: ['TransitGateway', 'TransitGatewayAttachment'] },
    'Transit Gateway flow logs: the kind of resource the flow log is for (TransitGateway or TransitGatewayAttachment).',
  ),
  transitGateway(
    'tgw-id',
    id('tgw'),
    'Transit Gateway flow logs: the transit gateway the traffic is recorded for.',
  ),
  transitGateway(
    'tgw-attachment-id',
    id('tgw-attach'),
    'Transit Gateway flow logs: the attachment the traffic is recorded for.',
  ),
  transitGateway(
    'tgw-src-vpc-account-id',
    ACCOUNT_ID,
    'Transit Gateway flow logs: account of the source VPC (none when the source is a VPN or Direct Connect attachment).',
  ),
  transitGateway(
    'tgw-dst-vpc-account-id',
    ACCOUNT_ID,
    'Transit Gateway flow logs: account of the destination VPC.',
  ),
  transitGateway('tgw-src-vpc-id', id('vpc'), 'Transit Gateway flow logs: the source VPC.'),
  transitGateway('tgw-dst-vpc-id', id('vpc'), 'Transit Gateway flow logs: the destination VPC.'),
  transitGateway(
    'tgw-src-subnet-id',
    id('subnet'),
    "Transit Gateway flow logs: subnet of the source attachment's interface.",
  ),
  transitGateway(
    'tgw-dst-subnet-id',
    id('subnet'),
    "Transit Gateway flow logs: subnet of the destination attachment's interface.",
  ),
  transitGateway(
    'tgw-src-eni',
    id('eni'),
    "Transit Gateway flow logs: the source attachment's network interface (in the source VPC).",
  ),
  transitGateway(
    'tgw-dst-eni',
    id('eni'),
    "Transit Gateway flow logs: the destination attachment's network interface (in the destination VPC).",
  ),
  transitGateway('tgw-src-az-id', AZ_ID, 'Transit Gateway flow logs: Availability Zone id of the source.'),
  transitGateway(
    'tgw-dst-az-id',
    AZ_ID,
    'Transit Gateway flow logs: Availability Zone id of the destination.',
  ),
  transitGateway(
    'tgw-pair-attachment-id',
    id('tgw-attach'),
    'Transit Gateway flow logs: the other attachment of the flow (egress or ingress, depending on flow-direction).',
  ),
  transitGateway(
    'packets-lost-no-route',
    LOST,
    'Transit Gateway flow logs: packets dropped for want of a route.',
    {
      bigint: true,
    },
  ),
  transitGateway(
    'packets-lost-blackhole',
    LOST,
    'Transit Gateway flow logs: packets dropped by a blackhole route.',
    { bigint: true },
  ),
  transitGateway(
    'packets-lost-mtu-exceeded',
    LOST,
    "Transit Gateway flow logs: packets dropped for exceeding the attachment's MTU.",
    { bigint: true },
  ),
  transitGateway(
    'packets-lost-ttl-expired',
    LOST,
    'Transit Gateway flow logs: packets dropped because their TTL expired.',
    { bigint: true },
  ),
  added(
    'community_id',
    'flow',
    { type: 'string', pattern: '^1:[A-Za-z0-9+/]{27}=$' },
    'Community ID v1 (seed 0) of the flow, from srcaddr, dstaddr, protocol and ports as logged: the key Zeek, Suricata and Elastic use for the same flow. Absent without addresses (NODATA, SKIPDATA).',
  ),
  added(
    'enrichment_status',
    'enrichment',
    { enum: ['ok', 'not_found', 'unavailable', 'skipped'] },
    'Outcome of the interface lookup: ok, not_found, unavailable (lookup failed or out of time), skipped (no interface id); for Transit Gateway lines, of the tgw-src-eni and tgw-dst-eni lookups together (the worst of the two); absent with ENRICHMENT=off.',
  ),
  added(
    'eni_type',
    'enrichment',
    { type: 'string', pattern: '^[a-z0-9_]{1,64}$' },
    'EC2 InterfaceType of the interface, lower case (interface, nat_gateway, lambda, vpc_endpoint …).',
  ),
  added(
    'eni_service',
    'enrichment',
    { type: 'string', pattern: '^[A-Z0-9_]{1,64}$' },
    'AWS service that owns the interface (EC2, ELB, NAT_GATEWAY, LAMBDA, RDS, VPC_ENDPOINT …).',
  ),
  added(
    'eni_tags',
    'enrichment',
    { type: 'object', additionalProperties: { type: 'string' } },
    "Allow-listed tags of the interface, the attached instance's merged in (interface tags win).",
  ),
  added(
    'security_group_ids',
    'enrichment',
    { type: 'array', items: { type: 'string', pattern: '^sg-[0-9a-f]{8,17}$' } },
    'Security groups of the interface.',
  ),
  added(
    'subnet_tier',
    'enrichment',
    { type: 'string', pattern: '^[a-z0-9_-]{1,64}$' },
    "Tier of the interface's subnet: its tier tag, else public/private/isolated from its routes.",
  ),
  added('subnet_name', 'enrichment', { type: 'string' }, "Name tag of the interface's subnet."),
  added('vpc_name', 'enrichment', { type: 'string' }, "Name tag of the interface's VPC."),
  added(
    'src_vpc_name',
    'enrichment',
    { type: 'string' },
    'Transit Gateway flow logs: Name tag of the source VPC (from tgw-src-eni through the inventory).',
  ),
  added(
    'src_subnet_name',
    'enrichment',
    { type: 'string' },
    "Transit Gateway flow logs: Name tag of the source attachment's subnet.",
  ),
  added(
    'src_subnet_tier',
    'enrichment',
    { type: 'string', pattern: '^[a-z0-9_-]{1,64}$' },
    "Transit Gateway flow logs: tier of the source attachment's subnet (its tier tag, else from its routes).",
  ),
  added(
    'dst_vpc_name',
    'enrichment',
    { type: 'string' },
    'Transit Gateway flow logs: Name tag of the destination VPC (from tgw-dst-eni through the inventory).',
  ),
  added(
    'dst_subnet_name',
    'enrichment',
    { type: 'string' },
    "Transit Gateway flow logs: Name tag of the destination attachment's subnet.",
  ),
  added(
    'dst_subnet_tier',
    'enrichment',
    { type: 'string', pattern: '^[a-z0-9_-]{1,64}$' },
    "Transit Gateway flow logs: tier of the destination attachment's subnet (its tier tag, else from its routes).",
  ),
  added(
    'src_aws_service',
    'enrichment',
    { type: 'string', pattern: '^[A-Z0-9_]{1,64}$' },
    "AWS service behind srcaddr (the log's own pkt-src-aws-service, else AWS's ip-ranges).",
  ),
  added(
    'dst_aws_service',
    'enrichment',
    { type: 'string', pattern: '^[A-Z0-9_]{1,64}$' },
    "AWS service behind dstaddr (the log's own pkt-dst-aws-service, else AWS's ip-ranges).",
  ),
  added(
    'src_aws_region',
    'enrichment',
    { type: 'string', pattern: '^(?:[a-z]{2,6}(?:-[a-z]+)+-[0-9]{1,2}|GLOBAL)$' },
    "AWS region (or GLOBAL) of srcaddr when it is the remote side and in AWS's published ranges: cross-region traffic costs money.",
  ),
  added(
    'dst_aws_region',
    'enrichment',
    { type: 'string', pattern: '^(?:[a-z]{2,6}(?:-[a-z]+)+-[0-9]{1,2}|GLOBAL)$' },
    "AWS region (or GLOBAL) of dstaddr when it is the remote side and in AWS's published ranges.",
  ),
  added(
    'peer_scope',
    'enrichment',
    { enum: ['internal', 'external'] },
    "Whether the remote address is internal (private ranges, the VPC's CIDRs, INTERNAL_CIDRS) or external.",
  ),
  added(
    'peer_asn',
    'enrichment',
    { type: 'integer', minimum: 0, maximum: 4294967295 },
    'Autonomous system of the remote address, when it is external and not AWS (RouteViews + DB-IP data, dated in the README).',
    { bigint: true },
  ),
  added(
    'peer_as_org',
    'enrichment',
    { type: 'string' },
    'Organisation of that autonomous system, as the ASN database names it.',
  ),
  added(
    'peer_country',
    'enrichment',
    { type: 'string', pattern: '^[A-Z]{2}$' },
    'Country of the remote address (ISO 3166-1 alpha-2), when it is external and not AWS.',
  ),
  added(
    'flags',
    'detection',
    { type: 'array', items: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' } },
    'Ids of the detection rules the flow matched (see the rule table).',
  ),
  added(
    'severity',
    'detection',
    { enum: ['none', 'info', 'warning', 'critical'] },
    'Highest severity among the flags: none, info, warning or critical.',
  ),
];

/** Columns by name. */
export const COLUMN: ReadonlyMap<string, Column> = new Map(COLUMNS.map((c) => [c.name, c]));

/** The columns this function adds (not flow-log fields): a new AWS field may not take one of these names. */
export const ADDED_KEYS: ReadonlySet<string> = new Set(
  COLUMNS.filter((c) => c.awsName === undefined).map((c) => c.name),
);
