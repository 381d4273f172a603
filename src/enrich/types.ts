import type { PeerInfo } from './peer.js';

/** What the inventory knows about one network interface, already resolved to subnet and VPC. */
export interface EniInfo {
  readonly interfaceId: string;
  readonly ownerId?: string;
  /** EC2 `InterfaceType`: interface, nat_gateway, lambda, vpc_endpoint, network_load_balancer, … */
  readonly eniType?: string;
  /** Owning AWS service, upper case: EC2, ELB, NAT_GATEWAY, LAMBDA, RDS, VPC_ENDPOINT, … */
  readonly eniService?: string;
  /** Allow-listed tags, the attached instance's merged in (ENI tags win). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Every tag (not written out): suppression rules match on tags the allow-list may leave out. */
  readonly allTags?: Readonly<Record<string, string>>;
  readonly securityGroupIds?: readonly string[];
  readonly instanceId?: string;
  readonly subnetId?: string;
  readonly vpcId?: string;
  readonly azId?: string;
  readonly subnetTier?: string;
  readonly subnetName?: string;
  readonly vpcName?: string;
  /** The ENI's own private and public addresses (IPv4 and IPv6), to infer flow direction. */
  readonly addresses?: readonly string[];
  /** The VPC's CIDR blocks (IPv4 and IPv6): addresses inside them are `internal`. */
  readonly vpcCidrs?: readonly string[];
}

export type EnrichmentStatus = 'ok' | 'not_found' | 'unavailable' | 'skipped';

/** Fields enrichment adds to one flow. `eni` is shared by every flow of the interface. */
export interface Enrichment {
  /** Absent when interface lookups are switched off (ENRICHMENT=off). */
  readonly status: EnrichmentStatus | undefined;
  readonly eni: EniView | undefined;
  readonly src_aws_service: string | undefined;
  readonly dst_aws_service: string | undefined;
  /** The AWS region of the remote address, when it is in AWS's published ranges. */
  readonly src_aws_region: string | undefined;
  readonly dst_aws_region: string | undefined;
  /** The remote peer's AS and country, when it is external and not AWS (and the lookup is on). */
  readonly peer: PeerInfo | undefined;
  /** Only when the log format has no flow-direction of its own: inferred from the ENI's addresses. */
  readonly flow_direction: 'ingress' | 'egress' | undefined;
  readonly peer_scope: 'internal' | 'external' | undefined;
  /** Direction used by detection, from the record's own field or inferred. */
  readonly direction: 'ingress' | 'egress' | undefined;
  /**
   * Transit Gateway lines only: what the inventory says of the attachment's interfaces on either side
   * (`tgw-src-eni`, `tgw-dst-eni`); undefined for every other line.
   */
  readonly tgw?: TransitGatewaySides | undefined;
}

/** Both ends of a Transit Gateway flow, each the view of its attachment's interface when it was found. */
export interface TransitGatewaySides {
  readonly src: EniView | undefined;
  readonly dst: EniView | undefined;
}

/** What enrichment found for one interface: shared by every flow of it (the writer keeps its bytes). */
export interface EniView {
  readonly info: EniInfo;
  /**
   * A number no other view made by this enricher shares: a consumer can cache by it in an array slot, where
   * a `WeakMap` lookup per flow costs several times more. Views made elsewhere (tests) may go without.
   */
  readonly serial?: number;
}

/** Counters one invocation's enrichment reports in its summary and metrics. */
export interface EnrichmentStats {
  cacheHits: number;
  cacheMisses: number;
  lookupCalls: number;
  lookupMs: number;
  /** Lookups that failed or ran out of time (the `Ec2Errors` metric). */
  lookupErrors: number;
  /**
   * The same failures by error name or code (`ThrottlingException`, `AccessDenied`, `TimeoutError`,
   * `MissingRoleError` …), for the summary log. Optional so that hand-written enrichers need not count.
   */
  readonly errors?: Readonly<Record<string, number>>;
}

/** The enrichment of one invocation: lookups are done once, then each flow is enriched synchronously. */
export interface EnrichmentBatch {
  enrich(flow: import('../flowlog/parse.js').Flow): Enrichment | undefined;
  /** Every flow given to `prepare`, in order: the same answers as `enrich`, without a lookup per flow. */
  enrichAll(): (Enrichment | undefined)[];
  readonly stats: EnrichmentStats;
}

export interface Enricher {
  /**
   * Resolves every interface of the batch in one batched round, finishing by `deadline` (epoch ms).
   * Never rejects: lookups that fail or run out of time make those flows `unavailable`.
   */
  prepare(
    flows: readonly import('../flowlog/parse.js').Flow[],
    deadline: number,
    context?: { readonly accountId?: string },
  ): Promise<EnrichmentBatch>;
}
