import { COLUMNS } from '../columns.js';

/**
 * Every field AWS documents for VPC Flow Logs: AWS field name → how the reader converts it. Derived from
 * the column table (`src/columns.ts`), which also holds each value's constraints.
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
  /** Only Transit Gateway flow logs have it. */
  readonly transitGateway: boolean;
}

export function toKey(name: string): string {
  return name.replaceAll('-', '_');
}

export const FIELDS: ReadonlyMap<string, FieldDefinition> = new Map(
  COLUMNS.filter((column) => column.awsName !== undefined).map((column) => {
    const name = column.awsName as string;
    const kind: FieldKind = column.schema.type === 'integer' ? 'int' : column.unescaped ? 'safe' : 'text';
    return [
      name,
      Object.freeze({
        name,
        key: column.name,
        kind,
        glue: column.glue as GlueType,
        since: column.group as number,
        transitGateway: column.transitGateway === true,
      }),
    ];
  }),
);

/** The default format (version 2), as `aws ec2 create-flow-logs` uses when no format is given. */
export const DEFAULT_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

/**
 * AWS's default format for Transit Gateway flow logs (`aws ec2 create-flow-logs --resource-type
 * TransitGateway` without `--log-format`): every Transit Gateway field, in the order AWS lists them.
 * https://docs.aws.amazon.com/vpc/latest/tgw/tgw-flow-logs.html#flow-log-records
 */
export const TGW_DEFAULT_FORMAT =
  '${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${tgw-src-vpc-account-id} ${tgw-dst-vpc-account-id} ${tgw-src-vpc-id} ${tgw-dst-vpc-id} ${tgw-src-subnet-id} ${tgw-dst-subnet-id} ${tgw-src-eni} ${tgw-dst-eni} ${tgw-src-az-id} ${tgw-dst-az-id} ${tgw-pair-attachment-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${type} ${packets-lost-no-route} ${packets-lost-blackhole} ${packets-lost-mtu-exceeded} ${packets-lost-ttl-expired} ${tcp-flags} ${region} ${flow-direction} ${pkt-src-aws-service} ${pkt-dst-aws-service}';

/** Whether a format has fields only Transit Gateway flow logs have. */
export function isTransitGatewayFormat(format: {
  readonly fields: readonly { readonly name: string }[];
}): boolean {
  return format.fields.some((field) => FIELDS.get(field.name)?.transitGateway === true);
}

/** A VPC format with every field of the table up to a version, in table order (no Transit Gateway field). */
export function formatUpTo(version: number): string {
  return [...FIELDS.values()]
    .filter((field) => field.since <= version && !field.transitGateway)
    .map((field) => `\${${field.name}}`)
    .join(' ');
}

/** A VPC format with every field of the table, in table order (no Transit Gateway field). */
export const ALL_FIELDS_FORMAT = formatUpTo(Number.POSITIVE_INFINITY);

export { ADDED_KEYS } from '../columns.js';
