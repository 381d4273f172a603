import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  DescribeNetworkInterfacesCommand,
  type DescribeNetworkInterfacesCommandInput,
  DescribeRouteTablesCommand,
  type DescribeRouteTablesCommandInput,
  DescribeSubnetsCommand,
  type DescribeSubnetsCommandInput,
  DescribeVpcsCommand,
  type DescribeVpcsCommandInput,
  EC2Client,
  type Filter,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createEc2Inventory, FILTER_VALUE_LIMIT } from '../../src/aws/ec2-inventory.js';
import { loadConfig } from '../../src/config.js';
import { createEnricher } from '../../src/enrich/enricher.js';
import { createServiceIndex } from '../../src/enrich/ip-ranges.js';
import type { RawNetworkInterface } from '../../src/enrich/ports.js';
import type { EniInfo } from '../../src/enrich/types.js';
import { LookupError } from '../../src/errors.js';
import { DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { parseFormat } from '../../src/flowlog/format.js';
import type { Flow } from '../../src/flowlog/parse.js';

const OWN_ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '210987654321';
const OTHER_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/flowlog-enrich-read`;
const VPC_ID = 'vpc-0a1b2c3d4e5f60718';
const SUBNET_ID = 'subnet-0123456789abcdef0';

// Every EC2Client and STSClient of this file answers from these stubs: nothing leaves the process.
const ec2Mock = mockClient(EC2Client);
const stsMock = mockClient(STSClient);

const eniId = (n: number) => `eni-${n.toString(16).padStart(17, '0')}`;
const instanceId = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;

/** The values of the request's one filter, checking it is the filter we expect. */
function filterValues(filters: Filter[] | undefined, name: string): string[] {
  expect(filters).toHaveLength(1);
  expect(filters?.[0]?.Name).toBe(name);
  return filters?.[0]?.Values ?? [];
}

function networkInterface(id: string): NetworkInterface {
  const n = Number.parseInt(id.slice(4), 16);
  return {
    NetworkInterfaceId: id,
    InterfaceType: 'interface',
    Description: 'Primary network interface',
    OwnerId: OWN_ACCOUNT,
    SubnetId: SUBNET_ID,
    VpcId: VPC_ID,
    AvailabilityZone: 'us-east-1a',
    Groups: [{ GroupId: 'sg-0aaaaaaaaaaaaaaaa', GroupName: 'web' }],
    Attachment: { InstanceId: instanceId(n), InstanceOwnerId: OWN_ACCOUNT },
    PrivateIpAddress: `10.0.1.${n % 250}`,
    PrivateIpAddresses: [{ PrivateIpAddress: `10.0.1.${n % 250}`, Primary: true }],
    TagSet: [{ Key: 'Name', Value: `web-${n}-eth0` }],
  };
}

/** Answers every describe call from a small, consistent inventory: any `eni-…` id in the filter exists. */
function stubInventory(known: (id: string) => boolean = () => true) {
  ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake((input: DescribeNetworkInterfacesCommandInput) => ({
    NetworkInterfaces: filterValues(input.Filters, 'network-interface-id')
      .filter(known)
      .map(networkInterface),
  }));
  ec2Mock.on(DescribeSubnetsCommand).callsFake((input: DescribeSubnetsCommandInput) => ({
    Subnets: filterValues(input.Filters, 'subnet-id').map((SubnetId) => ({
      SubnetId,
      VpcId: VPC_ID,
      AvailabilityZoneId: 'use1-az4',
      CidrBlock: '10.0.1.0/24',
      Tags: [
        { Key: 'Name', Value: 'web-a' },
        { Key: 'Tier', Value: 'Web' },
      ],
    })),
  }));
  ec2Mock.on(DescribeVpcsCommand).callsFake((input: DescribeVpcsCommandInput) => ({
    Vpcs: filterValues(input.Filters, 'vpc-id').map((VpcId) => ({
      VpcId,
      CidrBlock: '10.0.0.0/16',
      Tags: [{ Key: 'Name', Value: 'three-tier' }],
    })),
  }));
  ec2Mock.on(DescribeRouteTablesCommand).callsFake((input: DescribeRouteTablesCommandInput) => ({
    RouteTables: filterValues(input.Filters, 'vpc-id').map((VpcId) => ({
      RouteTableId: 'rtb-0main',
      VpcId,
      Associations: [{ Main: true }],
      Routes: [{ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' }],
    })),
  }));
  ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => ({
    Reservations: filterValues(input.Filters, 'instance-id').map((InstanceId) => ({
      Instances: [
        {
          InstanceId,
          Tags: [
            { Key: 'Name', Value: InstanceId },
            { Key: 'Environment', Value: 'prod' },
          ],
        },
      ],
    })),
  }));
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

function inventory(options: Parameters<typeof createEc2Inventory>[0] = {}) {
  return createEc2Inventory({
    ec2: new EC2Client({ region: 'us-east-1' }),
    sts: new STSClient({ region: 'us-east-1' }),
    clientFor: () => {
      throw new Error('no role expected in this test');
    },
    ...options,
  });
}

beforeEach(() => {
  ec2Mock.reset();
  stsMock.reset();
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: OWN_ACCOUNT, Arn: 'arn:aws:sts::123456789012:x' });
});

describe('createEc2Inventory', () => {
  it('looks interfaces up with the network-interface-id filter, never NetworkInterfaceIds', async () => {
    // Prepare
    stubInventory((id) => id !== eniId(2));
    const ids = [eniId(1), eniId(2), eniId(3)];

    // Act
    const found = await inventory().networkInterfaces(OWN_ACCOUNT, ids);

    // Assess
    expect(found.map((e) => e.NetworkInterfaceId)).toStrictEqual([eniId(1), eniId(3)]);
    expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(DescribeNetworkInterfacesCommand, {
      Filters: [{ Name: 'network-interface-id', Values: ids }],
    });
    const [call] = ec2Mock.commandCalls(DescribeNetworkInterfacesCommand);
    expect(call?.args[0].input.NetworkInterfaceIds).toBeUndefined();
  });

  it.each<[kind: string, count: number, calls: number[]]>([
    ['one value', 1, [1]],
    ['exactly the filter limit', 200, [200]],
    ['one over the limit', 201, [200, 1]],
    ['450 ids', 450, [200, 200, 50]],
  ])('splits ids into filters of at most 200 values: %s', async (_kind, count, calls) => {
    // Prepare
    stubInventory();
    const ids = Array.from({ length: count }, (_, i) => eniId(i + 1));

    // Act
    const found = await inventory().networkInterfaces(OWN_ACCOUNT, ids);

    // Assess
    const sent = ec2Mock
      .commandCalls(DescribeNetworkInterfacesCommand)
      .map((c) => filterValues(c.args[0].input.Filters, 'network-interface-id'));
    expect(FILTER_VALUE_LIMIT).toBe(200);
    expect(sent.map((values) => values.length)).toStrictEqual(calls);
    expect(sent.flat()).toStrictEqual(ids);
    expect(found.map((e) => e.NetworkInterfaceId)).toStrictEqual(ids);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, calls.length);
  });

  it('makes no call for an empty id list', async () => {
    // Act
    const found = await inventory().networkInterfaces(OWN_ACCOUNT, []);

    // Assess
    expect(found).toStrictEqual([]);
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(stsMock).not.toHaveReceivedAnyCommand();
  });

  it('follows NextToken with the same filter', async () => {
    // Prepare
    const ids = [eniId(1), eniId(2), eniId(3)];
    ec2Mock
      .on(DescribeNetworkInterfacesCommand)
      .resolvesOnce({ NetworkInterfaces: [networkInterface(eniId(1))], NextToken: 'page-2' })
      .resolvesOnce({ NetworkInterfaces: [networkInterface(eniId(2))], NextToken: 'page-3' })
      .resolvesOnce({ NetworkInterfaces: [networkInterface(eniId(3))] });

    // Act
    const found = await inventory().networkInterfaces(OWN_ACCOUNT, ids);

    // Assess
    expect(found.map((e) => e.NetworkInterfaceId)).toStrictEqual(ids);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 3);
    const filters = [{ Name: 'network-interface-id', Values: ids }];
    expect(ec2Mock).toHaveReceivedNthCommandWith(DescribeNetworkInterfacesCommand, 1, {
      Filters: filters,
      NextToken: undefined,
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(DescribeNetworkInterfacesCommand, 2, {
      Filters: filters,
      NextToken: 'page-2',
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(DescribeNetworkInterfacesCommand, 3, {
      Filters: filters,
      NextToken: 'page-3',
    });
  });

  it('flattens the instances of every reservation', async () => {
    // Prepare
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        { ReservationId: 'r-1', Instances: [{ InstanceId: instanceId(1) }, { InstanceId: instanceId(2) }] },
        { ReservationId: 'r-2' },
        {
          ReservationId: 'r-3',
          Instances: [{ InstanceId: instanceId(3), Tags: [{ Key: 'Name', Value: 'db' }] }],
        },
      ],
    });

    // Act
    const found = await inventory().instances(OWN_ACCOUNT, [instanceId(1), instanceId(2), instanceId(3)]);

    // Assess
    expect(found).toStrictEqual([
      { InstanceId: instanceId(1) },
      { InstanceId: instanceId(2) },
      { InstanceId: instanceId(3), Tags: [{ Key: 'Name', Value: 'db' }] },
    ]);
    expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(DescribeInstancesCommand, {
      Filters: [{ Name: 'instance-id', Values: [instanceId(1), instanceId(2), instanceId(3)] }],
    });
  });

  it.each<
    [
      method: 'subnets' | 'vpcs' | 'routeTables',
      command: abstract new (...args: never[]) => object,
      filter: string,
    ]
  >([
    ['subnets', DescribeSubnetsCommand, 'subnet-id'],
    ['vpcs', DescribeVpcsCommand, 'vpc-id'],
    ['routeTables', DescribeRouteTablesCommand, 'vpc-id'],
  ])('%s sends %O filtered by %s', async (method, command, filter) => {
    // Prepare
    stubInventory();
    const ids = method === 'subnets' ? [SUBNET_ID] : [VPC_ID];

    // Act
    const found = await inventory()[method](OWN_ACCOUNT, ids);

    // Assess
    expect(found).toHaveLength(1);
    const calls = ec2Mock.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0]).toBeInstanceOf(command);
    expect(
      (calls[0]?.args[0] as { input?: { Filters?: Filter[] } } | undefined)?.input?.Filters,
    ).toStrictEqual([{ Name: filter, Values: ids }]);
  });

  it('refuses an account that is not its own and has no role, without calling EC2', async () => {
    // Prepare
    stubInventory();
    const ec2Inventory = inventory();

    // Act
    const first = ec2Inventory.networkInterfaces(OTHER_ACCOUNT, [eniId(1)]);
    const second = ec2Inventory.subnets(OTHER_ACCOUNT, [SUBNET_ID]);

    // Assess
    await expect(first).rejects.toThrow(LookupError);
    await expect(second).rejects.toThrow(`no role configured for account ${OTHER_ACCOUNT}`);
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    // The caller's identity is asked once per container.
    expect(stsMock).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('answers for its own account, asking STS once', async () => {
    // Prepare
    stubInventory();
    const ec2Inventory = inventory();

    // Act
    await ec2Inventory.networkInterfaces(OWN_ACCOUNT, [eniId(1)]);
    await ec2Inventory.subnets(OWN_ACCOUNT, [SUBNET_ID]);
    const own = await ec2Inventory.ownAccount();

    // Assess
    expect(own).toBe(OWN_ACCOUNT);
    expect(stsMock).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSubnetsCommand, 1);
  });

  it('fails a lookup with the STS error while GetCallerIdentity fails, and asks again later', async () => {
    // Prepare
    stubInventory();
    stsMock
      .on(GetCallerIdentityCommand)
      .rejectsOnce(awsError('ExpiredToken', 'The security token included in the request is expired'))
      .resolves({ Account: OWN_ACCOUNT });
    const ec2Inventory = inventory();

    // Act
    const failed = ec2Inventory.networkInterfaces(OWN_ACCOUNT, [eniId(1)]);
    // Named after what STS said, not a missing role: the runbook tells the two apart.
    await expect(failed).rejects.toMatchObject({ name: 'ExpiredToken' });
    const retried = await ec2Inventory.networkInterfaces(OWN_ACCOUNT, [eniId(1)]);

    // Assess
    expect(retried.map((e) => e.NetworkInterfaceId)).toStrictEqual([eniId(1)]);
    expect(stsMock).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 2);
  });

  it('uses the client of the configured role for another account, built once', async () => {
    // Prepare
    stubInventory();
    const roleClient = new EC2Client({ region: 'us-east-1' });
    const roleMock = mockClient(roleClient);
    roleMock
      .on(DescribeNetworkInterfacesCommand)
      .resolves({ NetworkInterfaces: [networkInterface(eniId(7))] });
    const clientFor = vi.fn((_roleArn: string) => roleClient);
    const ec2Inventory = inventory({ roles: { [OTHER_ACCOUNT]: OTHER_ROLE }, clientFor });

    try {
      // Act
      const first = await ec2Inventory.networkInterfaces(OTHER_ACCOUNT, [eniId(7)]);
      const second = await ec2Inventory.networkInterfaces(OTHER_ACCOUNT, [eniId(7)]);

      // Assess
      expect([...first, ...second].map((e) => e.NetworkInterfaceId)).toStrictEqual([eniId(7), eniId(7)]);
      expect(clientFor).toHaveBeenCalledExactlyOnceWith(OTHER_ROLE);
      expect(roleMock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 2);
      expect(roleMock).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, {
        Filters: [{ Name: 'network-interface-id', Values: [eniId(7)] }],
      });
      expect(ec2Mock).not.toHaveReceivedAnyCommand();
      expect(stsMock).not.toHaveReceivedAnyCommand();
    } finally {
      roleMock.restore();
    }
  });

  it('passes an EC2 error through to the caller', async () => {
    // Prepare
    ec2Mock.on(DescribeNetworkInterfacesCommand).rejects(awsError('UnauthorizedOperation', 'not authorized'));

    // Act
    const lookup = inventory().networkInterfaces(OWN_ACCOUNT, [eniId(1)]);

    // Assess
    await expect(lookup).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
  });
});

describe('createEnricher with the EC2 inventory', () => {
  const config = loadConfig({}).enrichment;
  const format = parseFormat(DEFAULT_FORMAT);
  const services = createServiceIndex({ prefixes: [] });

  function enricher() {
    return createEnricher({ inventory: inventory(), services, config, format });
  }

  /** 500 flows over 50 interfaces, in the default (version 2) format, each one inbound to its ENI. */
  function flows(count = 500, interfaces = 50): Flow[] {
    return Array.from({ length: count }, (_, i) => {
      const n = (i % interfaces) + 1;
      return {
        version: 2,
        account_id: OWN_ACCOUNT,
        interface_id: eniId(n),
        srcaddr: '198.51.100.23',
        dstaddr: `10.0.1.${n % 250}`,
        srcport: 40_000 + i,
        dstport: 443,
        protocol: 6,
        packets: 10,
        bytes: 4_000,
        start: 1_700_000_000,
        end: 1_700_000_060,
        action: 'ACCEPT',
        log_status: 'OK',
      };
    });
  }

  it('resolves 500 flows of 50 interfaces with one DescribeNetworkInterfaces call', async () => {
    // Prepare
    stubInventory();
    const batchFlows = flows();

    // Act
    const batch = await enricher().prepare(batchFlows, Date.now() + 5_000, { accountId: OWN_ACCOUNT });
    const enriched = batchFlows.map((flow) => batch.enrich(flow));

    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 1);
    const [call] = ec2Mock.commandCalls(DescribeNetworkInterfacesCommand);
    expect(filterValues(call?.args[0].input.Filters, 'network-interface-id')).toHaveLength(50);
    for (const command of [DescribeSubnetsCommand, DescribeVpcsCommand, DescribeRouteTablesCommand]) {
      expect(ec2Mock).toHaveReceivedCommandTimes(command, 1);
    }
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
    expect(enriched.map((e) => e?.status)).toStrictEqual(Array(500).fill('ok'));
    expect(batch.enrichAll()).toStrictEqual(enriched);
    expect({ ...batch.stats, lookupMs: 0 }).toStrictEqual({
      cacheHits: 0,
      // 50 interfaces, 1 subnet, 1 VPC, 1 VPC's route tables, 50 instances.
      cacheMisses: 103,
      lookupCalls: 5,
      lookupMs: 0,
      lookupErrors: 0,
      errors: {},
    });
    expect(enriched[6]).toMatchObject({ status: 'ok', direction: 'ingress', peer_scope: 'external' });
    expect(withoutAllTags(enriched[6]?.eni?.info)).toStrictEqual<EniInfo>({
      interfaceId: eniId(7),
      ownerId: OWN_ACCOUNT,
      eniType: 'interface',
      eniService: 'EC2',
      tags: { Name: 'web-7-eth0', Environment: 'prod' },
      securityGroupIds: ['sg-0aaaaaaaaaaaaaaaa'],
      instanceId: instanceId(7),
      subnetId: SUBNET_ID,
      vpcId: VPC_ID,
      azId: 'use1-az4',
      subnetTier: 'web',
      subnetName: 'web-a',
      vpcName: 'three-tier',
      addresses: ['10.0.1.7'],
      vpcCidrs: ['10.0.0.0/16'],
    });
  });

  it('makes no EC2 call for a second batch within the TTL', async () => {
    // Prepare
    stubInventory();
    const enrich = enricher();
    await enrich.prepare(flows(), Date.now() + 5_000, { accountId: OWN_ACCOUNT });
    ec2Mock.resetHistory();
    stsMock.resetHistory();

    // Act
    const second = await enrich.prepare(flows(), Date.now() + 5_000, { accountId: OWN_ACCOUNT });

    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 0);
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(stsMock).not.toHaveReceivedAnyCommand();
    expect(second.stats.lookupCalls).toBe(0);
    expect(second.stats.cacheHits).toBe(103);
    expect(flows().every((flow) => second.enrich(flow)?.status === 'ok')).toBe(true);
  });

  describe('batch after batch (answers remembered while their cache entries hold)', () => {
    let clock = 1_700_000_000_000;
    const defaults = loadConfig({}).enrichment;
    const enricherAt = (env: Record<string, string> = {}) =>
      createEnricher({
        inventory: inventory(),
        services,
        config: loadConfig(env).enrichment,
        format,
        now: () => clock,
      });
    const prepareAt = (enrich: ReturnType<typeof enricherAt>, batch: Flow[]) =>
      enrich.prepare(batch, clock + 5_000, { accountId: OWN_ACCOUNT });
    /** The one flow of interface `n`. */
    const only = (n: number) => [flows(n, n)[n - 1] as Flow];

    it('answers the same, and counts the same hits, as a round through the caches', async () => {
      // Prepare: a first batch looks up, a second is all hits.
      stubInventory();
      const enrich = enricherAt();
      const expected = (await prepareAt(enrich, flows())).enrichAll();
      await prepareAt(enrich, flows());
      ec2Mock.resetHistory();

      // Act
      const third = await prepareAt(enrich, flows());

      // Assess
      expect(ec2Mock).not.toHaveReceivedAnyCommand();
      expect(third.enrichAll()).toStrictEqual(expected);
      expect(flows().map((flow) => third.enrich(flow))).toStrictEqual(expected);
      expect({ ...third.stats, lookupMs: 0 }).toStrictEqual({
        cacheHits: 103,
        cacheMisses: 0,
        lookupCalls: 0,
        lookupMs: 0,
        lookupErrors: 0,
        errors: {},
      });
    });

    it('looks interfaces up again once their TTL has passed', async () => {
      // Prepare
      stubInventory();
      const enrich = enricherAt();
      for (let i = 0; i < 3; i++) await prepareAt(enrich, flows());
      ec2Mock.resetHistory();
      clock += defaults.cacheTtlMs + 1;

      // Act
      const later = await prepareAt(enrich, flows());

      // Assess
      expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 1);
      expect(later.stats.cacheMisses).toBe(103);
    });

    it('looks an unknown interface up again once its negative TTL has passed, and only it', async () => {
      // Prepare
      stubInventory((id) => id !== eniId(3));
      const enrich = enricherAt();
      for (let i = 0; i < 3; i++) await prepareAt(enrich, flows(10, 5));
      ec2Mock.resetHistory();
      clock += defaults.negativeTtlMs + 1;

      // Act
      const later = await prepareAt(enrich, flows(10, 5));

      // Assess
      const [call] = ec2Mock.commandCalls(DescribeNetworkInterfacesCommand);
      expect(filterValues(call?.args[0].input.Filters, 'network-interface-id')).toStrictEqual([eniId(3)]);
      expect(flows(5, 5).map((flow) => later.enrich(flow)?.status)).toStrictEqual([
        'ok',
        'ok',
        'not_found',
        'ok',
        'ok',
      ]);
    });

    it('answers from what a warm-up put in at once', async () => {
      // Prepare
      stubInventory();
      const enrich = enricherAt();
      for (let i = 0; i < 3; i++) await prepareAt(enrich, flows(10, 5));
      const renamed = { ...networkInterface(eniId(2)), TagSet: [{ Key: 'Name', Value: 'renamed' }] };

      // Act
      enrich.warmUp(OWN_ACCOUNT, [renamed as RawNetworkInterface]);
      const later = await prepareAt(enrich, flows(10, 5));

      // Assess
      expect(later.enrich(only(2)[0] as Flow)?.eni?.info.tags).toStrictEqual({
        Name: 'renamed',
        Environment: 'prod',
      });
    });

    it('keeps the caches least-recently-used order when a remembered interface has not been looked up for a while', async () => {
      // Prepare: caches of 10 entries; interface 1 answered from memory batch after batch.
      stubInventory();
      const enrich = enricherAt({ ENI_CACHE_MAX: '10' });
      for (const batch of [[1, 2], [1], [2], [1], [1]]) {
        await prepareAt(enrich, batch.flatMap(only));
      }

      // Act: nine new interfaces in one batch take the cache past its 10 entries: the least recently used
      // go, and 1 (used last) must not be among them.
      await prepareAt(enrich, [3, 4, 5, 6, 7, 8, 9, 10, 11].flatMap(only));
      ec2Mock.resetHistory();
      const again = await prepareAt(enrich, only(1));

      // Assess
      expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 0);
      expect({ hits: again.stats.cacheHits, misses: again.stats.cacheMisses }).toStrictEqual({
        hits: 5,
        misses: 0,
      });
    });

    it('keeps the caches least-recently-used order: an interface of every batch outlives the others', async () => {
      // Prepare: caches of 10 entries; interfaces 1–6 in three batches, then 1 alone.
      stubInventory();
      const enrich = enricherAt({ ENI_CACHE_MAX: '10' });
      for (let i = 0; i < 3; i++) await prepareAt(enrich, flows(6, 6));
      await prepareAt(enrich, only(1));

      // Act: five new interfaces push the least recently used out (2, not 1).
      for (let n = 7; n <= 11; n++) await prepareAt(enrich, only(n));
      ec2Mock.resetHistory();
      const again = await prepareAt(enrich, only(1));

      // Assess
      expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 0);
      expect(again.enrich(only(1)[0] as Flow)?.status).toBe('ok');
    });
  });

  it('counts a peer inside one of the VPC ranges that are not private as internal', async () => {
    // Prepare: the VPC also holds a public range (BYOIP), 203.0.113.0/24.
    stubInventory();
    ec2Mock.on(DescribeVpcsCommand).callsFake((input: DescribeVpcsCommandInput) => ({
      Vpcs: filterValues(input.Filters, 'vpc-id').map((VpcId) => ({
        VpcId,
        CidrBlock: '10.0.0.0/16',
        CidrBlockAssociationSet: [{ CidrBlock: '10.0.0.0/16' }, { CidrBlock: '203.0.113.0/24' }],
      })),
    }));
    const peers = ['203.0.113.9', '198.51.100.23', '10.0.9.9', '203.0.114.1'];
    const batchFlows = peers.map((srcaddr) => ({ ...(flows(1, 1)[0] as Flow), srcaddr }));

    // Act
    const batch = await enricher().prepare(batchFlows, Date.now() + 5_000, { accountId: OWN_ACCOUNT });

    // Assess
    expect(batch.enrichAll().map((e) => [e?.direction, e?.peer_scope])).toStrictEqual([
      ['ingress', 'internal'],
      ['ingress', 'external'],
      ['ingress', 'internal'],
      ['ingress', 'external'],
    ]);
  });

  it('reports unknown interfaces not_found, from the same single call', async () => {
    // Prepare
    stubInventory((id) => id !== eniId(3));

    // Act
    const batch = await enricher().prepare(flows(10, 5), Date.now() + 5_000, { accountId: OWN_ACCOUNT });

    // Assess
    expect(flows(5, 5).map((flow) => batch.enrich(flow)?.status)).toStrictEqual([
      'ok',
      'ok',
      'not_found',
      'ok',
      'ok',
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 1);
  });

  it.each([
    ['UnauthorizedOperation', 'You are not authorized to perform this operation.'],
    ['AccessDenied', 'User is not authorized to perform: ec2:DescribeNetworkInterfaces'],
    ['RequestLimitExceeded', 'Request limit exceeded.'],
    ['ThrottlingException', 'Rate exceeded'],
  ])('leaves records unavailable when EC2 answers %s, and never rejects', async (name, message) => {
    // Prepare
    stubInventory();
    ec2Mock.on(DescribeNetworkInterfacesCommand).rejects(awsError(name, message));
    const batchFlows = flows(100, 10);

    // Act
    const batch = await enricher().prepare(batchFlows, Date.now() + 5_000, { accountId: OWN_ACCOUNT });

    // Assess
    const enriched = batchFlows.map((flow) => batch.enrich(flow));
    expect(enriched.map((e) => e?.status)).toStrictEqual(Array(100).fill('unavailable'));
    expect(batch.enrichAll()).toStrictEqual(enriched);
    // What a record says when its interface could not be looked up: unavailable, nothing about the interface,
    // and what the addresses alone tell.
    expect(enriched[0]).toMatchObject({ status: 'unavailable', peer_scope: 'external' });
    expect(enriched[0]?.eni).toBeUndefined();
    expect(enriched[0]?.direction).toBeUndefined();
    expect(batch.stats.lookupErrors).toBe(1);
    expect(batch.stats.errors).toStrictEqual({ [name]: 1 });
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 1);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSubnetsCommand);
  });

  it('leaves records of an account without a role unavailable', async () => {
    // Prepare
    stubInventory();
    const foreign = flows(20, 2).map((flow) => ({ ...flow, account_id: OTHER_ACCOUNT }));

    // Act
    const batch = await enricher().prepare(foreign, Date.now() + 5_000, { accountId: OWN_ACCOUNT });

    // Assess
    expect(foreign.map((flow) => batch.enrich(flow)?.status)).toStrictEqual(Array(20).fill('unavailable'));
    expect(batch.enrichAll().map((e) => e?.status)).toStrictEqual(Array(20).fill('unavailable'));
    // The runbook's "missing cross-account role", counted and named.
    expect(batch.stats.lookupErrors).toBe(1);
    expect(batch.stats.errors).toStrictEqual({ MissingRoleError: 1 });
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });
});

/** EniInfo without `allTags` (every tag, kept for suppression rules), which these tables do not list. */
function withoutAllTags(info: EniInfo | undefined): EniInfo | undefined {
  if (!info) return info;
  const { allTags: _allTags, ...rest } = info;
  return rest;
}
