import type { RawInstance, RawNetworkInterface, RawRouteTable, RawSubnet, RawVpc, Tag } from './ports.js';
import type { EniInfo } from './types.js';

/** InterfaceType → owning service, for the types that say it outright. */
const SERVICE_BY_TYPE: Readonly<Record<string, string>> = {
  nat_gateway: 'NAT_GATEWAY',
  natGateway: 'NAT_GATEWAY',
  network_load_balancer: 'ELB',
  gateway_load_balancer: 'ELB',
  load_balancer: 'ELB',
  vpc_endpoint: 'VPC_ENDPOINT',
  gateway_load_balancer_endpoint: 'VPC_ENDPOINT',
  lambda: 'LAMBDA',
  transit_gateway: 'TRANSIT_GATEWAY',
  api_gateway_managed: 'API_GATEWAY',
  global_accelerator_managed: 'GLOBAL_ACCELERATOR',
  quicksight: 'QUICKSIGHT',
  ec2_instance_connect_endpoint: 'EC2_INSTANCE_CONNECT',
  iot_rules_managed: 'IOT',
  aws_codestar_connections_managed: 'CODESTAR_CONNECTIONS',
  branch: 'ECS',
  trunk: 'ECS',
};

/**
 * For InterfaceType `interface`, the owner shows in the Description AWS writes (or the RequesterId):
 * first match wins. The README's mapping table is this table.
 */
export const SERVICE_BY_DESCRIPTION: ReadonlyArray<readonly [RegExp, string]> = [
  [/^ELB /, 'ELB'],
  [/^RDSNetworkInterface/, 'RDS'],
  [/^AWS Lambda VPC ENI/, 'LAMBDA'],
  [/^EFS mount target/, 'EFS'],
  [/^arn:aws[a-z-]*:ecs:/, 'ECS'],
  [/^Amazon EKS /, 'EKS'],
  [/^aws-K8S-/, 'EKS'],
  [/^VPC Endpoint Interface/, 'VPC_ENDPOINT'],
  [/^Interface for NAT Gateway/, 'NAT_GATEWAY'],
  [/^Network Interface for Transit Gateway Attachment/, 'TRANSIT_GATEWAY'],
  [/^ElastiCache/, 'ELASTICACHE'],
  [/^DMSNetworkInterface/, 'DMS'],
  [/^Redshift/i, 'REDSHIFT'],
  [/^ES /, 'OPENSEARCH'],
  [/^AWS created network interface for directory/, 'DIRECTORY_SERVICE'],
  [/^AWS Glue/i, 'GLUE'],
  [/^Amazon MSK|^MSK /, 'MSK'],
];

const SERVICE_BY_REQUESTER: Readonly<Record<string, string>> = {
  'amazon-elb': 'ELB',
  'amazon-rds': 'RDS',
  'amazon-elasticache': 'ELASTICACHE',
  'amazon-redshift': 'REDSHIFT',
};

/** The AWS service that owns an interface: InterfaceType, then Description, RequesterId, attachment. */
export function eniService(eni: RawNetworkInterface): string {
  const byType = eni.InterfaceType ? SERVICE_BY_TYPE[eni.InterfaceType] : undefined;
  if (byType) return byType;
  const description = eni.Description ?? '';
  for (const [pattern, service] of SERVICE_BY_DESCRIPTION) if (pattern.test(description)) return service;
  const byRequester = eni.RequesterId ? SERVICE_BY_REQUESTER[eni.RequesterId] : undefined;
  if (byRequester) return byRequester;
  if (eni.RequesterManaged) return 'AWS_MANAGED';
  return 'EC2';
}

/** Lower-case `eni_type` from InterfaceType (`natGateway` in older API output becomes `nat_gateway`). */
export function eniType(eni: RawNetworkInterface): string | undefined {
  const type = eni.InterfaceType;
  if (!type) return undefined;
  return type.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

export function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  for (const tag of tags ?? []) if (tag.Key === key) return tag.Value;
  return undefined;
}

/** Allow-listed tags; `*` keeps all but AWS's reserved `aws:` ones. Instance tags merged under ENI tags. */
export function selectTags(
  eniTags: readonly Tag[] | undefined,
  instanceTags: readonly Tag[] | undefined,
  allow: readonly string[],
): Record<string, string> | undefined {
  const all = allow.includes('*');
  const keep = new Set(allow);
  const out: Record<string, string> = {};
  for (const tags of [instanceTags, eniTags]) {
    for (const tag of tags ?? []) {
      if (tag.Key === undefined || tag.Value === undefined) continue;
      if (all ? tag.Key.startsWith('aws:') : !keep.has(tag.Key)) continue;
      out[tag.Key] = tag.Value;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * A subnet's tier: its tier tag (lower case), else from its route table — its explicit association, else
 * the VPC's main table: `public` with a default route to an internet gateway, `private` with a default
 * route anywhere else (NAT gateway, instance, transit gateway, firewall or GWLB endpoint, egress-only
 * internet gateway …), `isolated` with none.
 */
export function subnetTier(
  subnet: RawSubnet,
  routeTables: readonly RawRouteTable[],
  tierTagKey: string,
): string | undefined {
  const tagged = tagValue(subnet.Tags, tierTagKey);
  if (tagged) return tagged.toLowerCase();
  const table =
    routeTables.find((t) => t.Associations?.some((a) => a.SubnetId === subnet.SubnetId)) ??
    routeTables.find((t) => t.VpcId === subnet.VpcId && t.Associations?.some((a) => a.Main));
  if (!table) return undefined;
  let tier = 'isolated';
  for (const route of table.Routes ?? []) {
    if (route.State === 'blackhole') continue;
    if (route.DestinationCidrBlock !== '0.0.0.0/0' && route.DestinationIpv6CidrBlock !== '::/0') continue;
    if (route.GatewayId?.startsWith('igw-')) return 'public';
    tier = 'private';
  }
  return tier;
}

export interface ResolveOptions {
  readonly tagKeys: readonly string[];
  readonly tierTagKey: string;
}

/** Everything enrichment says about one interface, from the describe outputs that concern it. */
export function resolveEni(
  eni: RawNetworkInterface,
  parts: {
    readonly subnet?: RawSubnet | undefined;
    readonly vpc?: RawVpc | undefined;
    readonly routeTables?: readonly RawRouteTable[] | undefined;
    readonly instance?: RawInstance | undefined;
  },
  options: ResolveOptions,
): EniInfo {
  const { subnet, vpc, instance } = parts;
  const addresses: string[] = [];
  if (eni.PrivateIpAddress) addresses.push(eni.PrivateIpAddress);
  for (const p of eni.PrivateIpAddresses ?? []) {
    if (p.PrivateIpAddress && !addresses.includes(p.PrivateIpAddress)) addresses.push(p.PrivateIpAddress);
    if (p.Association?.PublicIp && !addresses.includes(p.Association.PublicIp))
      addresses.push(p.Association.PublicIp);
  }
  if (eni.Association?.PublicIp && !addresses.includes(eni.Association.PublicIp))
    addresses.push(eni.Association.PublicIp);
  for (const a of eni.Ipv6Addresses ?? []) if (a.Ipv6Address) addresses.push(a.Ipv6Address);
  const vpcCidrs = [
    vpc?.CidrBlock,
    ...(vpc?.CidrBlockAssociationSet ?? []).map((a) => a.CidrBlock),
    ...(vpc?.Ipv6CidrBlockAssociationSet ?? []).map((a) => a.Ipv6CidrBlock),
  ].filter((c, i, all): c is string => typeof c === 'string' && all.indexOf(c) === i);
  const info: {
    -readonly [K in keyof EniInfo]: EniInfo[K];
  } = { interfaceId: eni.NetworkInterfaceId ?? '' };
  const set = <K extends keyof EniInfo>(key: K, value: EniInfo[K] | undefined) => {
    if (value !== undefined && value !== '') info[key] = value;
  };
  set('ownerId', eni.OwnerId);
  set('eniType', eniType(eni));
  set('eniService', eniService(eni));
  set('tags', selectTags(eni.TagSet, instance?.Tags, options.tagKeys));
  set('allTags', selectTags(eni.TagSet, instance?.Tags, ['*']));
  const groups = (eni.Groups ?? []).map((g) => g.GroupId).filter((g): g is string => typeof g === 'string');
  if (groups.length > 0) info.securityGroupIds = groups;
  set('instanceId', eni.Attachment?.InstanceId);
  set('subnetId', eni.SubnetId ?? subnet?.SubnetId);
  set('vpcId', eni.VpcId ?? vpc?.VpcId ?? subnet?.VpcId);
  set('azId', subnet?.AvailabilityZoneId);
  if (subnet) set('subnetTier', subnetTier(subnet, parts.routeTables ?? [], options.tierTagKey));
  set('subnetName', tagValue(subnet?.Tags, 'Name'));
  set('vpcName', tagValue(vpc?.Tags, 'Name'));
  if (addresses.length > 0) info.addresses = addresses;
  if (vpcCidrs.length > 0) info.vpcCidrs = vpcCidrs;
  return info;
}
