import { describe, expect, it } from 'vitest';
import { ParseError } from '../../src/errors.js';
import { DEFAULT_FORMAT, formatUpTo } from '../../src/flowlog/fields.js';
import { parseFormat } from '../../src/flowlog/format.js';
import { createLineParser } from '../../src/flowlog/parse.js';
import { V2_ACCEPTED_SSH, V2_ACCEPTED_SSH_LINE } from '../fixtures/aws-v2-example.js';

const parserFor = (format: string) => createLineParser(parseFormat(format), { maxLineLength: 8192 });

// AWS documentation examples, https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html.
// Whole records are asserted: a table that passed with two fields swapped would prove nothing.
const V3_TCP_FLAGS_FORMAT =
  '${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}';
const V3_TRANSIT_FORMAT =
  '${version} ${interface-id} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${action} ${log-status}';
const V5_SERVICE_FORMAT =
  '${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${type} ${packets} ${bytes} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${action} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${flow-direction} ${log-status}';

const valid = [
  {
    name: 'v2 accepted SSH',
    format: DEFAULT_FORMAT,
    line: V2_ACCEPTED_SSH_LINE,
    expected: V2_ACCEPTED_SSH,
  },
  {
    name: 'v2 rejected RDP',
    format: DEFAULT_FORMAT,
    line: '2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK',
    expected: {
      version: 2,
      account_id: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
      srcaddr: '172.31.9.69',
      dstaddr: '172.31.9.12',
      srcport: 49761,
      dstport: 3389,
      protocol: 6,
      packets: 20,
      bytes: 4249,
      start: 1418530010,
      end: 1418530070,
      action: 'REJECT',
      log_status: 'OK',
    },
  },
  {
    name: 'v2 NODATA',
    format: DEFAULT_FORMAT,
    line: '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA',
    expected: {
      version: 2,
      account_id: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
      srcaddr: null,
      dstaddr: null,
      srcport: null,
      dstport: null,
      protocol: null,
      packets: null,
      bytes: null,
      start: 1431280876,
      end: 1431280934,
      action: null,
      log_status: 'NODATA',
    },
  },
  {
    name: 'v2 SKIPDATA',
    format: DEFAULT_FORMAT,
    line: '2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA',
    expected: {
      version: 2,
      account_id: '123456789010',
      interface_id: 'eni-11111111aaaaaaaaa',
      srcaddr: null,
      dstaddr: null,
      srcport: null,
      dstport: null,
      protocol: null,
      packets: null,
      bytes: null,
      start: 1431280876,
      end: 1431280934,
      action: null,
      log_status: 'SKIPDATA',
    },
  },
  {
    name: 'v2 IPv6',
    format: DEFAULT_FORMAT,
    line: '2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK',
    expected: {
      version: 2,
      account_id: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
      srcaddr: '2001:db8:1234:a100:8d6e:3477:df66:f105',
      dstaddr: '2001:db8:1234:a102:3304:8879:34cf:4071',
      srcport: 34892,
      dstport: 22,
      protocol: 6,
      packets: 54,
      bytes: 8855,
      start: 1477913708,
      end: 1477913820,
      action: 'ACCEPT',
      log_status: 'OK',
    },
  },
  {
    name: 'v3 TCP flag sequence (SYN)',
    format: V3_TCP_FLAGS_FORMAT,
    line: '3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789012 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK',
    expected: {
      version: 3,
      vpc_id: 'vpc-abcdefab012345678',
      subnet_id: 'subnet-aaaaaaaa012345678',
      instance_id: 'i-01234567890123456',
      interface_id: 'eni-1235b8ca123456789',
      account_id: '123456789012',
      type: 'IPv4',
      srcaddr: '52.213.180.42',
      dstaddr: '10.0.0.62',
      srcport: 43416,
      dstport: 5001,
      pkt_srcaddr: '52.213.180.42',
      pkt_dstaddr: '10.0.0.62',
      protocol: 6,
      bytes: 568,
      packets: 8,
      start: 1566848875,
      end: 1566848933,
      action: 'ACCEPT',
      tcp_flags: 2,
      log_status: 'OK',
    },
  },
  {
    name: 'v3 transit gateway',
    format: V3_TRANSIT_FORMAT,
    line: '3 eni-33333333333333333 123456789010 vpc-abcdefab012345678 subnet-22222222bbbbbbbbb i-01234567890123456 10.20.33.164 10.40.2.236 39812 80 6 3 IPv4 10.20.33.164 10.40.2.236 ACCEPT OK',
    expected: {
      version: 3,
      interface_id: 'eni-33333333333333333',
      account_id: '123456789010',
      vpc_id: 'vpc-abcdefab012345678',
      subnet_id: 'subnet-22222222bbbbbbbbb',
      instance_id: 'i-01234567890123456',
      srcaddr: '10.20.33.164',
      dstaddr: '10.40.2.236',
      srcport: 39812,
      dstport: 80,
      protocol: 6,
      tcp_flags: 3,
      type: 'IPv4',
      pkt_srcaddr: '10.20.33.164',
      pkt_dstaddr: '10.40.2.236',
      action: 'ACCEPT',
      log_status: 'OK',
    },
  },
  {
    name: 'v5 service name, traffic path and flow direction',
    format: V5_SERVICE_FORMAT,
    line: '5 52.95.128.179 10.0.0.71 80 34210 6 1616729292 1616729349 IPv4 14 15044 123456789012 vpc-abcdefab012345678 subnet-0123456789abcdef i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 19 52.95.128.179 10.0.0.71 S3 - - ingress OK',
    expected: {
      version: 5,
      srcaddr: '52.95.128.179',
      dstaddr: '10.0.0.71',
      srcport: 80,
      dstport: 34210,
      protocol: 6,
      start: 1616729292,
      end: 1616729349,
      type: 'IPv4',
      packets: 14,
      bytes: 15044,
      account_id: '123456789012',
      vpc_id: 'vpc-abcdefab012345678',
      subnet_id: 'subnet-0123456789abcdef',
      instance_id: 'i-0c50d5961bcb2d47b',
      interface_id: 'eni-1235b8ca123456789',
      region: 'ap-southeast-2',
      az_id: 'apse2-az3',
      sublocation_type: null,
      sublocation_id: null,
      action: 'ACCEPT',
      tcp_flags: 19,
      pkt_srcaddr: '52.95.128.179',
      pkt_dstaddr: '10.0.0.71',
      pkt_src_aws_service: 'S3',
      pkt_dst_aws_service: null,
      traffic_path: null,
      flow_direction: 'ingress',
      log_status: 'OK',
    },
  },
  {
    name: 'v5 egress through an internet gateway (traffic-path 8)',
    format: V5_SERVICE_FORMAT,
    line: '5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-0123456789abcdef i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK',
    expected: {
      version: 5,
      srcaddr: '10.0.0.71',
      dstaddr: '52.95.128.179',
      srcport: 34210,
      dstport: 80,
      protocol: 6,
      start: 1616729292,
      end: 1616729349,
      type: 'IPv4',
      packets: 7,
      bytes: 471,
      account_id: '123456789012',
      vpc_id: 'vpc-abcdefab012345678',
      subnet_id: 'subnet-0123456789abcdef',
      instance_id: 'i-0c50d5961bcb2d47b',
      interface_id: 'eni-1235b8ca123456789',
      region: 'ap-southeast-2',
      az_id: 'apse2-az3',
      sublocation_type: null,
      sublocation_id: null,
      action: 'ACCEPT',
      tcp_flags: 3,
      pkt_srcaddr: '10.0.0.71',
      pkt_dstaddr: '52.95.128.179',
      pkt_src_aws_service: null,
      pkt_dst_aws_service: 'S3',
      traffic_path: 8,
      flow_direction: 'egress',
      log_status: 'OK',
    },
  },
  {
    name: 'a lower version number than the format implies is data, not an error',
    format: V5_SERVICE_FORMAT,
    line: '2 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-0123456789abcdef i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK',
    expected: expect.objectContaining({ version: 2, traffic_path: 8 }),
  },
];

describe('createLineParser', () => {
  it.each(valid)('parses $name', ({ format, line, expected }) => {
    // Prepare
    const parse = parserFor(format);

    // Act
    const record = parse(line);

    // Assess
    expect(record).toStrictEqual(expected);
  });

  it('parses every field of version 8, ECS and reject-reason included', () => {
    const line = [
      '8 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25 10.0.2.40 49152 8080 6 12 4380 1700000000 1700000060 REJECT OK',
      'vpc-0a1b2c3d4e5f60718 subnet-0a1b2c3d4e5f60711 i-0a1b2c3d4e5f60718 2 IPv6 fd00::1 fd00::2 us-east-1 use1-az1',
      'outpost op-0123456789abcdef0 S3 EC2 egress 2',
      'arn:aws:ecs:us-east-1:123456789012:cluster/web web arn:aws:ecs:us-east-1:123456789012:container-instance/web/0f1e',
      '0f1e c0 c1 web-svc arn:aws:ecs:us-east-1:123456789012:task-definition/web:7',
      'arn:aws:ecs:us-east-1:123456789012:task/web/7e1b 7e1b BPA',
    ].join(' ');
    const record = parserFor(formatUpTo(8))(line);
    expect(record).toStrictEqual({
      version: 8,
      account_id: '123456789012',
      interface_id: 'eni-0a1b2c3d4e5f60718',
      srcaddr: '10.0.1.25',
      dstaddr: '10.0.2.40',
      srcport: 49152,
      dstport: 8080,
      protocol: 6,
      packets: 12,
      bytes: 4380,
      start: 1700000000,
      end: 1700000060,
      action: 'REJECT',
      log_status: 'OK',
      vpc_id: 'vpc-0a1b2c3d4e5f60718',
      subnet_id: 'subnet-0a1b2c3d4e5f60711',
      instance_id: 'i-0a1b2c3d4e5f60718',
      tcp_flags: 2,
      type: 'IPv6',
      pkt_srcaddr: 'fd00::1',
      pkt_dstaddr: 'fd00::2',
      region: 'us-east-1',
      az_id: 'use1-az1',
      sublocation_type: 'outpost',
      sublocation_id: 'op-0123456789abcdef0',
      pkt_src_aws_service: 'S3',
      pkt_dst_aws_service: 'EC2',
      flow_direction: 'egress',
      traffic_path: 2,
      ecs_cluster_arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/web',
      ecs_cluster_name: 'web',
      ecs_container_instance_arn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/web/0f1e',
      ecs_container_instance_id: '0f1e',
      ecs_container_id: 'c0',
      ecs_second_container_id: 'c1',
      ecs_service_name: 'web-svc',
      ecs_task_definition_arn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7',
      ecs_task_arn: 'arn:aws:ecs:us-east-1:123456789012:task/web/7e1b',
      ecs_task_id: '7e1b',
      reject_reason: 'BPA',
    });
  });

  it('reads the AWS TCP-flag example that has a doubled space (SYN-ACK and FIN, 19)', () => {
    const line =
      '3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62 52.213.180.42 5001 43638  10.0.0.62 52.213.180.42 6 967 14 1566933133 1566933193 ACCEPT 19 OK';
    const record = parserFor(V3_TCP_FLAGS_FORMAT)(line);
    expect(record).toMatchObject({
      srcport: 5001,
      dstport: 43638,
      pkt_srcaddr: '10.0.0.62',
      bytes: 967,
      packets: 14,
      tcp_flags: 19,
    });
  });

  it('parses the NAT gateway example (instance-id absent on a requester-managed interface)', () => {
    const parse = parserFor(
      '${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr}',
    );
    expect(parse('- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5')).toStrictEqual({
      instance_id: null,
      interface_id: 'eni-1235b8ca123456789',
      srcaddr: '10.0.1.5',
      dstaddr: '10.0.0.220',
      pkt_srcaddr: '10.0.1.5',
      pkt_dstaddr: '203.0.113.5',
    });
  });

  it('parses encryption-status (VPC Encryption Controls) and rejects an undocumented value', () => {
    const parse = parserFor(
      '${flow-direction} ${traffic-path} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${encryption-status}',
    );
    expect(parse('egress 1 10.0.128.55 10.0.133.8 80 43236 1')).toStrictEqual({
      flow_direction: 'egress',
      traffic_path: 1,
      srcaddr: '10.0.128.55',
      dstaddr: '10.0.133.8',
      srcport: 80,
      dstport: 43236,
      encryption_status: 1,
    });
    expect(() => parse('egress 1 10.0.128.55 10.0.133.8 80 43236 4')).toThrow(
      /field encryption-status \(position 7\): 4 is out of range/,
    );
  });

  it('passes a field it does not know through as a string under its _ name', () => {
    const parse = parserFor('${version} ${srcaddr} ${future-field}');
    expect(parse('9 10.0.0.1 some-value')).toStrictEqual({
      version: 9,
      srcaddr: '10.0.0.1',
      future_field: 'some-value',
    });
  });

  const GOOD =
    '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
  const withToken = (position: number, value: string) => {
    const tokens = GOOD.split(' ');
    tokens[position - 1] = value;
    return tokens.join(' ');
  };

  // One row per rejection reason; each names the field, its position and the value.
  const invalid = [
    {
      name: 'too few fields',
      line: GOOD.split(' ').slice(0, 11).join(' '),
      reason: 'field_count',
      message: /expected 14 .* found 11/,
    },
    { name: 'too many fields', line: `${GOOD} extra`, reason: 'field_count', message: /found 15/ },
    {
      // Node's isIP accepts them; flow logs never write them (issue: they were accepted as addresses).
      name: 'an IPv6 address with a zone id',
      line: withToken(4, 'fe80::1%eth0'),
      reason: 'invalid_field',
      message: /field srcaddr \(position 4\): "fe80::1%eth0"/,
    },
    {
      name: 'non-numeric port',
      line: withToken(7, '80x'),
      reason: 'invalid_field',
      message: /field dstport \(position 7\): "80x" is not a non-negative integer/,
    },
    {
      name: 'negative counter',
      line: withToken(10, '-5'),
      reason: 'invalid_field',
      message: /field bytes \(position 10\): "-5"/,
    },
    {
      name: 'port out of range',
      line: withToken(6, '65536'),
      reason: 'invalid_field',
      message: /field srcport \(position 6\): 65536 is out of range \(maximum 65535\)/,
    },
    {
      name: 'protocol out of range',
      line: withToken(8, '256'),
      reason: 'invalid_field',
      message: /field protocol \(position 8\): 256 is out of range/,
    },
    {
      name: 'bad IPv4 address',
      line: withToken(4, '172.31.16.300'),
      reason: 'invalid_field',
      message: /field srcaddr \(position 4\): "172.31.16.300" is not a valid IPv4 or IPv6 address/,
    },
    {
      name: 'bad IPv6 address',
      line: withToken(5, '2001:db8::g1'),
      reason: 'invalid_field',
      message: /field dstaddr \(position 5\)/,
    },
    {
      name: 'unknown action',
      line: withToken(13, 'ALLOW'),
      reason: 'invalid_field',
      message: /field action \(position 13\): "ALLOW" is not one of ACCEPT, REJECT/,
    },
    {
      name: 'unknown log-status',
      line: withToken(14, 'FINE'),
      reason: 'invalid_field',
      message: /field log-status \(position 14\): "FINE" is not one of OK, NODATA, SKIPDATA/,
    },
    {
      name: 'account id of 11 digits',
      line: withToken(2, '12345678901'),
      reason: 'invalid_field',
      message: /field account-id \(position 2\)/,
    },
    {
      name: 'malformed interface id',
      line: withToken(3, 'eni-XYZ'),
      reason: 'invalid_field',
      message: /field interface-id \(position 3\): "eni-XYZ" does not match/,
    },
    {
      name: 'interface id of the wrong kind',
      line: withToken(3, 'vpc-1235b8ca123456789'),
      reason: 'invalid_field',
      message: /field interface-id/,
    },
    {
      name: 'integer beyond 2^53',
      line: withToken(10, '99999999999999999'),
      reason: 'invalid_field',
      message: /field bytes/,
    },
    {
      name: 'over-long line',
      line: `${GOOD}${' '.repeat(9000)}`,
      reason: 'line_too_long',
      message: /over the limit of 8192/,
    },
  ];

  it.each(invalid)('rejects $name', ({ line, reason, message }) => {
    const parse = parserFor(DEFAULT_FORMAT);
    const act = () => parse(line);
    expect(act).toThrow(ParseError);
    expect(act).toThrow(message);
    try {
      act();
    } catch (error) {
      expect((error as ParseError).reason).toBe(reason);
    }
  });

  it.each([
    { field: 'vpc-id', format: '${vpc-id}', value: 'vpc-12' },
    { field: 'subnet-id', format: '${subnet-id}', value: 'subnet-zzzzzzzz' },
    { field: 'instance-id', format: '${instance-id}', value: 'i-' },
    { field: 'type', format: '${type}', value: 'IPv5' },
    { field: 'flow-direction', format: '${flow-direction}', value: 'inbound' },
    { field: 'sublocation-type', format: '${sublocation-type}', value: 'moon' },
    { field: 'tcp-flags', format: '${tcp-flags}', value: '256' },
  ])('rejects a malformed $field', ({ field, format, value }) => {
    expect(() => parserFor(format)(value)).toThrow(new RegExp(`field ${field} \\(position 1\\)`));
  });
});
