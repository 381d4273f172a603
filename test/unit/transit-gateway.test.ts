import { describe, expect, it } from 'vitest';
import { COLUMNS } from '../../src/columns.js';
import { ParseError } from '../../src/errors.js';
import {
  ALL_FIELDS_FORMAT,
  DEFAULT_FORMAT,
  FIELDS,
  formatUpTo,
  isTransitGatewayFormat,
  TGW_DEFAULT_FORMAT,
} from '../../src/flowlog/fields.js';
import { parseFormat } from '../../src/flowlog/format.js';
import { createLineParser, type Flow } from '../../src/flowlog/parse.js';
import { createRecordParser } from '../../src/flowlog/record.js';
import { tgwLine, tgwRecord, VPN_SOURCE } from '../fixtures/tgw-lines.js';

// Transit Gateway flow logs (https://docs.aws.amazon.com/vpc/latest/tgw/tgw-flow-logs.html#flow-log-records):
// their fields are entries of the column table, typed and validated like the VPC ones.

const OPTIONS = { maxLineLength: 8192, maxDecompressedBytes: 1 << 20 };
const CUSTOM_TGW_FORMAT =
  '${version} ${account-id} ${tgw-id} ${tgw-attachment-id} ${tgw-pair-attachment-id} ${tgw-src-eni} ${tgw-dst-eni} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${flow-direction} ${packets-lost-no-route} ${packets-lost-blackhole}';
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Both paths of the record reader: the byte path (one record) and the reference line parser. */
function readBothWays(format: string, line: string): { bytes: Flow[]; reference: Flow } {
  const spec = parseFormat(format);
  const bytes: Flow[] = [];
  createRecordParser(spec, OPTIONS)(b64(`${line}\n`), bytes, {
    decoded: false,
    lines: 0,
    headers: 0,
    control: false,
  });
  return { bytes, reference: createLineParser(spec, OPTIONS)(line) };
}

function parseError(format: string, line: string): ParseError {
  try {
    createLineParser(parseFormat(format), OPTIONS)(line);
  } catch (error) {
    return error as ParseError;
  }
  throw new Error('the line was read');
}

describe('the Transit Gateway fields', () => {
  it('are every field of the default TGW format, all known to the column table', () => {
    // Prepare
    const names = TGW_DEFAULT_FORMAT.split(' ').map((token) => token.slice(2, -1));

    // Assess
    expect(names).toHaveLength(36);
    expect(parseFormat(TGW_DEFAULT_FORMAT).unknown).toStrictEqual([]);
    const only = COLUMNS.filter((c) => c.transitGateway).map((c) => c.awsName);
    expect(only).toStrictEqual([
      'resource-type',
      'tgw-id',
      'tgw-attachment-id',
      'tgw-src-vpc-account-id',
      'tgw-dst-vpc-account-id',
      'tgw-src-vpc-id',
      'tgw-dst-vpc-id',
      'tgw-src-subnet-id',
      'tgw-dst-subnet-id',
      'tgw-src-eni',
      'tgw-dst-eni',
      'tgw-src-az-id',
      'tgw-dst-az-id',
      'tgw-pair-attachment-id',
      'packets-lost-no-route',
      'packets-lost-blackhole',
      'packets-lost-mtu-exceeded',
      'packets-lost-ttl-expired',
    ]);
    expect(only.every((name) => names.includes(name as string))).toBe(true);
    expect(FIELDS.get('packets-lost-blackhole')).toMatchObject({ kind: 'int', glue: 'bigint', since: 6 });
  });

  it('stay out of the VPC formats this code builds', () => {
    expect(isTransitGatewayFormat(parseFormat(ALL_FIELDS_FORMAT))).toBe(false);
    expect(isTransitGatewayFormat(parseFormat(formatUpTo(11)))).toBe(false);
    expect(isTransitGatewayFormat(parseFormat(DEFAULT_FORMAT))).toBe(false);
    expect(isTransitGatewayFormat(parseFormat(TGW_DEFAULT_FORMAT))).toBe(true);
    expect(isTransitGatewayFormat(parseFormat(CUSTOM_TGW_FORMAT))).toBe(true);
  });
});

describe('reading Transit Gateway lines', () => {
  it.each([
    { name: "AWS's default TGW format", format: TGW_DEFAULT_FORMAT },
    { name: 'a custom TGW format', format: CUSTOM_TGW_FORMAT },
  ])('reads $name into typed fields, the same by byte and by the reference parser', ({ format }) => {
    // Act
    const { bytes, reference } = readBothWays(format, tgwLine(format));

    // Assess
    expect(reference).toStrictEqual(tgwRecord(format));
    expect(bytes).toStrictEqual([reference]);
  });

  it('reads the default format whole: every value typed as the column table says', () => {
    // Act
    const { reference } = readBothWays(TGW_DEFAULT_FORMAT, tgwLine());

    // Assess
    expect(reference).toStrictEqual({
      version: 6,
      resource_type: 'TransitGateway',
      account_id: '111111111111',
      tgw_id: 'tgw-0a1b2c3d4e5f60789',
      tgw_attachment_id: 'tgw-attach-0aaaaaaaaaaaaaaa1',
      tgw_src_vpc_account_id: '111111111111',
      tgw_dst_vpc_account_id: '222222222222',
      tgw_src_vpc_id: 'vpc-0aaaaaaaaaaaaaaa1',
      tgw_dst_vpc_id: 'vpc-0bbbbbbbbbbbbbbb2',
      tgw_src_subnet_id: 'subnet-0aaaaaaaaaaaaaaa1',
      tgw_dst_subnet_id: 'subnet-0bbbbbbbbbbbbbbb2',
      tgw_src_eni: 'eni-0aaaaaaaaaaaaaaa1',
      tgw_dst_eni: 'eni-0bbbbbbbbbbbbbbb2',
      tgw_src_az_id: 'use1-az1',
      tgw_dst_az_id: 'use1-az2',
      tgw_pair_attachment_id: 'tgw-attach-0bbbbbbbbbbbbbbb2',
      srcaddr: '10.1.1.10',
      dstaddr: '10.2.1.20',
      srcport: 49152,
      dstport: 443,
      protocol: 6,
      packets: 10,
      bytes: 5000,
      start: 1700000000,
      end: 1700000060,
      log_status: 'OK',
      type: 'IPv4',
      packets_lost_no_route: 0,
      packets_lost_blackhole: 0,
      packets_lost_mtu_exceeded: 2,
      packets_lost_ttl_expired: 0,
      tcp_flags: 3,
      region: 'us-east-1',
      flow_direction: 'egress',
      pkt_src_aws_service: null,
      pkt_dst_aws_service: null,
    });
  });

  it('reads a VPN attachment as the source: no source VPC, account, subnet or interface', () => {
    // Prepare
    const vpn = VPN_SOURCE;

    // Act
    const { bytes, reference } = readBothWays(TGW_DEFAULT_FORMAT, tgwLine(TGW_DEFAULT_FORMAT, vpn));

    // Assess
    expect(reference).toStrictEqual(tgwRecord(TGW_DEFAULT_FORMAT, vpn));
    expect(bytes).toStrictEqual([reference]);
  });

  it.each([
    { field: 'tgw-id', value: 'tgw-xyz123456789', position: 4 },
    { field: 'tgw-id', value: 'tgw-attach-0aaaaaaaaaaaaaaa1', position: 4 },
    { field: 'tgw-attachment-id', value: 'tgw-0aaaaaaaaaaaaaaa1', position: 5 },
    { field: 'tgw-src-vpc-account-id', value: '12345', position: 6 },
    { field: 'tgw-dst-vpc-account-id', value: 'unknown', position: 7 },
    { field: 'tgw-src-vpc-id', value: 'vpc-0AAAAAAAAAAAAAAA1', position: 8 },
    { field: 'tgw-dst-subnet-id', value: 'subnet-0g', position: 11 },
    { field: 'tgw-src-eni', value: 'eni-', position: 12 },
    { field: 'tgw-dst-eni', value: 'i-0bbbbbbbbbbbbbbb2', position: 13 },
    { field: 'tgw-pair-attachment-id', value: 'tgw-attach-short', position: 16 },
    { field: 'resource-type', value: 'VPC', position: 2 },
  ])(
    'fails $field = $value with invalid_field, naming the field and its position',
    ({ field, value, position }) => {
      // Act
      const error = parseError(TGW_DEFAULT_FORMAT, tgwLine(TGW_DEFAULT_FORMAT, { [field]: value }));

      // Assess
      expect(error).toBeInstanceOf(ParseError);
      expect(error.reason).toBe('invalid_field');
      expect(error.message).toContain(`field ${field} (position ${position})`);
    },
  );

  it.each([
    { field: 'packets-lost-blackhole', value: '-3' },
    { field: 'packets-lost-no-route', value: '1.5' },
    { field: 'packets-lost-ttl-expired', value: 'x' },
  ])('fails a $field that is not a non-negative integer ($value) with invalid_field', ({ field, value }) => {
    // Act
    const error = parseError(TGW_DEFAULT_FORMAT, tgwLine(TGW_DEFAULT_FORMAT, { [field]: value }));

    // Assess
    expect(error.reason).toBe('invalid_field');
    expect(error.message).toContain(`field ${field} `);
  });
});
