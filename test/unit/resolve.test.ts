import { describe, expect, it } from 'vitest';
import { DEFAULT_TAG_KEYS } from '../../src/config.js';
import type {
  RawInstance,
  RawNetworkInterface,
  RawRoute,
  RawRouteTable,
  RawSubnet,
  RawVpc,
  Tag,
} from '../../src/enrich/ports.js';
import { eniService, eniType, resolveEni, selectTags, subnetTier } from '../../src/enrich/resolve.js';
import type { EniInfo } from '../../src/enrich/types.js';

const VPC_ID = 'vpc-0a1b2c3d4e5f60718';
const SUBNET_ID = 'subnet-0123456789abcdef0';
const IGW = 'igw-0fedcba9876543210';
const NAT = 'nat-0a0b0c0d0e0f01234';

describe('eniService', () => {
  it.each<[label: string, eni: RawNetworkInterface, service: string]>([
    [
      'NAT gateway type',
      { InterfaceType: 'nat_gateway', Description: 'Interface for NAT Gateway nat-1' },
      'NAT_GATEWAY',
    ],
    ['older natGateway spelling', { InterfaceType: 'natGateway' }, 'NAT_GATEWAY'],
    ['Lambda type', { InterfaceType: 'lambda', Description: 'AWS Lambda VPC ENI-fn-1234' }, 'LAMBDA'],
    [
      'VPC endpoint type',
      { InterfaceType: 'vpc_endpoint', Description: 'VPC Endpoint Interface vpce-0123' },
      'VPC_ENDPOINT',
    ],
    [
      'NLB type',
      { InterfaceType: 'network_load_balancer', Description: 'ELB net/my-nlb/0123456789abcdef' },
      'ELB',
    ],
    [
      'type wins over a misleading description',
      { InterfaceType: 'lambda', Description: 'ELB app/x/1' },
      'LAMBDA',
    ],
    [
      'ALB description',
      { InterfaceType: 'interface', Description: 'ELB app/my-alb/50dc6c495c0c9188' },
      'ELB',
    ],
    ['RDS description', { InterfaceType: 'interface', Description: 'RDSNetworkInterface' }, 'RDS'],
    [
      'Lambda description on a plain interface',
      { InterfaceType: 'interface', Description: 'AWS Lambda VPC ENI-fn-1234' },
      'LAMBDA',
    ],
    [
      'EFS description',
      { InterfaceType: 'interface', Description: 'EFS mount target for fs-0123 (fsmt-0123)' },
      'EFS',
    ],
    [
      'ECS task attachment',
      { InterfaceType: 'interface', Description: 'arn:aws:ecs:us-east-1:123456789012:attachment/abc' },
      'ECS',
    ],
    [
      'ECS in GovCloud',
      { InterfaceType: 'interface', Description: 'arn:aws-us-gov:ecs:us-gov-west-1:1:attachment/a' },
      'ECS',
    ],
    ['EKS control plane', { InterfaceType: 'interface', Description: 'Amazon EKS my-cluster' }, 'EKS'],
    ['EKS pod ENI', { InterfaceType: 'interface', Description: 'aws-K8S-i-0123456789abcdef0' }, 'EKS'],
    [
      'interface endpoint description',
      { InterfaceType: 'interface', Description: 'VPC Endpoint Interface vpce-0123' },
      'VPC_ENDPOINT',
    ],
    [
      'classic ELB by requester',
      { InterfaceType: 'interface', Description: 'my-clb', RequesterId: 'amazon-elb' },
      'ELB',
    ],
    [
      'other requester-managed',
      { InterfaceType: 'interface', Description: 'x', RequesterManaged: true },
      'AWS_MANAGED',
    ],
    [
      'instance ENI',
      {
        InterfaceType: 'interface',
        Description: 'Primary network interface',
        Attachment: { InstanceId: 'i-0123456789abcdef0', InstanceOwnerId: '123456789012' },
      },
      'EC2',
    ],
    ['bare ENI without type or description', {}, 'EC2'],
  ])('%s → %s', (_label, eni, service) => {
    // Act
    const actual = eniService(eni);

    // Assess
    expect(actual).toBe(service);
  });

  it('does not match descriptions in the middle of the text', () => {
    // Prepare: AWS writes these prefixes first; a user's description merely mentioning one is EC2.
    const eni: RawNetworkInterface = {
      InterfaceType: 'interface',
      Description: 'proxy for RDSNetworkInterface',
    };

    // Act
    const service = eniService(eni);

    // Assess
    expect(service).toBe('EC2');
  });
});

describe('eniType', () => {
  it.each<[type: string | undefined, expected: string | undefined]>([
    ['natGateway', 'nat_gateway'],
    ['nat_gateway', 'nat_gateway'],
    ['interface', 'interface'],
    ['network_load_balancer', 'network_load_balancer'],
    ['gatewayLoadBalancerEndpoint', 'gateway_load_balancer_endpoint'],
    ['efa', 'efa'],
    [undefined, undefined],
  ])('%s → %s', (type, expected) => {
    // Act
    const actual = eniType(type === undefined ? {} : { InterfaceType: type });

    // Assess
    expect(actual).toBe(expected);
  });
});

describe('selectTags', () => {
  const eniTags: Tag[] = [
    { Key: 'Name', Value: 'web-1-eth0' },
    { Key: 'Team', Value: 'payments' },
    { Key: 'aws:cloudformation:stack-name', Value: 'web' },
    { Key: 'CostCenter', Value: '4711' },
  ];
  const instanceTags: Tag[] = [
    { Key: 'Name', Value: 'web-1' },
    { Key: 'Environment', Value: 'prod' },
    { Key: 'aws:autoscaling:groupName', Value: 'web-asg' },
  ];

  it.each<
    [label: string, eni: Tag[] | undefined, instance: Tag[] | undefined, allow: string[], expected: unknown]
  >([
    [
      'allow-list keeps only the listed keys, ENI tags winning',
      eniTags,
      instanceTags,
      ['Name', 'Environment', 'Team'],
      { Name: 'web-1-eth0', Environment: 'prod', Team: 'payments' },
    ],
    [
      '* keeps all but aws: tags',
      eniTags,
      instanceTags,
      ['*'],
      { Name: 'web-1-eth0', Environment: 'prod', Team: 'payments', CostCenter: '4711' },
    ],
    [
      'an aws: tag may be allow-listed by name',
      eniTags,
      undefined,
      ['aws:cloudformation:stack-name'],
      { 'aws:cloudformation:stack-name': 'web' },
    ],
    [
      'instance tags alone',
      undefined,
      instanceTags,
      ['Name', 'Environment'],
      { Name: 'web-1', Environment: 'prod' },
    ],
    ['nothing allow-listed', eniTags, instanceTags, ['Owner'], undefined],
    ['no tags at all', undefined, undefined, ['*'], undefined],
    ['empty allow-list', eniTags, instanceTags, [], undefined],
    [
      'tags without a key or value are skipped',
      [{ Key: 'Name' }, { Value: 'orphan' }, { Key: 'Team', Value: '' }],
      undefined,
      ['*'],
      { Team: '' },
    ],
  ])('%s', (_label, eni, instance, allow, expected) => {
    // Act
    const tags = selectTags(eni, instance, allow);

    // Assess
    expect(tags).toStrictEqual(expected);
  });
});

describe('subnetTier', () => {
  const route = (target: RawRoute): RawRoute => ({
    DestinationCidrBlock: '0.0.0.0/0',
    State: 'active',
    ...target,
  });
  const local: RawRoute = { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' };
  const explicit = (routes: RawRoute[], subnetId = SUBNET_ID): RawRouteTable => ({
    RouteTableId: 'rtb-explicit',
    VpcId: VPC_ID,
    Associations: [{ SubnetId: subnetId, Main: false }],
    Routes: [local, ...routes],
  });
  const main = (routes: RawRoute[], vpcId = VPC_ID): RawRouteTable => ({
    RouteTableId: 'rtb-main',
    VpcId: vpcId,
    Associations: [{ Main: true }],
    Routes: [local, ...routes],
  });
  const subnet = (tags?: Tag[]): RawSubnet => ({
    SubnetId: SUBNET_ID,
    VpcId: VPC_ID,
    ...(tags ? { Tags: tags } : {}),
  });

  it.each<[label: string, subnet: RawSubnet, tables: RawRouteTable[], tier: string | undefined]>([
    [
      'Tier tag wins over routes, lower-cased',
      subnet([{ Key: 'Tier', Value: 'Database' }]),
      [explicit([route({ GatewayId: IGW })])],
      'database',
    ],
    ['0.0.0.0/0 → internet gateway is public', subnet(), [explicit([route({ GatewayId: IGW })])], 'public'],
    ['0.0.0.0/0 → NAT gateway is private', subnet(), [explicit([route({ NatGatewayId: NAT })])], 'private'],
    [
      '::/0 → egress-only internet gateway is private',
      subnet(),
      [
        explicit([
          { DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: 'eigw-0123', State: 'active' },
        ]),
      ],
      'private',
    ],
    [
      '::/0 → internet gateway is public',
      subnet(),
      [explicit([{ DestinationIpv6CidrBlock: '::/0', GatewayId: IGW, State: 'active' }])],
      'public',
    ],
    [
      '0.0.0.0/0 → transit gateway is private',
      subnet(),
      [explicit([route({ TransitGatewayId: 'tgw-0123' })])],
      'private',
    ],
    [
      'NAT for IPv4 and an internet gateway for IPv6 is public',
      subnet(),
      [
        explicit([
          route({ NatGatewayId: NAT }),
          { DestinationIpv6CidrBlock: '::/0', GatewayId: IGW, State: 'active' },
        ]),
      ],
      'public',
    ],
    ['no default route is isolated', subnet(), [explicit([])], 'isolated'],
    [
      'a route to an internet gateway that is not the default route does not count',
      subnet(),
      [explicit([{ DestinationCidrBlock: '192.0.2.0/24', GatewayId: IGW, State: 'active' }])],
      'isolated',
    ],
    [
      'falls back to the VPC main table',
      subnet(),
      [explicit([route({ GatewayId: IGW })], 'subnet-0other'), main([route({ NatGatewayId: NAT })])],
      'private',
    ],
    [
      'explicit association wins over the main table',
      subnet(),
      [main([route({ GatewayId: IGW })]), explicit([])],
      'isolated',
    ],
    [
      'ignores the main table of another VPC',
      subnet(),
      [main([route({ GatewayId: IGW })], 'vpc-0other')],
      undefined,
    ],
    [
      'ignores a blackhole default route',
      subnet(),
      [explicit([route({ GatewayId: IGW, State: 'blackhole' })])],
      'isolated',
    ],
    [
      'a blackhole internet route does not hide a live NAT route',
      subnet(),
      [explicit([route({ GatewayId: IGW, State: 'blackhole' }), route({ NatGatewayId: NAT })])],
      'private',
    ],
    ['no route table known', subnet(), [], undefined],
    [
      'an empty Tier tag falls through to routes',
      subnet([{ Key: 'Tier', Value: '' }]),
      [explicit([])],
      'isolated',
    ],
  ])('%s', (_label, s, tables, tier) => {
    // Act
    const actual = subnetTier(s, tables, 'Tier');

    // Assess
    expect(actual).toBe(tier);
  });

  it('reads the configured tier tag key', () => {
    // Prepare
    const tagged = subnet([
      { Key: 'Tier', Value: 'web' },
      { Key: 'network/tier', Value: 'DMZ' },
    ]);

    // Act
    const tier = subnetTier(tagged, [], 'network/tier');

    // Assess
    expect(tier).toBe('dmz');
  });
});

describe('resolveEni', () => {
  const options = { tagKeys: DEFAULT_TAG_KEYS, tierTagKey: 'Tier' };

  /** Shaped like `aws ec2 describe-network-interfaces` output for an instance's primary interface. */
  const instanceEni: RawNetworkInterface = {
    NetworkInterfaceId: 'eni-0a1b2c3d4e5f67890',
    InterfaceType: 'interface',
    Description: 'Primary network interface',
    RequesterManaged: false,
    OwnerId: '123456789012',
    SubnetId: SUBNET_ID,
    VpcId: VPC_ID,
    AvailabilityZone: 'us-east-1a',
    Groups: [
      { GroupId: 'sg-0aaaaaaaaaaaaaaaa', GroupName: 'web' },
      { GroupId: 'sg-0bbbbbbbbbbbbbbbb', GroupName: 'ssh-from-bastion' },
    ],
    Attachment: { InstanceId: 'i-0123456789abcdef0', InstanceOwnerId: '123456789012' },
    PrivateIpAddress: '10.0.1.10',
    PrivateIpAddresses: [
      { PrivateIpAddress: '10.0.1.10', Association: { PublicIp: '203.0.113.10' } },
      { PrivateIpAddress: '10.0.1.11' },
    ],
    Association: { PublicIp: '203.0.113.10' },
    Ipv6Addresses: [{ Ipv6Address: '2600:1f18:1234:5601::10' }],
    TagSet: [
      { Key: 'Name', Value: 'web-1-eth0' },
      { Key: 'aws:cloudformation:stack-name', Value: 'web' },
    ],
  };
  const subnet: RawSubnet = {
    SubnetId: SUBNET_ID,
    VpcId: VPC_ID,
    AvailabilityZoneId: 'use1-az4',
    CidrBlock: '10.0.1.0/24',
    Ipv6CidrBlockAssociationSet: [{ Ipv6CidrBlock: '2600:1f18:1234:5601::/64' }],
    Tags: [{ Key: 'Name', Value: 'public-a' }],
  };
  const vpc: RawVpc = {
    VpcId: VPC_ID,
    CidrBlock: '10.0.0.0/16',
    CidrBlockAssociationSet: [{ CidrBlock: '10.0.0.0/16' }, { CidrBlock: '100.64.0.0/16' }],
    Ipv6CidrBlockAssociationSet: [{ Ipv6CidrBlock: '2600:1f18:1234:5600::/56' }],
    Tags: [{ Key: 'Name', Value: 'three-tier' }],
  };
  const routeTables: RawRouteTable[] = [
    {
      RouteTableId: 'rtb-0main',
      VpcId: VPC_ID,
      Associations: [{ Main: true }],
      Routes: [{ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' }],
    },
    {
      RouteTableId: 'rtb-0public',
      VpcId: VPC_ID,
      Associations: [{ SubnetId: SUBNET_ID, Main: false }],
      Routes: [
        { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
        { DestinationCidrBlock: '0.0.0.0/0', GatewayId: IGW, State: 'active' },
      ],
    },
  ];
  const instance: RawInstance = {
    InstanceId: 'i-0123456789abcdef0',
    Tags: [
      { Key: 'Name', Value: 'web-1' },
      { Key: 'Environment', Value: 'prod' },
      { Key: 'Application', Value: 'shop' },
      { Key: 'CostCenter', Value: '4711' },
    ],
  };

  it('resolves an instance interface with its subnet, VPC, route tables and instance', () => {
    // Act
    const info = resolveEni(instanceEni, { subnet, vpc, routeTables, instance }, options);

    // Assess
    expect(withoutAllTags(info)).toStrictEqual<EniInfo>({
      interfaceId: 'eni-0a1b2c3d4e5f67890',
      ownerId: '123456789012',
      eniType: 'interface',
      eniService: 'EC2',
      tags: { Name: 'web-1-eth0', Environment: 'prod', Application: 'shop' },
      securityGroupIds: ['sg-0aaaaaaaaaaaaaaaa', 'sg-0bbbbbbbbbbbbbbbb'],
      instanceId: 'i-0123456789abcdef0',
      subnetId: SUBNET_ID,
      vpcId: VPC_ID,
      azId: 'use1-az4',
      subnetTier: 'public',
      subnetName: 'public-a',
      vpcName: 'three-tier',
      addresses: ['10.0.1.10', '203.0.113.10', '10.0.1.11', '2600:1f18:1234:5601::10'],
      vpcCidrs: ['10.0.0.0/16', '100.64.0.0/16', '2600:1f18:1234:5600::/56'],
    });
  });

  it('resolves a NAT gateway interface whose subnet, VPC and tables are unknown', () => {
    // Prepare
    const natEni: RawNetworkInterface = {
      NetworkInterfaceId: 'eni-0nat000000000000',
      InterfaceType: 'nat_gateway',
      Description: `Interface for NAT Gateway ${NAT}`,
      RequesterId: '440000000000',
      RequesterManaged: true,
      OwnerId: '123456789012',
      SubnetId: SUBNET_ID,
      VpcId: VPC_ID,
      Groups: [],
      PrivateIpAddress: '10.0.1.99',
      PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.99', Association: { PublicIp: '198.51.100.7' } }],
      TagSet: [],
    };

    // Act
    const info = resolveEni(natEni, {}, options);

    // Assess
    expect(withoutAllTags(info)).toStrictEqual<EniInfo>({
      interfaceId: 'eni-0nat000000000000',
      ownerId: '123456789012',
      eniType: 'nat_gateway',
      eniService: 'NAT_GATEWAY',
      subnetId: SUBNET_ID,
      vpcId: VPC_ID,
      addresses: ['10.0.1.99', '198.51.100.7'],
    });
  });

  it('takes subnet and VPC ids from the describe outputs when the interface lacks them', () => {
    // Prepare
    const bare: RawNetworkInterface = { NetworkInterfaceId: 'eni-0bare', Description: 'RDSNetworkInterface' };
    const taggedSubnet: RawSubnet = { ...subnet, Tags: [{ Key: 'Tier', Value: 'Data' }] };

    // Act
    const info = resolveEni(bare, { subnet: taggedSubnet, routeTables: [] }, options);

    // Assess
    expect(withoutAllTags(info)).toStrictEqual<EniInfo>({
      interfaceId: 'eni-0bare',
      eniService: 'RDS',
      subnetId: SUBNET_ID,
      vpcId: VPC_ID,
      azId: 'use1-az4',
      subnetTier: 'data',
    });
  });
});

/** EniInfo without `allTags` (every tag, kept for suppression rules), which these tables do not list. */
function withoutAllTags(info: EniInfo | undefined): EniInfo | undefined {
  if (!info) return info;
  const { allTags: _allTags, ...rest } = info;
  return rest;
}
