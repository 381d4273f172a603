/**
 * Every field AWS documents for VPC Flow Logs, in one table: AWS field name → how to read it.
 *
 * Source: "Logging IP traffic using VPC Flow Logs → Flow log records → Available fields"
 * (https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html).
 * The constraints on each value (ranges, patterns, enums) live in `schemas/flow-record.json`;
 * `test/unit/fields.test.ts` keeps the two in step.
 */

/**
 * How a token is converted before validation:
 * - `int`: a JSON number (AWS types INT_32 and INT_64; all fit a double exactly in practice).
 * - `safe`: a string whose schema pattern or enum admits only `[A-Za-z0-9.:_-]`, so it can be
 *   written into JSON without escaping.
 * - `text`: any other string; escaped when serialized.
 */
export type FieldKind = 'int' | 'safe' | 'text';

/** The column type Athena/Glue uses for the field (as in AWS's own flow-log DDL). */
export type GlueType = 'int' | 'bigint' | 'string';

export interface FieldDefinition {
  /** AWS name as written in `--log-format`, e.g. `pkt-src-aws-service`. */
  readonly name: string;
  /** Name in the parsed and emitted record: AWS's name with `-` replaced by `_`. */
  readonly key: string;
  readonly kind: FieldKind;
  readonly glue: GlueType;
  /** Flow-log version that introduced the field. */
  readonly since: number;
}

const table: ReadonlyArray<readonly [name: string, kind: FieldKind, glue: GlueType, since: number]> = [
  // Version 2: the default format.
  ['version', 'int', 'int', 2],
  ['account-id', 'safe', 'string', 2],
  ['interface-id', 'safe', 'string', 2],
  ['srcaddr', 'safe', 'string', 2],
  ['dstaddr', 'safe', 'string', 2],
  ['srcport', 'int', 'int', 2],
  ['dstport', 'int', 'int', 2],
  ['protocol', 'int', 'int', 2],
  ['packets', 'int', 'bigint', 2],
  ['bytes', 'int', 'bigint', 2],
  ['start', 'int', 'bigint', 2],
  ['end', 'int', 'bigint', 2],
  ['action', 'safe', 'string', 2],
  ['log-status', 'safe', 'string', 2],
  // Version 3.
  ['vpc-id', 'safe', 'string', 3],
  ['subnet-id', 'safe', 'string', 3],
  ['instance-id', 'safe', 'string', 3],
  ['tcp-flags', 'int', 'int', 3],
  ['type', 'safe', 'string', 3],
  ['pkt-srcaddr', 'safe', 'string', 3],
  ['pkt-dstaddr', 'safe', 'string', 3],
  // Version 4.
  ['region', 'safe', 'string', 4],
  ['az-id', 'safe', 'string', 4],
  ['sublocation-type', 'safe', 'string', 4],
  ['sublocation-id', 'text', 'string', 4],
  // Version 5.
  ['pkt-src-aws-service', 'safe', 'string', 5],
  ['pkt-dst-aws-service', 'safe', 'string', 5],
  ['flow-direction', 'safe', 'string', 5],
  ['traffic-path', 'int', 'int', 5],
  // Version 7: Amazon ECS.
  ['ecs-cluster-arn', 'text', 'string', 7],
  ['ecs-cluster-name', 'text', 'string', 7],
  ['ecs-container-instance-arn', 'text', 'string', 7],
  ['ecs-container-instance-id', 'text', 'string', 7],
  ['ecs-container-id', 'text', 'string', 7],
  ['ecs-second-container-id', 'text', 'string', 7],
  ['ecs-service-name', 'text', 'string', 7],
  ['ecs-task-definition-arn', 'text', 'string', 7],
  ['ecs-task-arn', 'text', 'string', 7],
  ['ecs-task-id', 'text', 'string', 7],
  // Version 8.
  ['reject-reason', 'safe', 'string', 8],
  // Newer fields. Names and values come from AWS's VPC Encryption Controls page and flow-log announcements;
  // versions as those sources give them. Text, except where AWS lists the values.
  ['resource-id', 'text', 'string', 9],
  ['encryption-status', 'int', 'int', 10],
  ['interface-type', 'text', 'string', 11],
  ['next-hop-interface-id', 'text', 'string', 11],
  ['next-hop-interface-type', 'text', 'string', 11],
  ['next-hop-subnet-id', 'text', 'string', 11],
  ['next-hop-vpc-id', 'text', 'string', 11],
  ['next-hop-az-id', 'text', 'string', 11],
  ['instance-tag', 'text', 'string', 11],
  ['interface-tag', 'text', 'string', 11],
  ['asg-tag', 'text', 'string', 11],
];

export function toKey(name: string): string {
  return name.replaceAll('-', '_');
}

export const FIELDS: ReadonlyMap<string, FieldDefinition> = new Map(
  table.map(([name, kind, glue, since]) => [
    name,
    Object.freeze({ name, key: toKey(name), kind, glue, since }),
  ]),
);

/** The default format (version 2), as `aws ec2 create-flow-logs` uses when no format is given. */
export const DEFAULT_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

/** A format with every field of the table up to a version, in table order. */
export function formatUpTo(version: number): string {
  return [...FIELDS.values()]
    .filter((field) => field.since <= version)
    .map((field) => `\${${field.name}}`)
    .join(' ');
}

/** A format with every field of the table, in table order. */
export const ALL_FIELDS_FORMAT = formatUpTo(Number.POSITIVE_INFINITY);

/**
 * Columns this function adds to every record. A format field AWS adds later passes through under its `_`
 * name, which must not be one of these: a JSON object with a key twice is read differently by each reader.
 */
export const ADDED_KEYS: ReadonlySet<string> = new Set([
  'enrichment_status',
  'eni_type',
  'eni_service',
  'eni_tags',
  'security_group_ids',
  'subnet_tier',
  'subnet_name',
  'vpc_name',
  'src_aws_service',
  'dst_aws_service',
  'peer_scope',
  'flags',
  'severity',
]);
