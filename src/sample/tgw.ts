import type { InventoryDocument, RawNetworkInterface, RawSubnet } from '../enrich/ports.js';
import { type AttackKind, type GeneratedFlow, random, type Sample } from './generate.js';

/**
 * Deterministic synthetic Transit Gateway flow logs for a hub-and-spoke network: a transit gateway owned by
 * the network account, three VPCs attached to it (shared services in the network account, prod and dev in
 * their own accounts), and an on-premises range behind a VPN attachment. The transit gateway's route
 * table blackholes dev → prod, so dev's attempts to reach prod are dropped (`packets-lost-blackhole`).
 * Every delivered flow is logged twice, as AWS does: where it entered the transit gateway (ingress, at the
 * source attachment) and where it left (egress, at the destination attachment). Also injected: a port
 * scan from on premises into shared services, and a large transfer from prod to on premises.
 */

export const TGW_HUB_ACCOUNT = '111111111111';
export const TGW_REGION = 'us-east-1';
const TGW_ID = 'tgw-0a1b2c3d4e5f60789';

/** The attacks of this sample (a subset of the three-tier sample's kinds). */
export type TgwAttackKind = Extract<AttackKind, 'port_scan' | 'large_transfer_out'>;

/** The on-premises address that scans shared services through the VPN. */
export const TGW_SCANNER = '172.16.9.9';

interface Site {
  readonly name: string;
  readonly account: string | null;
  readonly vpc: string | null;
  readonly attachment: string;
  /** The attachment's interfaces (one per Availability Zone), with their subnet; none for the VPN. */
  readonly enis: readonly { readonly eni: string; readonly subnet: string; readonly az: string }[];
  readonly hosts: readonly string[];
}

const hex = (n: number) => n.toString(16).padStart(16, '0');
const SITES = {
  shared: {
    name: 'shared-services',
    account: TGW_HUB_ACCOUNT,
    vpc: `vpc-0${hex(0x51)}`,
    attachment: `tgw-attach-0${hex(0x51)}`,
    enis: [
      { eni: `eni-0${hex(0x5101)}`, subnet: `subnet-0${hex(0x5101)}`, az: 'use1-az1' },
      { eni: `eni-0${hex(0x5102)}`, subnet: `subnet-0${hex(0x5102)}`, az: 'use1-az2' },
    ],
    hosts: ['10.1.1.10', '10.1.1.11', '10.1.2.20'],
  },
  prod: {
    name: 'prod',
    account: '222222222222',
    vpc: `vpc-0${hex(0x52)}`,
    attachment: `tgw-attach-0${hex(0x52)}`,
    enis: [
      { eni: `eni-0${hex(0x5201)}`, subnet: `subnet-0${hex(0x5201)}`, az: 'use1-az1' },
      { eni: `eni-0${hex(0x5202)}`, subnet: `subnet-0${hex(0x5202)}`, az: 'use1-az2' },
    ],
    hosts: ['10.2.1.21', '10.2.1.22', '10.2.2.31'],
  },
  dev: {
    name: 'dev',
    account: '333333333333',
    vpc: `vpc-0${hex(0x53)}`,
    attachment: `tgw-attach-0${hex(0x53)}`,
    enis: [{ eni: `eni-0${hex(0x5301)}`, subnet: `subnet-0${hex(0x5301)}`, az: 'use1-az1' }],
    hosts: ['10.3.1.41', '10.3.1.42'],
  },
  onPremises: {
    name: 'on-premises',
    account: null,
    vpc: null,
    attachment: `tgw-attach-0${hex(0x5f)}`,
    enis: [],
    hosts: ['172.16.1.5', '172.16.1.6', '172.16.2.7'],
  },
} as const satisfies Record<string, Site>;

/** Subnet names and tiers of the attachments' interfaces (the inventory's Name and Tier tags). */
const SUBNET_TAGS: Readonly<Record<string, { name: string; tier: string; cidr: string }>> = {
  [SITES.shared.enis[0].subnet]: { name: 'shared-tools-a', tier: 'tools', cidr: '10.1.1.0/24' },
  [SITES.shared.enis[1].subnet]: { name: 'shared-dns-b', tier: 'dns', cidr: '10.1.2.0/24' },
  [SITES.prod.enis[0].subnet]: { name: 'prod-app-a', tier: 'app', cidr: '10.2.1.0/24' },
  [SITES.prod.enis[1].subnet]: { name: 'prod-data-b', tier: 'database', cidr: '10.2.2.0/24' },
  [SITES.dev.enis[0].subnet]: { name: 'dev-app-a', tier: 'app', cidr: '10.3.1.0/24' },
};

export interface TgwGenerateOptions {
  readonly minutes: number;
  readonly seed: number;
  /** First minute, epoch seconds (default 2026-11-23T10:00:00Z, as the three-tier sample). */
  readonly startSeconds?: number;
  /** Connections per minute across the transit gateway (default 20). */
  readonly connectionsPerMinute?: number;
}

/** Builds the hub-and-spoke traffic minute by minute, and its inventory. */
export function generateTgwSample(options: TgwGenerateOptions): Sample {
  const rand = random(options.seed);
  const start = options.startSeconds ?? Date.UTC(2026, 10, 23, 10, 0, 0) / 1000;
  const perMinute = options.connectionsPerMinute ?? 20;
  const flows: GeneratedFlow[] = [];
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const ephemeral = () => 32768 + Math.floor(rand() * 28000);
  const side = (site: Site, address: string) => {
    // The attachment interface of the host's Availability Zone: subnet x.y.1.0 → the first AZ.
    const eni =
      site.enis.length === 0
        ? undefined
        : site.enis[address.split('.')[2] === '1' ? 0 : site.enis.length - 1];
    return { site, eni };
  };

  /** One packet flow through the transit gateway, logged at the attachment(s) it crossed. */
  const flow = (
    minute: number,
    from: Site,
    src: string,
    to: Site,
    dst: string,
    ports: { src: number; dst: number; protocol?: number },
    size: { packets: number; bytes: number },
    extra: { flags?: number; attack?: TgwAttackKind; blackhole?: boolean; mtu?: number } = {},
  ) => {
    const t = start + minute * 60 + Math.floor(rand() * 20);
    const s = side(from, src);
    const d = side(to, dst);
    const dropped = extra.blackhole === true;
    const common = {
      version: 6,
      'resource-type': 'TransitGateway',
      'account-id': TGW_HUB_ACCOUNT,
      'tgw-id': TGW_ID,
      'tgw-src-vpc-account-id': from.account,
      'tgw-dst-vpc-account-id': dropped ? null : to.account,
      'tgw-src-vpc-id': from.vpc,
      'tgw-dst-vpc-id': dropped ? null : to.vpc,
      'tgw-src-subnet-id': s.eni?.subnet ?? null,
      'tgw-dst-subnet-id': dropped ? null : (d.eni?.subnet ?? null),
      'tgw-src-eni': s.eni?.eni ?? null,
      'tgw-dst-eni': dropped ? null : (d.eni?.eni ?? null),
      'tgw-src-az-id': s.eni?.az ?? null,
      'tgw-dst-az-id': dropped ? null : (d.eni?.az ?? null),
      srcaddr: src,
      dstaddr: dst,
      srcport: ports.src,
      dstport: ports.dst,
      protocol: ports.protocol ?? 6,
      packets: size.packets,
      bytes: size.bytes,
      start: t,
      end: t + 60,
      'log-status': 'OK',
      type: 'IPv4',
      'packets-lost-no-route': 0,
      'packets-lost-blackhole': dropped ? size.packets : 0,
      'packets-lost-mtu-exceeded': extra.mtu ?? 0,
      'packets-lost-ttl-expired': 0,
      'tcp-flags': (ports.protocol ?? 6) === 6 ? (extra.flags ?? 3) : null,
      region: TGW_REGION,
      'pkt-src-aws-service': null,
      'pkt-dst-aws-service': null,
    };
    const attack = extra.attack ? { attack: extra.attack } : {};
    flows.push({
      fields: {
        ...common,
        'tgw-attachment-id': from.attachment,
        'tgw-pair-attachment-id': dropped ? null : to.attachment,
        'flow-direction': 'ingress',
      },
      ...attack,
    });
    if (dropped) return;
    flows.push({
      fields: {
        ...common,
        'tgw-attachment-id': to.attachment,
        'tgw-pair-attachment-id': from.attachment,
        'flow-direction': 'egress',
      },
      ...attack,
    });
  };

  /** A connection: the request and the reply, each a flow through the transit gateway. */
  const connect = (
    minute: number,
    from: Site,
    to: Site,
    dstport: number,
    bytes: { up: number; down: number },
    protocol = 6,
    attack?: TgwAttackKind,
  ) => {
    const src = pick(from.hosts);
    const dst = pick(to.hosts);
    const srcport = ephemeral();
    const up = { packets: Math.max(1, Math.ceil(bytes.up / 1200)), bytes: bytes.up };
    const down = { packets: Math.max(1, Math.ceil(bytes.down / 1200)), bytes: bytes.down };
    flow(minute, from, src, to, dst, { src: srcport, dst: dstport, protocol }, up, attack ? { attack } : {});
    flow(minute, to, dst, from, src, { src: dstport, dst: srcport, protocol }, down, { flags: 19 });
  };

  const { shared, prod, dev, onPremises } = SITES;
  for (let minute = 0; minute < options.minutes; minute++) {
    for (let c = 0; c < perMinute; c++) {
      const r = rand();
      const size = { up: 300 + Math.floor(rand() * 2000), down: 1000 + Math.floor(rand() * 60000) };
      if (r < 0.3) connect(minute, prod, shared, pick([443, 389, 8443]), size);
      else if (r < 0.45) connect(minute, dev, shared, 443, size);
      else if (r < 0.65) connect(minute, onPremises, prod, pick([443, 1521]), size);
      else if (r < 0.8) connect(minute, prod, onPremises, 443, size);
      else if (r < 0.9) connect(minute, shared, prod, 9100, { up: 200, down: 4000 });
      else connect(minute, dev, shared, 53, { up: 80, down: 200 }, 17);
    }
    // dev → prod is blackholed by the transit gateway's route table: dropped at the dev attachment.
    if (minute % 2 === 0) {
      flow(
        minute,
        dev,
        pick(dev.hosts),
        prod,
        pick(prod.hosts),
        { src: ephemeral(), dst: 5432 },
        { packets: 24, bytes: 1440 },
        { blackhole: true },
      );
    }
    // Jumbo frames over the VPN: a few packets over the attachment's MTU.
    if (minute % 5 === 1) {
      flow(
        minute,
        prod,
        pick(prod.hosts),
        onPremises,
        pick(onPremises.hosts),
        { src: ephemeral(), dst: 443 },
        { packets: 40, bytes: 48000 },
        { mtu: 3 },
      );
    }
  }
  // An on-premises host scans shared services through the VPN: 30 ports, no replies.
  const scanMinute = Math.min(3, Math.max(0, options.minutes - 1));
  const target = shared.hosts[0];
  for (let port = 1; port <= 30; port++) {
    flow(
      scanMinute,
      onPremises,
      TGW_SCANNER,
      shared,
      target,
      { src: 40000 + port, dst: 1000 + port },
      { packets: 1, bytes: 60 },
      { flags: 2, attack: 'port_scan' },
    );
  }
  // prod sends 1.5 GB to on premises in one flow.
  connect(
    Math.min(5, Math.max(0, options.minutes - 1)),
    prod,
    onPremises,
    22,
    { up: 1_500_000_000, down: 40_000 },
    6,
    'large_transfer_out',
  );
  return { flows, inventory: tgwInventory() };
}

/** The spokes' VPCs, the attachments' subnets and interfaces: `aws ec2 describe-*` of each account, merged. */
function tgwInventory(): InventoryDocument {
  const tags = (entries: Record<string, string>) =>
    Object.entries(entries).map(([Key, Value]) => ({ Key, Value }));
  const vpcs = [SITES.shared, SITES.prod, SITES.dev].map((site, i) => ({
    VpcId: site.vpc,
    OwnerId: site.account,
    CidrBlock: `10.${i + 1}.0.0/16`,
    CidrBlockAssociationSet: [{ CidrBlock: `10.${i + 1}.0.0/16` }],
    Tags: tags({ Name: site.name }),
  }));
  const subnets: RawSubnet[] = [];
  const enis: RawNetworkInterface[] = [];
  for (const site of [SITES.shared, SITES.prod, SITES.dev]) {
    for (const { eni, subnet, az } of site.enis) {
      const meta = SUBNET_TAGS[subnet] as { name: string; tier: string; cidr: string };
      subnets.push({
        SubnetId: subnet,
        VpcId: site.vpc,
        CidrBlock: meta.cidr,
        AvailabilityZoneId: az,
        Tags: tags({ Name: meta.name, Tier: meta.tier }),
      });
      enis.push({
        NetworkInterfaceId: eni,
        InterfaceType: 'transit_gateway',
        Description: `Network Interface for Transit Gateway Attachment ${site.attachment}`,
        RequesterManaged: true,
        OwnerId: site.account,
        SubnetId: subnet,
        VpcId: site.vpc,
        AvailabilityZone: az === 'use1-az1' ? 'us-east-1a' : 'us-east-1b',
        PrivateIpAddress: meta.cidr.replace('0/24', '250'),
        PrivateIpAddresses: [{ PrivateIpAddress: meta.cidr.replace('0/24', '250') }],
        TagSet: [],
      });
    }
  }
  return {
    Vpcs: vpcs,
    Subnets: subnets,
    NetworkInterfaces: enis,
    RouteTables: [SITES.shared, SITES.prod, SITES.dev].map((site, i) => ({
      RouteTableId: `rtb-0${hex(0x60 + i)}`,
      VpcId: site.vpc,
      Associations: [{ Main: true }],
      Routes: [
        { DestinationCidrBlock: `10.${i + 1}.0.0/16`, GatewayId: 'local', State: 'active' },
        { DestinationCidrBlock: '10.0.0.0/8', TransitGatewayId: TGW_ID, State: 'active' },
        { DestinationCidrBlock: '172.16.0.0/12', TransitGatewayId: TGW_ID, State: 'active' },
      ],
    })),
  };
}
