import type { InventoryDocument, RawNetworkInterface, RawRouteTable, RawSubnet } from '../enrich/ports.js';
import type { FormatSpec } from '../flowlog/format.js';

/**
 * Deterministic synthetic flow logs for a classic three-tier VPC (an ALB and a NAT gateway in a public
 * subnet, web / app / database tiers, a Lambda in a private subnet, a batch worker in an isolated one),
 * with both directions of every connection (requests and replies, NAT return traffic) and injected
 * attacks. Used by `npm start`, the tests and the benchmark; `attack` marks the lines an attacker sent
 * (replies to them are ordinary replies).
 */

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
const VPC = 'vpc-0a1b2c3d4e5f60718';

export type AttackKind =
  | 'port_scan'
  | 'ssh_brute_force'
  | 'database_probe'
  | 'large_transfer_out'
  | 'internet_to_database'
  | 'unusual_protocol';

/** The attackers' addresses, so tests and queries can name them. */
export const ATTACKERS: Readonly<Record<AttackKind, string>> = {
  port_scan: '203.0.113.66',
  ssh_brute_force: '198.51.100.23',
  database_probe: '203.0.113.99',
  large_transfer_out: '192.0.2.200',
  internet_to_database: '198.51.100.77',
  unusual_protocol: '198.51.100.90',
};

export interface GeneratedFlow {
  readonly fields: Readonly<Record<string, string | number | null>>;
  /** Set on the lines an attack produced; benign lines have none. */
  readonly attack?: AttackKind;
}

export interface Sample {
  readonly flows: GeneratedFlow[];
  readonly inventory: InventoryDocument;
}

export interface GenerateOptions {
  readonly minutes: number;
  readonly seed: number;
  /** First minute, epoch seconds (default 2026-11-23T10:00:00Z, so partitions are stable). */
  readonly startSeconds?: number;
  /** Client requests per minute through the ALB (scales the volume; the benchmark raises it). */
  readonly requestsPerMinute?: number;
  readonly attacks?: boolean;
}

/** mulberry32: small, fast, good enough for synthetic traffic, and the same everywhere. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Node {
  readonly name: string;
  readonly eni: string;
  readonly ip: string;
  readonly subnet: string;
  readonly instance?: string;
}

const hex = (n: number, width = 17) => n.toString(16).padStart(width, '0');
const eniId = (n: number) => `eni-0${hex(n, 16)}`;
const subnetId = (n: number) => `subnet-0${hex(n, 16)}`;
const instanceId = (n: number) => `i-0${hex(n, 16)}`;

const SUBNETS = {
  web: { id: subnetId(0x1), cidr: '10.0.1.0/24', tier: 'web', route: 'igw' },
  app: { id: subnetId(0x2), cidr: '10.0.2.0/24', tier: 'app', route: 'nat' },
  database: { id: subnetId(0x3), cidr: '10.0.3.0/24', tier: 'database', route: 'none' },
  public: { id: subnetId(0x10), cidr: '10.0.10.0/24', route: 'igw' },
  private: { id: subnetId(0x20), cidr: '10.0.20.0/24', route: 'nat' },
  isolated: { id: subnetId(0x30), cidr: '10.0.30.0/24', route: 'none' },
} as const;

export const NODES = {
  alb: { name: 'lab-alb', eni: eniId(0xa1b), ip: '10.0.10.10', subnet: SUBNETS.public.id },
  nat: { name: 'lab-nat', eni: eniId(0xa7), ip: '10.0.10.20', subnet: SUBNETS.public.id },
  web1: {
    name: 'web-1',
    eni: eniId(0x101),
    ip: '10.0.1.11',
    subnet: SUBNETS.web.id,
    instance: instanceId(0x101),
  },
  web2: {
    name: 'web-2',
    eni: eniId(0x102),
    ip: '10.0.1.12',
    subnet: SUBNETS.web.id,
    instance: instanceId(0x102),
  },
  app1: {
    name: 'app-1',
    eni: eniId(0x201),
    ip: '10.0.2.21',
    subnet: SUBNETS.app.id,
    instance: instanceId(0x201),
  },
  app2: {
    name: 'app-2',
    eni: eniId(0x202),
    ip: '10.0.2.22',
    subnet: SUBNETS.app.id,
    instance: instanceId(0x202),
  },
  rds: { name: 'orders-db', eni: eniId(0x301), ip: '10.0.3.31', subnet: SUBNETS.database.id },
  lambda: { name: 'orders-fn', eni: eniId(0x401), ip: '10.0.20.41', subnet: SUBNETS.private.id },
  worker: {
    name: 'batch-1',
    eni: eniId(0x501),
    ip: '10.0.30.51',
    subnet: SUBNETS.isolated.id,
    instance: instanceId(0x501),
  },
} as const satisfies Record<string, Node>;

const NAT_PUBLIC_IP = '54.239.10.20';
const ALB_PUBLIC_IP = '54.239.10.10';
const S3_ADDRESSES = ['52.216.8.14', '52.216.140.6', '54.231.192.40'];
const DYNAMODB_ADDRESS = '52.94.0.12';

type Connect = (
  minute: number,
  at: Node,
  src: string,
  dst: string,
  srcport: number,
  dstport: number,
  sizes: { up: number; down: number },
  extra?: {
    protocol?: number;
    action?: 'ACCEPT' | 'REJECT';
    attack?: AttackKind;
    reply?: boolean;
    remote?: string;
  },
) => void;

/** Builds the flows minute by minute. Every connection is logged at each VPC interface it crosses. */
export function generateSample(options: GenerateOptions): Sample {
  const rand = random(options.seed);
  const start = options.startSeconds ?? Date.UTC(2026, 10, 23, 10, 0, 0) / 1000;
  const perMinute = options.requestsPerMinute ?? 40;
  const flows: GeneratedFlow[] = [];
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const ephemeral = () => 32768 + Math.floor(rand() * 28000);
  const client = () =>
    `${pick([81, 92, 109, 151, 176, 185, 212])}.${1 + Math.floor(rand() * 250)}.${Math.floor(rand() * 250)}.${1 + Math.floor(rand() * 250)}`;

  /** One TCP/UDP connection: the request and the reply, at one interface. */
  const connection: Connect = (minute, at, src, dst, srcport, dstport, sizes, extra = {}) => {
    const t = start + minute * 60 + Math.floor(rand() * 20);
    const protocol = extra.protocol ?? 6;
    const action = extra.action ?? 'ACCEPT';
    const ingress = dst === at.ip;
    const base = {
      version: 5,
      'account-id': ACCOUNT,
      'interface-id': at.eni,
      protocol,
      start: t,
      end: t + 60,
      'log-status': 'OK',
      'vpc-id': VPC,
      'subnet-id': at.subnet,
      'instance-id': 'instance' in at ? (at.instance ?? null) : null,
      type: 'IPv4',
      region: REGION,
      'az-id': 'use1-az1',
      'sublocation-type': null,
      'sublocation-id': null,
      'pkt-src-aws-service': null,
      'pkt-dst-aws-service': null,
      'traffic-path': null,
    };
    const packetsUp = Math.max(1, Math.ceil(sizes.up / 1200));
    flows.push({
      fields: {
        ...base,
        srcaddr: src,
        dstaddr: dst,
        srcport,
        dstport,
        packets: packetsUp,
        bytes: sizes.up,
        action,
        'tcp-flags': protocol === 6 ? 3 : null,
        'pkt-srcaddr': src,
        // Through a NAT gateway, the packet's real destination differs from the interface's address.
        'pkt-dstaddr': extra.remote ?? dst,
        'flow-direction': ingress ? 'ingress' : 'egress',
        'traffic-path': ingress ? null : 1,
      },
      ...(extra.attack ? { attack: extra.attack } : {}),
    });
    if (action === 'REJECT' || extra.reply === false) return;
    flows.push({
      fields: {
        ...base,
        srcaddr: dst,
        dstaddr: src,
        srcport: dstport,
        dstport: srcport,
        packets: Math.max(1, Math.ceil(sizes.down / 1200)),
        bytes: sizes.down,
        action,
        'tcp-flags': protocol === 6 ? 19 : null,
        'pkt-srcaddr': extra.remote ?? dst,
        'pkt-dstaddr': src,
        'flow-direction': ingress ? 'egress' : 'ingress',
        'traffic-path': ingress ? 1 : null,
      },
    });
  };

  const webs = [NODES.web1, NODES.web2];
  const apps = [NODES.app1, NODES.app2];
  for (let minute = 0; minute < options.minutes; minute++) {
    for (let r = 0; r < perMinute; r++) {
      // Internet → ALB:443 → web:80 → app:8080 → RDS:5432.
      const visitor = client();
      const size = { up: 400 + Math.floor(rand() * 1500), down: 2000 + Math.floor(rand() * 40000) };
      connection(minute, NODES.alb, visitor, NODES.alb.ip, ephemeral(), 443, size);
      const web = pick(webs);
      const albPort = ephemeral();
      connection(minute, NODES.alb, NODES.alb.ip, web.ip, albPort, 80, size);
      connection(minute, web, NODES.alb.ip, web.ip, albPort, 80, size);
      if (rand() < 0.6) {
        const app = pick(apps);
        const webPort = ephemeral();
        const call = { up: 300 + Math.floor(rand() * 800), down: 800 + Math.floor(rand() * 8000) };
        connection(minute, web, web.ip, app.ip, webPort, 8080, call);
        connection(minute, app, web.ip, app.ip, webPort, 8080, call);
        if (rand() < 0.7) {
          const appPort = ephemeral();
          const query = { up: 200 + Math.floor(rand() * 600), down: 300 + Math.floor(rand() * 5000) };
          connection(minute, app, app.ip, NODES.rds.ip, appPort, 5432, query);
          connection(minute, NODES.rds, app.ip, NODES.rds.ip, appPort, 5432, query);
        }
      }
    }
    // Private app instances reach S3 through the NAT gateway; the replies are NAT return traffic.
    for (const app of apps) {
      const s3 = pick(S3_ADDRESSES);
      const port = ephemeral();
      const natPort = 1024 + Math.floor(rand() * 60000);
      const transfer = {
        up: 20_000 + Math.floor(rand() * 200_000),
        down: 5_000 + Math.floor(rand() * 50_000),
      };
      connection(minute, app, app.ip, s3, port, 443, transfer);
      connection(minute, NODES.nat, app.ip, NODES.nat.ip, port, 443, transfer, { remote: s3 });
      connection(minute, NODES.nat, NODES.nat.ip, s3, natPort, 443, transfer);
    }
    // The Lambda function talks to DynamoDB through the NAT gateway.
    connection(minute, NODES.lambda, NODES.lambda.ip, DYNAMODB_ADDRESS, ephemeral(), 443, {
      up: 900,
      down: 2400,
    });
    // The isolated worker is idle: NODATA.
    if (minute % 5 === 0) {
      const t = start + minute * 60;
      flows.push({
        fields: {
          version: 5,
          'account-id': ACCOUNT,
          'interface-id': NODES.worker.eni,
          srcaddr: null,
          dstaddr: null,
          srcport: null,
          dstport: null,
          protocol: null,
          packets: null,
          bytes: null,
          start: t,
          end: t + 60,
          action: null,
          'log-status': 'NODATA',
          'vpc-id': VPC,
          'subnet-id': NODES.worker.subnet,
          'instance-id': NODES.worker.instance,
          'tcp-flags': null,
          type: null,
          'pkt-srcaddr': null,
          'pkt-dstaddr': null,
          region: REGION,
          'az-id': 'use1-az1',
          'sublocation-type': null,
          'sublocation-id': null,
          'pkt-src-aws-service': null,
          'pkt-dst-aws-service': null,
          'flow-direction': null,
          'traffic-path': null,
        },
      });
    }
  }

  if (options.attacks !== false) injectAttacks(options.minutes, connection);
  flows.sort((a, b) => (a.fields.start as number) - (b.fields.start as number));
  return { flows, inventory: inventory() };
}

function injectAttacks(minutes: number, connection: Connect): void {
  const at = (fraction: number) => Math.min(minutes - 1, Math.floor(minutes * fraction));
  // A port scan of web-1 from the internet: 40 ports, most rejected by the security group.
  const scanPorts = [
    21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1433, 1521, 1723, 2049, 3306, 3389,
    5432, 5900, 6379, 8000, 8080, 8443, 9200, 11211, 27017, 8888, 9000, 2375, 5000, 7001, 9090, 10000, 161,
    389, 636,
  ];
  scanPorts.forEach((port, n) => {
    connection(
      at(0.2),
      NODES.web1,
      ATTACKERS.port_scan,
      NODES.web1.ip,
      40000 + n,
      port,
      { up: 44, down: 0 },
      {
        action: port === 80 ? 'ACCEPT' : 'REJECT',
        attack: 'port_scan',
        reply: false,
      },
    );
  });
  // SSH brute force against web-2: 30 rejected attempts.
  for (let n = 0; n < 30; n++) {
    connection(
      at(0.35) + (n % 2),
      NODES.web2,
      ATTACKERS.ssh_brute_force,
      NODES.web2.ip,
      50000 + n,
      22,
      { up: 60, down: 0 },
      {
        action: 'REJECT',
        attack: 'ssh_brute_force',
      },
    );
  }
  // Probing the database tier's ports.
  for (const [n, port] of [3306, 5432, 1433, 27017, 6379].entries()) {
    connection(
      at(0.5),
      NODES.rds,
      ATTACKERS.database_probe,
      NODES.rds.ip,
      51000 + n,
      port,
      { up: 60, down: 0 },
      {
        action: 'REJECT',
        attack: 'database_probe',
      },
    );
  }
  // A large transfer out of app-2 to an unknown internet host (1.5 GB over a few minutes).
  for (let n = 0; n < 3; n++) {
    connection(
      at(0.6) + n,
      NODES.app2,
      NODES.app2.ip,
      ATTACKERS.large_transfer_out,
      45000 + n,
      443,
      { up: 500_000_000, down: 40_000 },
      {
        attack: 'large_transfer_out',
      },
    );
  }
  // The internet reaching the database tier directly (a publicly accessible database).
  connection(
    at(0.7),
    NODES.rds,
    ATTACKERS.internet_to_database,
    NODES.rds.ip,
    55123,
    5432,
    { up: 1200, down: 4000 },
    {
      attack: 'internet_to_database',
    },
  );
  // GRE from the internet to web-1.
  connection(
    at(0.8),
    NODES.web1,
    ATTACKERS.unusual_protocol,
    NODES.web1.ip,
    0,
    0,
    { up: 3000, down: 0 },
    {
      protocol: 47,
      attack: 'unusual_protocol',
      reply: false,
    },
  );
}

/** The matching `--inventory` document, shaped like `aws ec2 describe-*` output. */
function inventory(): InventoryDocument {
  const tags = (entries: Record<string, string>) =>
    Object.entries(entries).map(([Key, Value]) => ({ Key, Value }));
  const subnet = (key: keyof typeof SUBNETS, name: string): RawSubnet => {
    const s = SUBNETS[key];
    return {
      SubnetId: s.id,
      VpcId: VPC,
      CidrBlock: s.cidr,
      AvailabilityZoneId: 'use1-az1',
      Tags: tags({ Name: name, ...('tier' in s ? { Tier: s.tier } : {}) }),
    };
  };
  const eni = (
    node: Node,
    extra: Partial<RawNetworkInterface>,
    eniTags: Record<string, string> = {},
  ): RawNetworkInterface => ({
    NetworkInterfaceId: node.eni,
    InterfaceType: 'interface',
    OwnerId: ACCOUNT,
    SubnetId: node.subnet,
    VpcId: VPC,
    AvailabilityZone: 'us-east-1a',
    PrivateIpAddress: node.ip,
    PrivateIpAddresses: [{ PrivateIpAddress: node.ip }],
    Groups: [{ GroupId: `sg-0${hex(parseInt(node.eni.slice(5), 16), 16)}`, GroupName: `${node.name}-sg` }],
    ...(node.instance ? { Attachment: { InstanceId: node.instance, InstanceOwnerId: ACCOUNT } } : {}),
    TagSet: tags(eniTags),
    ...extra,
  });
  const table = (
    id: string,
    route: 'igw' | 'nat' | 'none',
    subnets: string[],
    main = false,
  ): RawRouteTable => ({
    RouteTableId: id,
    VpcId: VPC,
    Associations: [
      ...(main ? [{ Main: true }] : []),
      ...subnets.map((SubnetId) => ({ SubnetId, Main: false })),
    ],
    Routes: [
      { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
      ...(route === 'igw'
        ? [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0a1b2c3d4e5f60718', State: 'active' }]
        : []),
      ...(route === 'nat'
        ? [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-0a1b2c3d4e5f60718', State: 'active' }]
        : []),
    ],
  });
  const instance = (node: Node, extra: Record<string, string>) => ({
    InstanceId: node.instance as string,
    Tags: tags({ Name: node.name, Environment: 'prod', Application: 'shop', ...extra }),
  });
  return {
    Vpcs: [
      {
        VpcId: VPC,
        CidrBlock: '10.0.0.0/16',
        CidrBlockAssociationSet: [{ CidrBlock: '10.0.0.0/16' }],
        Tags: tags({ Name: 'lab-vpc' }),
      },
    ],
    Subnets: [
      subnet('web', 'web-a'),
      subnet('app', 'app-a'),
      subnet('database', 'db-a'),
      subnet('public', 'public-a'),
      subnet('private', 'private-a'),
      subnet('isolated', 'isolated-a'),
    ],
    RouteTables: [
      table('rtb-0000000000000000a', 'none', [], true),
      table('rtb-0000000000000000b', 'igw', [SUBNETS.web.id, SUBNETS.public.id]),
      table('rtb-0000000000000000c', 'nat', [SUBNETS.app.id, SUBNETS.private.id]),
    ],
    NetworkInterfaces: [
      eni(NODES.alb, {
        Description: 'ELB app/lab-alb/50dc6c495c0c9188',
        RequesterId: 'amazon-elb',
        RequesterManaged: true,
        Association: { PublicIp: ALB_PUBLIC_IP },
      }),
      eni(NODES.nat, {
        InterfaceType: 'nat_gateway',
        Description: 'Interface for NAT Gateway nat-0a1b2c3d4e5f60718',
        RequesterManaged: true,
        Association: { PublicIp: NAT_PUBLIC_IP },
      }),
      eni(NODES.web1, { Description: 'Primary network interface' }),
      eni(NODES.web2, { Description: 'Primary network interface' }, { Name: 'web-2-eth0' }),
      eni(NODES.app1, { Description: 'Primary network interface' }),
      eni(NODES.app2, { Description: 'Primary network interface' }),
      eni(NODES.rds, {
        Description: 'RDSNetworkInterface',
        RequesterId: 'amazon-rds',
        RequesterManaged: true,
      }),
      eni(NODES.lambda, {
        InterfaceType: 'lambda',
        Description: 'AWS Lambda VPC ENI-orders-fn-4c2f8b1e',
        RequesterManaged: true,
      }),
      eni(NODES.worker, { Description: 'Primary network interface' }),
    ],
    Reservations: [
      {
        Instances: [
          instance(NODES.web1, { Tier: 'web', Team: 'storefront' }),
          instance(NODES.web2, { Tier: 'web', Team: 'storefront' }),
          instance(NODES.app1, { Tier: 'app', Team: 'orders' }),
          instance(NODES.app2, { Tier: 'app', Team: 'orders' }),
          instance(NODES.worker, { Team: 'data' }),
        ],
      },
    ],
  };
}

/** Renders one generated flow as a line of the given format (`-` for absent values). */
export function renderLine(flow: GeneratedFlow, format: FormatSpec): string {
  let line = '';
  for (const field of format.fields) {
    const value = flow.fields[field.name];
    line += (line === '' ? '' : ' ') + (value === null || value === undefined ? '-' : String(value));
  }
  return line;
}
