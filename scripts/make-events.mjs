// Writes the sample Firehose events in events/ from AWS's documented example flow-log records.
// Source of the lines: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html
// Usage: node scripts/make-events.mjs
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const ARN = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/flowlog-enrich';
const ts = 1418530070000;
let id = 0;
const recordId = () => `4954698668313554428650745793632167570019247115678515${String(++id).padStart(4, '0')}`;
const record = (data) => ({
  recordId: recordId(),
  approximateArrivalTimestamp: ts,
  data: Buffer.isBuffer(data) ? data.toString('base64') : Buffer.from(data).toString('base64'),
});
const event = (records, extra = {}) => ({
  invocationId: '00540a87-5050-496a-84e4-e7d92bbaf5e2',
  deliveryStreamArn: ARN,
  region: 'us-east-1',
  ...extra,
  records,
});
const write = (name, value) =>
  writeFileSync(new URL(`../events/${name}`, import.meta.url), `${JSON.stringify(value, null, 2)}\n`);

// Default (version 2) format, one line per record as flow logs deliver them to Firehose.
const defaultLines = [
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
  '2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK',
  '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA',
  '2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA',
  '2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK',
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK',
  '2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK',
];
write('direct-default-format.json', event(defaultLines.map((line) => record(`${line}\n`))));

// Custom format with every documented field (version 8).
const allFields =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path} ${ecs-cluster-arn} ${ecs-cluster-name} ${ecs-container-instance-arn} ${ecs-container-instance-id} ${ecs-container-id} ${ecs-second-container-id} ${ecs-service-name} ${ecs-task-definition-arn} ${ecs-task-arn} ${ecs-task-id} ${reject-reason}';
const ecs = (task) =>
  `arn:aws:ecs:us-east-1:123456789012:cluster/web arn-web arn:aws:ecs:us-east-1:123456789012:container-instance/web/0f1e2d3c4b5a69788796a5b4c3d2e1f0 0f1e2d3c4b5a69788796a5b4c3d2e1f0 3c4b5a6978879 - web-svc arn:aws:ecs:us-east-1:123456789012:task-definition/web:7 arn:aws:ecs:us-east-1:123456789012:task/web/${task} ${task}`;
const customLines = [
  `8 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25 10.0.2.40 49152 8080 6 12 4380 1700000000 1700000060 ACCEPT OK vpc-0a1b2c3d4e5f60718 subnet-0a1b2c3d4e5f60711 i-0a1b2c3d4e5f60718 2 IPv4 10.0.1.25 10.0.2.40 us-east-1 use1-az1 - - - - egress 1 ${ecs('7e1b9c2d3f4a5b6c')} -`,
  `8 123456789012 eni-0a1b2c3d4e5f60718 52.95.128.179 10.0.1.25 443 49153 6 14 15044 1700000000 1700000060 ACCEPT OK vpc-0a1b2c3d4e5f60718 subnet-0a1b2c3d4e5f60711 i-0a1b2c3d4e5f60718 18 IPv4 52.95.128.179 10.0.1.25 us-east-1 use1-az1 - - S3 - ingress - ${ecs('7e1b9c2d3f4a5b6c')} -`,
  `8 123456789012 eni-0a1b2c3d4e5f60718 198.51.100.7 10.0.1.25 51515 22 6 1 40 1700000000 1700000060 REJECT OK vpc-0a1b2c3d4e5f60718 subnet-0a1b2c3d4e5f60711 i-0a1b2c3d4e5f60718 2 IPv4 198.51.100.7 10.0.1.25 us-east-1 use1-az1 - - - - ingress - - - - - - - - - - - BPA`,
];
write('direct-custom-format.json', {
  _format: allFields,
  ...event(customLines.map((line) => record(`${line}\n`))),
});

// CloudWatch Logs subscription → Firehose: gzip JSON envelopes (one DATA_MESSAGE, one CONTROL_MESSAGE).
const envelope = {
  messageType: 'DATA_MESSAGE',
  owner: '123456789010',
  logGroup: '/vpc/flow-logs',
  logStream: 'eni-1235b8ca123456789-all',
  subscriptionFilters: ['to-firehose'],
  logEvents: defaultLines.slice(0, 3).map((message, n) => ({
    id: `3195310660696698337880902507980421114328961542429EXAMPLE${n}`,
    timestamp: 1418530070000,
    message,
  })),
};
const control = {
  messageType: 'CONTROL_MESSAGE',
  owner: 'CloudwatchLogs',
  logGroup: '',
  logStream: '',
  subscriptionFilters: [],
  logEvents: [
    {
      id: '',
      timestamp: 1418530070000,
      message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.',
    },
  ],
};
write(
  'cloudwatch-logs-subscription.json',
  event([record(gzipSync(JSON.stringify(envelope))), record(gzipSync(JSON.stringify(control)))]),
);

// A malformed mix: every kind of bad record next to good ones; nothing may be lost.
const mixed = [
  record(`${defaultLines[0]}\n`),
  record(
    'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n',
  ),
  record(
    '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 80x 6 20 4249 1418530010 1418530070 ACCEPT OK\n',
  ),
  record('2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010\n'),
  record(
    '2 123456789010 eni-1235b8ca123456789 172.31.16.300 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n',
  ),
  record(
    '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ALLOW OK\n',
  ),
  record(Buffer.from([0xff, 0xfe, 0x32, 0x20])),
  record(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00])),
  { recordId: recordId(), approximateArrivalTimestamp: ts, data: 'not base64!' },
  record('   \n'),
  record(`${defaultLines[1]}\r\n${defaultLines[4]}\r\n`),
];
write('malformed-mix.json', event(mixed));
console.error('wrote events/*.json');
