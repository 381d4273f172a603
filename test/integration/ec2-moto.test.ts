import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateNetworkInterfaceCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  RunInstancesCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_OPTIONS } from '../../scripts/build.mjs';
import { createEc2Inventory } from '../../src/aws/ec2-inventory.js';
import { loadConfig } from '../../src/config.js';
import { createEnricher } from '../../src/enrich/enricher.js';
import { createServiceIndex } from '../../src/enrich/ip-ranges.js';
import type { EniInfo } from '../../src/enrich/types.js';
import { DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { parseFormat } from '../../src/flowlog/format.js';
import type { Flow } from '../../src/flowlog/parse.js';
import { runCli } from '../helpers/cli.js';
import { decodeLines, firehoseEvent, firehoseRecord } from '../helpers/events.js';
import {
  freePort,
  MOTO_ACCOUNT,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  type Moto,
  motoGate,
  startMoto,
} from './moto.js';

const { available, required } = motoGate('EC2 integration tests');
const root = join(import.meta.dirname, '../..');

const UNKNOWN_ENI = 'eni-0123456789abcdef0';
const tags = (record: Record<string, string>): Tag[] =>
  Object.entries(record).map(([Key, Value]) => ({ Key, Value }));

/** Where each workload lives and what enrichment must say about it. */
interface Placement {
  readonly cidr: string;
  readonly name: string;
  /** The subnet's `Tier` tag, when it has one. */
  readonly tierTag?: string;
  /** Route table: explicit association to one with a default route via igw / nat, without one, or the main. */
  readonly routes: 'igw' | 'nat' | 'none' | 'main';
  readonly securityGroups: readonly string[];
  readonly workload:
    | {
        readonly kind: 'instance';
        readonly instanceTags: Record<string, string>;
        readonly eniTags?: Record<string, string>;
      }
    | { readonly kind: 'eni'; readonly description: string; readonly eniTags: Record<string, string> };
  readonly expected: {
    readonly tier: string;
    readonly service: string;
    readonly tags?: Record<string, string>;
  };
}

const PLACEMENTS = {
  web: {
    cidr: '10.0.1.0/24',
    name: 'web-a',
    tierTag: 'Web',
    // The tag wins over the (public) route table.
    routes: 'igw',
    securityGroups: ['web'],
    workload: {
      kind: 'instance',
      instanceTags: { Name: 'web-1', Application: 'shop', Environment: 'prod', CostCenter: '4711' },
      eniTags: { Name: 'web-1-eth0' },
    },
    expected: {
      tier: 'web',
      service: 'EC2',
      tags: { Name: 'web-1-eth0', Application: 'shop', Environment: 'prod' },
    },
  },
  app: {
    cidr: '10.0.2.0/24',
    name: 'app-a',
    tierTag: 'app',
    routes: 'nat',
    securityGroups: ['app', 'ssh'],
    workload: { kind: 'instance', instanceTags: { Name: 'app-1', Team: 'orders', Tier: 'app' } },
    expected: { tier: 'app', service: 'EC2', tags: { Name: 'app-1', Team: 'orders', Tier: 'app' } },
  },
  database: {
    cidr: '10.0.3.0/24',
    name: 'db-a',
    tierTag: 'Database',
    routes: 'none',
    securityGroups: ['db'],
    workload: {
      kind: 'eni',
      description: 'RDSNetworkInterface',
      eniTags: { Name: 'orders-db', Owner: 'dba' },
    },
    expected: { tier: 'database', service: 'RDS', tags: { Name: 'orders-db', Owner: 'dba' } },
  },
  public: {
    cidr: '10.0.10.0/24',
    name: 'public-a',
    routes: 'igw',
    securityGroups: ['alb'],
    workload: { kind: 'eni', description: 'ELB app/my-alb/50dc6c495c0c9188', eniTags: {} },
    expected: { tier: 'public', service: 'ELB' },
  },
  private: {
    cidr: '10.0.11.0/24',
    name: 'private-a',
    routes: 'nat',
    securityGroups: ['app'],
    workload: { kind: 'eni', description: 'AWS Lambda VPC ENI-fn-1234', eniTags: { Application: 'shop' } },
    expected: { tier: 'private', service: 'LAMBDA', tags: { Application: 'shop' } },
  },
  isolated: {
    cidr: '10.0.12.0/24',
    name: 'isolated-a',
    routes: 'none',
    securityGroups: ['db'],
    workload: { kind: 'eni', description: 'EFS mount target for fs-0123 (fsmt-0123)', eniTags: {} },
    expected: { tier: 'isolated', service: 'EFS' },
  },
  // No explicit association: the main table, which routes 0.0.0.0/0 to the NAT gateway.
  implicit: {
    cidr: '10.0.13.0/24',
    name: 'implicit-a',
    routes: 'main',
    securityGroups: ['app', 'web'],
    workload: { kind: 'eni', description: 'Amazon EKS my-cluster', eniTags: { Team: 'platform' } },
    expected: { tier: 'private', service: 'EKS', tags: { Team: 'platform' } },
  },
} satisfies Record<string, Placement>;

type PlacementName = keyof typeof PLACEMENTS;

interface Seeded {
  readonly eniId: string;
  readonly privateIp: string;
  readonly subnetId: string;
  readonly azId: string;
  readonly instanceId?: string;
  readonly securityGroupIds: readonly string[];
}

interface World {
  readonly vpcId: string;
  readonly placements: Record<PlacementName, Seeded>;
}

/** A three-tier VPC: Tier-tagged web/app/database subnets, plus untagged ones whose routes say the tier. */
async function seed(ec2: EC2Client): Promise<World> {
  const must = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`moto returned no ${what}`);
    return value;
  };
  const vpc = await ec2.send(
    new CreateVpcCommand({
      CidrBlock: '10.0.0.0/16',
      TagSpecifications: [{ ResourceType: 'vpc', Tags: tags({ Name: 'three-tier' }) }],
    }),
  );
  const vpcId = must(vpc.Vpc?.VpcId, 'VpcId');
  const igw = await ec2.send(new CreateInternetGatewayCommand({}));
  const igwId = must(igw.InternetGateway?.InternetGatewayId, 'InternetGatewayId');
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));

  const groups = new Map<string, string>();
  for (const name of ['web', 'app', 'ssh', 'db', 'alb']) {
    const group = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: name, Description: `${name} tier`, VpcId: vpcId }),
    );
    groups.set(name, must(group.GroupId, 'GroupId'));
  }

  const subnets = new Map<PlacementName, { subnetId: string; azId: string }>();
  for (const [name, placement] of Object.entries(PLACEMENTS) as [PlacementName, Placement][]) {
    const subnet = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: placement.cidr,
        AvailabilityZone: 'us-east-1a',
        TagSpecifications: [
          {
            ResourceType: 'subnet',
            Tags: tags({ Name: placement.name, ...(placement.tierTag ? { Tier: placement.tierTag } : {}) }),
          },
        ],
      }),
    );
    subnets.set(name, {
      subnetId: must(subnet.Subnet?.SubnetId, 'SubnetId'),
      azId: must(subnet.Subnet?.AvailabilityZoneId, 'AvailabilityZoneId'),
    });
  }

  // The NAT gateway lives in the public subnet, with an Elastic IP.
  const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  const nat = await ec2.send(
    new CreateNatGatewayCommand({
      SubnetId: must(subnets.get('public'), 'public subnet').subnetId,
      AllocationId: must(eip.AllocationId, 'AllocationId'),
    }),
  );
  const natId = must(nat.NatGateway?.NatGatewayId, 'NatGatewayId');

  const routeTable = async (target: 'igw' | 'nat' | 'none') => {
    const table = await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }));
    const id = must(table.RouteTable?.RouteTableId, 'RouteTableId');
    if (target === 'igw')
      await ec2.send(
        new CreateRouteCommand({ RouteTableId: id, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igwId }),
      );
    if (target === 'nat')
      await ec2.send(
        new CreateRouteCommand({ RouteTableId: id, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: natId }),
      );
    return id;
  };
  const tables = {
    igw: await routeTable('igw'),
    nat: await routeTable('nat'),
    none: await routeTable('none'),
  };
  const described = await ec2.send(
    new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  const mainTable = must(
    described.RouteTables?.find((t) => t.Associations?.some((a) => a.Main))?.RouteTableId,
    'main route table',
  );
  await ec2.send(
    new CreateRouteCommand({
      RouteTableId: mainTable,
      DestinationCidrBlock: '0.0.0.0/0',
      NatGatewayId: natId,
    }),
  );

  const placements = {} as Record<PlacementName, Seeded>;
  for (const [name, placement] of Object.entries(PLACEMENTS) as [PlacementName, Placement][]) {
    const { subnetId, azId } = must(subnets.get(name), `${name} subnet`);
    if (placement.routes !== 'main')
      await ec2.send(
        new AssociateRouteTableCommand({ RouteTableId: tables[placement.routes], SubnetId: subnetId }),
      );
    const securityGroupIds = placement.securityGroups.map((g) => must(groups.get(g), `group ${g}`));
    const { workload } = placement;
    if (workload.kind === 'instance') {
      const run = await ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-12c6146b',
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnetId,
          SecurityGroupIds: securityGroupIds,
          TagSpecifications: [{ ResourceType: 'instance', Tags: tags(workload.instanceTags) }],
        }),
      );
      const instance = must(run.Instances?.[0], 'instance');
      const eni = must(instance.NetworkInterfaces?.[0], 'instance ENI');
      const eniId = must(eni.NetworkInterfaceId, 'NetworkInterfaceId');
      if (workload.eniTags)
        await ec2.send(new CreateTagsCommand({ Resources: [eniId], Tags: tags(workload.eniTags) }));
      placements[name] = {
        eniId,
        privateIp: must(eni.PrivateIpAddress, 'PrivateIpAddress'),
        subnetId,
        azId,
        instanceId: must(instance.InstanceId, 'InstanceId'),
        securityGroupIds,
      };
    } else {
      const created = await ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: subnetId,
          Groups: securityGroupIds,
          Description: workload.description,
          ...(Object.keys(workload.eniTags).length > 0
            ? { TagSpecifications: [{ ResourceType: 'network-interface', Tags: tags(workload.eniTags) }] }
            : {}),
        }),
      );
      placements[name] = {
        eniId: must(created.NetworkInterface?.NetworkInterfaceId, 'NetworkInterfaceId'),
        privateIp: must(created.NetworkInterface?.PrivateIpAddress, 'PrivateIpAddress'),
        subnetId,
        azId,
        securityGroupIds,
      };
    }
  }
  return { vpcId, placements };
}

/** One inbound flow to the interface, in the default (version 2) format, as the parser produces it. */
function flowTo(interfaceId: string, dstaddr: string, srcport = 40_000): Flow {
  return {
    version: 2,
    account_id: MOTO_ACCOUNT,
    interface_id: interfaceId,
    srcaddr: '198.51.100.23',
    dstaddr,
    srcport,
    dstport: 443,
    protocol: 6,
    packets: 10,
    bytes: 4_000,
    start: 1_700_000_000,
    end: 1_700_000_060,
    action: 'ACCEPT',
    log_status: 'OK',
  };
}

function count(actions: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const action of actions) out[action] = (out[action] ?? 0) + 1;
  return out;
}

describe.skipIf(!available && !required)('EC2 inventory against moto_server', () => {
  let moto: Moto | undefined;
  let world: World;
  const clientConfig = () => ({
    region: MOTO_REGION,
    endpoint: moto?.endpoint as string,
    credentials: MOTO_CREDENTIALS,
  });
  const newEnricher = () =>
    createEnricher({
      inventory: createEc2Inventory({ clientConfig: clientConfig() }),
      services: createServiceIndex({ prefixes: [] }),
      config: loadConfig({}).enrichment,
      format: parseFormat(DEFAULT_FORMAT),
    });
  /** Three flows per seeded interface, plus one for an interface that does not exist. */
  const batchFlows = (): Flow[] => [
    ...Object.values(world.placements).flatMap((p) =>
      [0, 1, 2].map((i) => flowTo(p.eniId, p.privateIp, 40_000 + i)),
    ),
    flowTo(UNKNOWN_ENI, '10.0.99.9'),
  ];

  beforeAll(async () => {
    if (!available) {
      throw new Error(
        'moto_server is not on PATH, and CI=true requires the EC2 integration tests: pip install "moto[server]"',
      );
    }
    moto = await startMoto();
    const ec2 = new EC2Client(clientConfig());
    try {
      world = await seed(ec2);
    } finally {
      ec2.destroy();
    }
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it.each(Object.keys(PLACEMENTS) as PlacementName[])(
    'enriches the %s interface with its tier, tags and security groups',
    async (name) => {
      // Prepare
      const placement: Placement = PLACEMENTS[name];
      const seeded = world.placements[name];
      const flow = flowTo(seeded.eniId, seeded.privateIp);

      // Act
      const batch = await newEnricher().prepare([flow], Date.now() + 10_000, { accountId: MOTO_ACCOUNT });
      const enrichment = batch.enrich(flow);

      // Assess
      expect(enrichment?.status).toBe('ok');
      expect(enrichment).toMatchObject({
        direction: 'ingress',
        flow_direction: 'ingress',
        peer_scope: 'external',
      });
      // EC2 (and moto) list an interface's groups in no particular order.
      const info = enrichment?.eni?.info;
      const sortedGroups = (value: EniInfo | undefined) => {
        // allTags (every tag, for suppression rules) is not part of this table.
        const { allTags: _allTags, ...rest } = value ?? ({} as EniInfo);
        return { ...rest, securityGroupIds: [...(value?.securityGroupIds ?? [])].sort() };
      };
      expect(sortedGroups(info)).toStrictEqual<EniInfo>({
        interfaceId: seeded.eniId,
        ownerId: MOTO_ACCOUNT,
        eniType: 'interface',
        eniService: placement.expected.service,
        ...(placement.expected.tags ? { tags: placement.expected.tags } : {}),
        securityGroupIds: [...seeded.securityGroupIds].sort(),
        ...(seeded.instanceId ? { instanceId: seeded.instanceId } : {}),
        subnetId: seeded.subnetId,
        vpcId: world.vpcId,
        azId: seeded.azId,
        subnetTier: placement.expected.tier,
        subnetName: placement.name,
        vpcName: 'three-tier',
        addresses: [seeded.privateIp],
        vpcCidrs: ['10.0.0.0/16'],
      });
      expect(batch.stats.lookupErrors).toBe(0);
    },
  );

  it('resolves a whole batch in one round of batched calls, and the next batch from the cache', async () => {
    // Prepare
    const server = moto as Moto;
    const enricher = newEnricher();
    const flows = batchFlows();

    // Act
    await server.startRecording();
    const first = await enricher.prepare(flows, Date.now() + 10_000, { accountId: MOTO_ACCOUNT });
    const firstCalls = await server.stopRecording();
    await server.startRecording();
    const second = await enricher.prepare(flows, Date.now() + 10_000, { accountId: MOTO_ACCOUNT });
    const secondCalls = await server.stopRecording();

    // Assess
    expect(count(firstCalls.map((c) => c.action))).toStrictEqual({
      GetCallerIdentity: 1,
      DescribeNetworkInterfaces: 1,
      DescribeSubnets: 1,
      DescribeVpcs: 1,
      DescribeRouteTables: 1,
      DescribeInstances: 1,
    });
    const lookup = firstCalls.find((c) => c.action === 'DescribeNetworkInterfaces')?.params;
    expect(lookup?.get('Filter.1.Name')).toBe('network-interface-id');
    expect([...(lookup?.keys() ?? [])].some((key) => key.startsWith('NetworkInterfaceId'))).toBe(false);
    const sentIds = [...(lookup?.entries() ?? [])].filter(([key]) => key.startsWith('Filter.1.Value.'));
    expect(sentIds.map(([, id]) => id).sort()).toStrictEqual(
      [...Object.values(world.placements).map((p) => p.eniId), UNKNOWN_ENI].sort(),
    );
    expect(secondCalls).toStrictEqual([]);

    const statuses = (batch: typeof first) => flows.map((flow) => batch.enrich(flow)?.status);
    const expected = [...Array(flows.length - 1).fill('ok'), 'not_found'];
    expect(statuses(first)).toStrictEqual(expected);
    expect(statuses(second)).toStrictEqual(expected);
    expect(first.stats.lookupCalls).toBe(5);
    expect(second.stats.lookupCalls).toBe(0);
  });

  it('enriches through `flowlog-enrich invoke --endpoint-url`, with one batched lookup round', async () => {
    // Prepare: a Firehose event with one default-format line per seeded interface.
    const server = moto as Moto;
    const lines = Object.values(world.placements).map(
      (p, i) =>
        `2 ${MOTO_ACCOUNT} ${p.eniId} 198.51.100.23 ${p.privateIp} ${41000 + i} 443 6 10 4000 1700000000 1700000060 ACCEPT OK\n`,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'flowlog-invoke-')), 'event.json');
    writeFileSync(file, JSON.stringify(firehoseEvent(lines.map((line) => firehoseRecord(line)))));

    // Act
    await server.startRecording();
    const result = await runCli(
      ['invoke', '--event', file, '--endpoint-url', server.endpoint, '--region', MOTO_REGION],
      {
        ENRICHMENT: 'ec2',
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      },
    );
    const calls = await server.stopRecording();

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const records = (JSON.parse(result.stdout) as { records: { result: string; data: string }[] }).records;
    const out = records.flatMap((r) => decodeLines(r.data));
    expect(out.map((r) => r.enrichment_status)).toStrictEqual(lines.map(() => 'ok'));
    for (const [i, placement] of Object.values(world.placements).entries()) {
      expect(out[i]).toMatchObject({
        interface_id: placement.eniId,
        subnet_id: placement.subnetId,
        vpc_id: world.vpcId,
        az_id: placement.azId,
        subnet_tier: Object.values(PLACEMENTS)[i]?.expected.tier,
        flow_direction: 'ingress',
        peer_scope: 'external',
      });
    }
    expect(count(calls.map((c) => c.action)).DescribeNetworkInterfaces).toBe(1);
  });

  it('enriches in the Lambda bundle as the build ships it (SDK shapes tree-shaken), warm-up included', async () => {
    // Prepare: the handler bundled with the build's own options, in a scratch directory under dist/.
    const server = moto as Moto;
    mkdirSync(join(root, 'dist'), { recursive: true });
    const dir = mkdtempSync(join(root, 'dist', 'test-handler-'));
    try {
      await build({
        ...HANDLER_OPTIONS,
        absWorkingDir: root,
        outdir: dir,
        sourcemap: false,
        logLevel: 'warning',
      });
      const lines = Object.values(world.placements).map(
        (p, i) =>
          `2 ${MOTO_ACCOUNT} ${p.eniId} 198.51.100.23 ${p.privateIp} ${41000 + i} 443 6 10 4000 1700000000 1700000060 ACCEPT OK\n`,
      );
      const event = JSON.stringify(firehoseEvent(lines.map((line) => firehoseRecord(line))));
      const script = `const { handler } = await import(${JSON.stringify(join(dir, 'handler.mjs'))});
        const result = await handler(${event}, { getRemainingTimeInMillis: () => 60000, awsRequestId: 'r' });
        process.stderr.write('RESULT' + JSON.stringify(result));`;

      // Act
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          AWS_REGION: MOTO_REGION,
          AWS_ENDPOINT_URL: server.endpoint,
          AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          PEER_LOOKUP: 'off',
        },
      });

      // Assess
      expect(child.status, child.stderr).toBe(0);
      const result = JSON.parse(child.stderr.slice(child.stderr.indexOf('RESULT') + 6)) as {
        records: { result: string; data: string }[];
      };
      const out = result.records.flatMap((r) => decodeLines(r.data));
      expect(out.map((r) => r.enrichment_status)).toStrictEqual(lines.map(() => 'ok'));
      expect(out.map((r) => r.subnet_tier)).toStrictEqual(
        Object.values(PLACEMENTS).map((p) => p.expected.tier),
      );
      expect(child.stdout).not.toContain('warm-up failed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports an unreachable EC2 endpoint as unavailable, without rejecting', async () => {
    // Prepare: a loopback port nobody listens on.
    const closed = `http://127.0.0.1:${await freePort()}`;
    const enricher = createEnricher({
      inventory: createEc2Inventory({
        clientConfig: {
          region: MOTO_REGION,
          endpoint: closed,
          credentials: MOTO_CREDENTIALS,
          maxAttempts: 1,
        },
      }),
      services: createServiceIndex({ prefixes: [] }),
      config: loadConfig({}).enrichment,
      format: parseFormat(DEFAULT_FORMAT),
    });
    const seeded = world.placements.web;
    const flow = flowTo(seeded.eniId, seeded.privateIp);

    // Act
    const batch = await enricher.prepare([flow], Date.now() + 5_000, { accountId: MOTO_ACCOUNT });

    // Assess
    expect(batch.enrich(flow)).toMatchObject({
      status: 'unavailable',
      eni: undefined,
      peer_scope: 'external',
    });
  });
});
