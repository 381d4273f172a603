/**
 * The inventory port: what enrichment needs from EC2, in the shapes of `aws ec2 describe-*` output
 * (PascalCase, every field optional). The EC2 API adapter and the static-file adapter both implement it;
 * SDK response objects and CLI JSON dumps have the same shape.
 */

export interface Tag {
  readonly Key?: string;
  readonly Value?: string;
}

export interface RawNetworkInterface {
  readonly NetworkInterfaceId?: string;
  readonly InterfaceType?: string;
  readonly Description?: string;
  readonly RequesterId?: string;
  readonly RequesterManaged?: boolean;
  readonly OwnerId?: string;
  readonly SubnetId?: string;
  readonly VpcId?: string;
  readonly AvailabilityZone?: string;
  readonly Groups?: ReadonlyArray<{ readonly GroupId?: string; readonly GroupName?: string }>;
  readonly Attachment?: { readonly InstanceId?: string; readonly InstanceOwnerId?: string };
  readonly PrivateIpAddress?: string;
  readonly PrivateIpAddresses?: ReadonlyArray<{
    readonly PrivateIpAddress?: string;
    readonly Association?: { readonly PublicIp?: string };
  }>;
  readonly Ipv6Addresses?: ReadonlyArray<{ readonly Ipv6Address?: string }>;
  readonly Association?: { readonly PublicIp?: string };
  readonly TagSet?: readonly Tag[];
}

export interface RawSubnet {
  readonly SubnetId?: string;
  readonly VpcId?: string;
  readonly AvailabilityZoneId?: string;
  readonly CidrBlock?: string;
  readonly Ipv6CidrBlockAssociationSet?: ReadonlyArray<{ readonly Ipv6CidrBlock?: string }>;
  readonly Tags?: readonly Tag[];
}

export interface RawVpc {
  readonly VpcId?: string;
  readonly CidrBlock?: string;
  readonly CidrBlockAssociationSet?: ReadonlyArray<{ readonly CidrBlock?: string }>;
  readonly Ipv6CidrBlockAssociationSet?: ReadonlyArray<{ readonly Ipv6CidrBlock?: string }>;
  readonly Tags?: readonly Tag[];
}

export interface RawRoute {
  readonly DestinationCidrBlock?: string;
  readonly DestinationIpv6CidrBlock?: string;
  readonly GatewayId?: string;
  readonly NatGatewayId?: string;
  readonly InstanceId?: string;
  readonly TransitGatewayId?: string;
  readonly NetworkInterfaceId?: string;
  readonly EgressOnlyInternetGatewayId?: string;
  readonly VpcPeeringConnectionId?: string;
  readonly LocalGatewayId?: string;
  readonly CarrierGatewayId?: string;
  readonly CoreNetworkArn?: string;
  readonly State?: string;
}

export interface RawRouteTable {
  readonly RouteTableId?: string;
  readonly VpcId?: string;
  readonly Associations?: ReadonlyArray<{ readonly SubnetId?: string; readonly Main?: boolean }>;
  readonly Routes?: readonly RawRoute[];
}

export interface RawInstance {
  readonly InstanceId?: string;
  readonly Tags?: readonly Tag[];
}

/** The inventory file of the local CLI: `aws ec2 describe-*` outputs merged into one object. */
export interface InventoryDocument {
  readonly NetworkInterfaces?: readonly RawNetworkInterface[];
  readonly Subnets?: readonly RawSubnet[];
  readonly Vpcs?: readonly RawVpc[];
  readonly RouteTables?: readonly RawRouteTable[];
  readonly Reservations?: ReadonlyArray<{ readonly Instances?: readonly RawInstance[] }>;
}

/**
 * Looks things up by id, in one call per kind for many ids. Ids it does not know are simply absent from
 * the answer. It throws (any error) when it cannot answer — throttled, denied, out of time, or an
 * account it has no access to — and enrichment reports those records `unavailable`.
 */
export interface Inventory {
  networkInterfaces(
    accountId: string,
    ids: readonly string[],
    options?: LookupOptions,
  ): Promise<RawNetworkInterface[]>;
  subnets(accountId: string, ids: readonly string[], options?: LookupOptions): Promise<RawSubnet[]>;
  vpcs(accountId: string, ids: readonly string[], options?: LookupOptions): Promise<RawVpc[]>;
  /** Every route table of these VPCs (for main-table fallbacks). */
  routeTables(
    accountId: string,
    vpcIds: readonly string[],
    options?: LookupOptions,
  ): Promise<RawRouteTable[]>;
  instances(accountId: string, ids: readonly string[], options?: LookupOptions): Promise<RawInstance[]>;
}

export interface LookupOptions {
  /**
   * Aborted when the caller gives the lookup up (its deadline passed): an adapter stops its calls then,
   * so a hung or throttled API is not kept busy by lookups nobody waits for.
   */
  readonly signal?: AbortSignal;
  /**
   * Told each failed attempt's error while the lookup goes on (a throttled call being retried), so a
   * caller that stops waiting can say what it was waiting on. Adapters without retries may ignore it.
   */
  readonly onAttemptError?: (error: unknown) => void;
}
