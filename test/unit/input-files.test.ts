import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { eventProblem } from '../../src/cli/invoke.js';
import { ipRangesProblem } from '../../src/enrich/ip-ranges.js';
import { inventoryProblem } from '../../src/enrich/static-inventory.js';
import { inputProblem } from '../../src/local/inputs.js';
import { runCli } from '../helpers/cli.js';

const LINE =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n';
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n';
const PACKAGE_JSON = '{\n  "name": "flowlog-enrich",\n  "version": "0.1.0"\n}\n';

describe('the shape of the files a command is given', () => {
  it.each([
    {
      name: 'AWS ip-ranges.json',
      value: { prefixes: [{ ip_prefix: '3.5.140.0/22', service: 'S3' }] },
      problem: undefined,
    },
    {
      name: 'IPv6 only',
      value: { ipv6_prefixes: [{ ipv6_prefix: '2600:1f14::/35', service: 'EC2' }] },
      problem: undefined,
    },
    {
      name: 'package.json',
      value: { name: 'flowlog-enrich' },
      problem: 'not an AWS ip-ranges file (no prefixes array)',
    },
    {
      name: 'an array',
      value: [],
      problem: 'not an AWS ip-ranges file (an array, not an object with a prefixes array)',
    },
    { name: 'prefixes not a list', value: { prefixes: {} }, problem: 'prefixes is not an array' },
    {
      name: 'an entry without its prefix',
      value: { prefixes: [{ ip_prefix: '3.5.140.0/22', service: 'S3' }, { service: 'S3' }] },
      problem: 'prefixes[1] has no ip_prefix and service strings',
    },
  ])('ip-ranges: $name', ({ value, problem }) => {
    expect(ipRangesProblem(value)).toBe(problem);
  });

  it.each([
    {
      name: 'what inventory writes',
      value: {
        NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1' }],
        Subnets: [],
        Vpcs: [],
        RouteTables: [{}],
        Reservations: [{ Instances: [] }],
      },
      problem: undefined,
    },
    {
      name: 'package.json',
      value: { name: 'flowlog-enrich' },
      problem:
        'not an inventory file (no NetworkInterfaces array; `flowlog-enrich inventory --out FILE` writes one)',
    },
    {
      name: 'a list of interfaces',
      value: [{ NetworkInterfaceId: 'eni-1' }],
      problem:
        'not an inventory file (an array, not an object with NetworkInterfaces, Subnets, Vpcs, RouteTables and Reservations arrays)',
    },
    {
      name: 'Subnets not a list',
      value: { NetworkInterfaces: [], Subnets: { SubnetId: 's' } },
      problem: 'Subnets is not an array',
    },
    {
      name: 'an interface without its id',
      value: { NetworkInterfaces: [{ SubnetId: 'subnet-1' }] },
      problem: 'NetworkInterfaces[0] is not an object with a NetworkInterfaceId string',
    },
  ])('inventory: $name', ({ value, problem }) => {
    expect(inventoryProblem(value)).toBe(problem);
  });

  it.each([
    { name: 'a Firehose event', value: { records: [{ recordId: '1', data: 'MiAx' }] }, problem: undefined },
    {
      name: 'an S3 event',
      value: { Records: [] },
      problem: 'not a Firehose transformation event (no records array)',
    },
    {
      name: 'a record without id',
      value: { records: [{ data: 'MiAx' }] },
      problem: 'records[0] has no recordId string',
    },
    {
      name: 'a record without data',
      value: { records: [{ recordId: 'a' }] },
      problem: 'records[0] (a) has no data string',
    },
  ])('event: $name', ({ value, problem }) => {
    expect(eventProblem(value)).toBe(problem);
  });

  it.each([
    { name: 'flow-log lines', head: Buffer.from(LINE), file: 'a.log', problem: undefined },
    { name: 'the S3 header line', head: Buffer.from(HEADER + LINE), file: 'a.log', problem: undefined },
    { name: 'gzip of flow logs', head: gzipSync(HEADER + LINE), file: 'a.log.gz', problem: undefined },
    { name: 'gzip without .gz', head: gzipSync(LINE), file: 'a.log', problem: undefined },
    {
      name: 'the head of a larger gzip',
      head: gzipSync(LINE.repeat(20_000)).subarray(0, 4096),
      file: 'a.gz',
      problem: undefined,
    },
    {
      name: 'error records',
      head: Buffer.from('{"rawData":"MiAx","errorCode":"x"}\n'),
      file: 'e',
      problem: undefined,
    },
    {
      name: 'CloudWatch Logs envelopes',
      head: Buffer.from('{"messageType":"DATA_MESSAGE","logEvents":[]}\n'),
      file: 'e',
      problem: undefined,
    },
    { name: 'an empty file', head: Buffer.alloc(0), file: 'a.log', problem: undefined },
    {
      name: 'package.json',
      head: Buffer.from(PACKAGE_JSON),
      file: 'package.json',
      problem:
        'not flow-log text: the first line is JSON, neither flow-log fields nor Firehose error records',
    },
    {
      name: 'gzip of JSON',
      head: gzipSync('{"a": 1}\n'),
      file: 'x.json.gz',
      problem:
        'gzip of something else: the first line is JSON, neither flow-log fields nor Firehose error records',
    },
    {
      name: 'HTML',
      head: Buffer.from('<!doctype html>\n<html>'),
      file: 'index.html',
      problem: 'not flow-log text: the first line is HTML or XML',
    },
    {
      name: 'CSV',
      head: Buffer.from('srcaddr,dstaddr\n10.0.0.1,10.0.0.2\n'),
      file: 'a.csv',
      problem:
        'not flow-log text: the first line is not flow-log fields separated by spaces ("srcaddr,dstaddr")',
    },
    {
      name: 'a PNG',
      head: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
      file: 'a.png',
      problem: 'not flow-log text, gzip or Parquet (binary data starting 89 50 4e 47 0d 0a 1a 0a)',
    },
    {
      name: 'not gzip but .gz',
      head: Buffer.from(LINE),
      file: 'a.log.gz',
      problem: 'named .gz but not gzip data',
    },
    { name: 'Parquet', head: Buffer.from('PAR1\x15\x04'), file: 'a.parquet', problem: undefined },
    {
      name: 'Parquet without its name',
      head: Buffer.from('PAR1\x15\x04'),
      file: 'a.log',
      problem: 'Parquet data in a file whose name does not end in .parquet (rename it)',
    },
  ])('input: $name', ({ head, file, problem }) => {
    expect(inputProblem(head, file)).toBe(problem);
  });
});

describe('a file of the wrong shape is one line naming the flag, the file and what is wrong (exit 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-input-files-'));
  const file = (name: string, content: string | Buffer) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  const packageJson = file('package.json', PACKAGE_JSON);
  const flowLog = file('flows.log', LINE);
  const event = 'events/direct-default-format.json';
  const out = join(dir, 'out');

  it.each([
    {
      name: 'run --ip-ranges package.json',
      argv: ['run', '--input', flowLog, '--out', out, '--ip-ranges', packageJson],
      message: `--ip-ranges ${packageJson}: not an AWS ip-ranges file (no prefixes array)`,
    },
    {
      name: 'invoke --ip-ranges of a file that is not JSON',
      argv: ['invoke', '--event', event, '--ip-ranges', flowLog],
      message: `--ip-ranges ${flowLog}: not JSON (`,
    },
    {
      name: 'run --inventory package.json',
      argv: ['run', '--input', flowLog, '--out', out, '--inventory', packageJson],
      env: { ENRICHMENT: 'ec2' },
      message: `--inventory ${packageJson}: not an inventory file (no NetworkInterfaces array; \`flowlog-enrich inventory --out FILE\` writes one)`,
    },
    {
      name: 'invoke --inventory with interfaces as an object',
      argv: ['invoke', '--event', event, '--inventory', file('inv.json', '{"NetworkInterfaces": {}}')],
      env: { ENRICHMENT: 'ec2' },
      message: `--inventory ${join(dir, 'inv.json')}: NetworkInterfaces is not an array`,
    },
    {
      name: 'run --input package.json',
      argv: ['run', '--input', packageJson, '--out', out],
      message: `--input ${packageJson}: not flow-log text: the first line is JSON, neither flow-log fields nor Firehose error records`,
    },
    {
      name: 'run --input of a picture',
      argv: [
        'run',
        '--input',
        file('a.png', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')),
        '--out',
        out,
      ],
      message: `--input ${join(dir, 'a.png')}: not flow-log text, gzip or Parquet (binary data starting 89 50 4e 47 0d 0a 1a 0a)`,
    },
    {
      name: 'invoke --event package.json',
      argv: ['invoke', '--event', packageJson],
      message: `--event ${packageJson}: not a Firehose transformation event (no records array)`,
    },
    {
      name: 'invoke --event of a file that is not JSON',
      argv: ['invoke', '--event', flowLog],
      message: `--event ${flowLog}: not JSON (`,
    },
  ])('$name', async ({ argv, env, message }) => {
    // Act
    const { code, stdout, stderr } = await runCli(argv, env);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.startsWith(`flowlog-enrich: ${message}`), stderr).toBe(true);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a file in an input folder that is not flow logs is named once, the others are read (exit 1)', async () => {
    // Prepare
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    writeFileSync(join(folder, 'flows.log'), LINE);
    writeFileSync(join(folder, 'manifest.json'), PACKAGE_JSON);

    // Act
    const { code, stdout } = await runCli(['run', '--input', folder, '--out', join(dir, 'folder-out'), '-q']);

    // Assess
    expect(code).toBe(1);
    expect(stdout).toContain('1 Ok, 0 Dropped, 0 ProcessingFailed');
    expect(stdout).toContain(
      `✗ ${join(folder, 'manifest.json')}:1: not flow-log text: the first line is JSON, neither flow-log fields nor Firehose error records`,
    );
  });
});
