import { gunzipSync } from 'node:zlib';
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Enricher } from '../../src/enrich/types.js';
import type { Reingester } from '../../src/firehose/reingest.js';
import type { ResultRecord } from '../../src/firehose/result.js';
import { responseSize } from '../../src/firehose/result.js';
import { ALL_FIELDS_FORMAT, DEFAULT_FORMAT, formatUpTo } from '../../src/flowlog/fields.js';
import { validateEmittedRecord } from '../../src/generated/validators.js';
import type { InvocationSummary } from '../../src/telemetry.js';
import { createTransformer } from '../../src/transform.js';
import {
  V2_ACCEPTED_SSH,
  V2_ACCEPTED_SSH_COMMUNITY_ID,
  V2_ACCEPTED_SSH_LINE,
} from '../fixtures/aws-v2-example.js';
import { ALL_FIELDS_LINE } from '../fixtures/aws-v5-example.js';
import { cwlEnvelope, decodeLines, firehoseEvent, firehoseRecord } from '../helpers/events.js';

const LINE = V2_ACCEPTED_SSH_LINE;
const NODATA = '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA';
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

function setup(env: Record<string, string> = {}, reingester?: Reingester) {
  const summaries: InvocationSummary[] = [];
  const transform = createTransformer({
    config: loadConfig({ ENRICHMENT: 'off', ...env }),
    report: (summary) => summaries.push(summary),
    ...(reingester ? { reingester } : {}),
  });
  return { transform, summaries };
}

function fakeReingester(accept: (data: Buffer) => boolean = () => true) {
  const received: Buffer[] = [];
  const reingester: Reingester = {
    async reingest(_arn, records) {
      // Kept past the call: copied, as the Reingester contract asks.
      const copies = records.map((record) => Buffer.from(record));
      received.push(...copies);
      return { accepted: copies.map(accept), calls: 1, retries: 0 };
    },
  };
  return { reingester, received };
}

describe('transform', () => {
  it('turns a direct-delivery line into one JSON line with partition keys', async () => {
    // Prepare
    const { transform } = setup();
    const input = firehoseRecord(`${LINE}\n`);

    // Act
    const response = await transform(firehoseEvent([input]));

    // Assess
    const [record] = response.records as [ResultRecord & { result: 'Ok' }];
    expect(record.recordId).toBe(input.recordId);
    expect(record.result).toBe('Ok');
    expect(record.metadata.partitionKeys).toStrictEqual({
      account_id: '123456789010',
      region: 'us-east-1',
      dt: '2014-12-14',
      hour: '04',
    });
    expect(decodeLines(record.data)).toStrictEqual([
      {
        ...V2_ACCEPTED_SSH,
        community_id: V2_ACCEPTED_SSH_COMMUNITY_ID,
        flags: [],
        severity: 'none',
      },
    ]);
  });

  it('omits absent fields of NODATA records and keeps them Ok', async () => {
    const { transform } = setup();
    const response = await transform(firehoseEvent([firehoseRecord(NODATA)]));
    const record = response.records[0] as ResultRecord & { result: 'Ok' };
    expect(record.result).toBe('Ok');
    expect(decodeLines(record.data)).toStrictEqual([
      {
        version: 2,
        account_id: '123456789010',
        interface_id: 'eni-1235b8ca123456789',
        start: 1431280876,
        end: 1431280934,
        log_status: 'NODATA',
        flags: [],
        severity: 'none',
      },
    ]);
  });

  it('reads a CloudWatch Logs envelope and drops control messages', async () => {
    const { transform, summaries } = setup();
    const data = firehoseRecord(cwlEnvelope([LINE, NODATA]));
    const control = firehoseRecord(cwlEnvelope(['CWL CONTROL MESSAGE: Checking health'], 'CONTROL_MESSAGE'));
    const response = await transform(firehoseEvent([data, control]));
    expect(response.records.map((r) => r.result)).toStrictEqual(['Ok', 'Dropped']);
    const ok = response.records[0] as ResultRecord & { result: 'Ok' };
    expect(decodeLines(ok.data).map((line) => line.log_status)).toStrictEqual(['OK', 'NODATA']);
    expect(summaries[0]?.counts).toMatchObject({ Dropped_control_message: 1, RecordsOk: 1, FlowsOk: 2 });
  });

  it('says in its summary how long each phase took', async () => {
    const { transform, summaries } = setup();
    await transform(firehoseEvent([firehoseRecord(`${LINE}\n`)]));
    const phaseMs = summaries[0]?.phaseMs ?? {};
    expect(Object.keys(phaseMs)).toStrictEqual([
      'begin',
      'admit',
      'enrich',
      'detect',
      'write',
      'reingest',
      'report',
    ]);
    for (const ms of Object.values(phaseMs)) expect(ms).toBeGreaterThanOrEqual(0);
    // The phases are parts of the invocation (whose duration is counted in whole milliseconds).
    const total = Object.values(phaseMs).reduce((sum, ms) => sum + ms, 0);
    expect(total).toBeLessThanOrEqual((summaries[0]?.durationMs ?? 0) + 2);
  });

  it('drops header and empty records, and fails a record with any bad line as a whole', async () => {
    const { transform, summaries } = setup();
    const records = [
      firehoseRecord(`${HEADER}\n`),
      firehoseRecord('  \n'),
      firehoseRecord(`${LINE}\n${LINE.replace(' 22 ', ' 22x ')}\n`),
      firehoseRecord(`${HEADER}\n${LINE}\n`),
    ];
    const response = await transform(firehoseEvent(records));
    expect(response.records.map((r) => [r.recordId, r.result])).toStrictEqual([
      [records[0]?.recordId, 'Dropped'],
      [records[1]?.recordId, 'Dropped'],
      [records[2]?.recordId, 'ProcessingFailed'],
      [records[3]?.recordId, 'Ok'],
    ]);
    // The failed record goes back with its original data, for the error prefix.
    expect(response.records[2]).toStrictEqual({
      recordId: records[2]?.recordId,
      result: 'ProcessingFailed',
      data: records[2]?.data,
    });
    expect(summaries[0]?.counts).toMatchObject({
      Dropped_header: 1,
      Dropped_empty: 1,
      Failed_invalid_field: 1,
    });
    expect(summaries[0]?.context).toStrictEqual({
      firstFailure: { reason: 'invalid_field', field: 'dstport', position: 7 },
    });
  });

  it('writes every line of a multi-line record and takes partition keys from the first', async () => {
    const { transform } = setup({ FLOW_LOG_FORMAT: '${account-id} ${region} ${start} ${srcaddr}' });
    const response = await transform(
      firehoseEvent([
        firehoseRecord(
          '111122223333 eu-west-1 1700000000 10.0.0.1\n444455556666 us-west-2 1800000000 10.0.0.2\n',
        ),
      ]),
    );
    const record = response.records[0] as ResultRecord & { result: 'Ok' };
    expect(record.metadata.partitionKeys).toStrictEqual({
      account_id: '111122223333',
      region: 'eu-west-1',
      dt: '2023-11-14',
      hour: '22',
    });
    expect(decodeLines(record.data).map((l) => l.srcaddr)).toStrictEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('uses the arrival time for partitions when the format has no start', async () => {
    const { transform } = setup({ FLOW_LOG_FORMAT: '${srcaddr}' });
    const response = await transform(firehoseEvent([firehoseRecord('10.0.0.1')]));
    const record = response.records[0] as ResultRecord & { result: 'Ok' };
    expect(record.metadata.partitionKeys).toStrictEqual({
      account_id: '123456789012', // no account in the format: the stream's own
      region: 'us-east-1',
      dt: '2023-11-14',
      hour: '22',
    });
  });

  it('escapes free-text fields and passes unknown fields through', async () => {
    const { transform } = setup({ FLOW_LOG_FORMAT: '${ecs-service-name} ${new-field}' });
    const response = await transform(firehoseEvent([firehoseRecord('svc"\\x v\u00e9')]));
    const record = response.records[0] as ResultRecord & { result: 'Ok' };
    expect(decodeLines(record.data)).toStrictEqual([
      { ecs_service_name: 'svc"\\x', new_field: 'v\u00e9', flags: [], severity: 'none' },
    ]);
  });

  it('re-ingests what does not fit the response and returns it Dropped', async () => {
    // Prepare: a small response limit so that a few records overflow.
    const { reingester, received } = fakeReingester();
    const { transform, summaries } = setup({ RESPONSE_LIMIT_BYTES: '10000' }, reingester);
    const lines = Array.from({ length: 40 }, (_, i) => LINE.replace('20641', String(20000 + i)));
    const records = lines.map((line) => firehoseRecord(`${line}\n`));

    // Act
    const response = await transform(firehoseEvent(records));

    // Assess
    const size = responseSize(response.records);
    expect(Buffer.byteLength(JSON.stringify(response))).toBe(size);
    expect(size).toBeLessThanOrEqual(10000);
    const okLines = response.records.flatMap((r) =>
      r.result === 'Ok' ? decodeLines(r.data).map((l) => l.srcport) : [],
    );
    const reingestedLines = received.map((data) => Number(data.toString().split(' ')[5]));
    expect(okLines.length).toBeGreaterThan(0);
    expect(received.length).toBeGreaterThan(0);
    expect([...okLines, ...reingestedLines].sort()).toStrictEqual(lines.map((_, i) => 20000 + i).sort());
    expect(response.records.filter((r) => r.result === 'Dropped')).toHaveLength(received.length);
    expect(summaries[0]?.counts.RecordsReingested).toBe(received.length);
  });

  it('returns every record Ok while the response has room for it, once it has seen a batch like it', async () => {
    // Prepare: 300 records whose answers take 96 % of the response limit (as a full batch at the template's
    // 0.5 MB buffer does). The first invocations learn the output's expansion (an estimate that comes down
    // by half at most per invocation); the next is the one measured. The learned estimate used to carry a
    // 10 % margin, so the last few records of every such batch were re-ingested (billed and processed again)
    // although their answers fit.
    const lines = Array.from({ length: 300 }, (_, i) => LINE.replace('20641', String(20000 + i)));
    const event = firehoseEvent(lines.map((line) => firehoseRecord(`${line}\n`)));
    const unbounded = await setup().transform(event);
    expect(unbounded.records.every((r) => r.result === 'Ok')).toBe(true);
    const limit = Math.ceil(responseSize(unbounded.records) / 0.96);
    const { reingester, received } = fakeReingester();
    const { transform } = setup({ RESPONSE_LIMIT_BYTES: String(limit) }, reingester);
    for (let i = 0; i < 4; i++) await transform(event);
    received.length = 0;

    // Act
    const response = await transform(event);

    // Assess
    expect(response.records.filter((r) => r.result !== 'Ok')).toHaveLength(0);
    expect(received).toHaveLength(0);
    expect(responseSize(response.records)).toBeLessThanOrEqual(limit);
  });

  it('counts input bytes of records it could decode and lines of records that then failed', async () => {
    // Prepare
    const { transform, summaries } = setup();
    const good = `${LINE}\n`;
    const halfBad = `${LINE}\nnot a flow line\n`;

    // Act
    await transform(
      firehoseEvent([
        firehoseRecord(good),
        firehoseRecord(halfBad),
        { ...firehoseRecord(''), data: 'QUJD!!!!' },
      ]),
    );

    // Assess
    const counts = summaries[0]?.counts ?? {};
    expect(counts.LinesIn).toBe(3);
    expect(counts.BytesIn).toBe(Buffer.byteLength(good) + Buffer.byteLength(halfBad));
    expect(counts.RecordsOk).toBe(1);
  });

  it('names the AWS errors of enrichment and re-ingestion in the summary, with their counts', async () => {
    // Prepare: an enricher whose lookups failed, and a reingester that met throttling.
    const summaries: InvocationSummary[] = [];
    const enricher: Enricher = {
      async prepare(flows) {
        return {
          stats: {
            cacheHits: 0,
            cacheMisses: 2,
            lookupCalls: 2,
            lookupMs: 40,
            lookupErrors: 2,
            errors: { AccessDenied: 1, TimeoutError: 1 },
          },
          enrich: () => undefined,
          enrichAll: () => flows.map(() => undefined),
        };
      },
    };
    const reingester: Reingester = {
      async reingest(_arn, records) {
        return {
          accepted: records.map(() => true),
          calls: 2,
          retries: 1,
          errors: { ThrottlingException: 3 },
        };
      },
    };
    const transform = createTransformer({
      config: loadConfig({ RESPONSE_LIMIT_BYTES: '10000' }),
      enricher,
      reingester,
      report: (summary) => summaries.push(summary),
    });
    const records = Array.from({ length: 60 }, (_, i) =>
      firehoseRecord(
        `2 123456789010 eni-1235b8ca123456789 10.0.0.1 10.0.0.2 ${20000 + i} 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n`,
      ),
    );

    // Act
    await transform(firehoseEvent(records));

    // Assess
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.awsErrors).toStrictEqual({
      AccessDenied: 1,
      TimeoutError: 1,
      ThrottlingException: 3,
    });
    expect(summaries[0]?.counts.Ec2Errors).toBe(2);
  });

  it('reports no BytesOut when no record is returned Ok', async () => {
    const { transform, summaries } = setup();
    await transform(firehoseEvent([firehoseRecord('not a flow line\n')]));
    expect(summaries[0]?.counts).not.toHaveProperty('BytesOut');
  });

  it('keeps the re-ingested bytes of invocations that overlap apart', async () => {
    // Prepare: a re-ingester that yields before it copies, so that a second invocation runs in between.
    const received: string[] = [];
    const reingester: Reingester = {
      async reingest(_arn, records) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        received.push(...records.map((record) => Buffer.from(record).toString()));
        return { accepted: records.map(() => true), calls: 1, retries: 0 };
      },
    };
    const { transform } = setup({ RESPONSE_LIMIT_BYTES: '10000' }, reingester);
    const batch = (port: number) =>
      Array.from({ length: 40 }, (_, i) => `${LINE.replace('20641', String(port + i))}\n`);
    const [first, second] = [batch(20000), batch(30000)];

    // Act
    const responses = await Promise.all([
      transform(firehoseEvent(first.map((line) => firehoseRecord(line)))),
      transform(firehoseEvent(second.map((line) => firehoseRecord(line)))),
    ]);

    // Assess: every line comes back once, Ok or re-ingested intact.
    const ok = responses.flatMap((response) =>
      response.records.flatMap((r) => (r.result === 'Ok' ? decodeLines(r.data).map((l) => l.srcport) : [])),
    );
    const reingested = received.map((data) => Number(data.split(' ')[5]));
    expect(reingested.length).toBeGreaterThan(0);
    expect([...ok, ...reingested].sort()).toStrictEqual(
      [...first, ...second].map((line) => Number(line.split(' ')[5])).sort(),
    );
  });

  it('fails records whose re-ingestion was refused, so Firehose keeps them', async () => {
    const { reingester } = fakeReingester(() => false);
    const { transform, summaries } = setup({ RESPONSE_LIMIT_BYTES: '10000' }, reingester);
    const records = Array.from({ length: 40 }, () => firehoseRecord(`${LINE}\n`));
    const response = await transform(firehoseEvent(records));
    const results = response.records.map((r) => r.result);
    expect(results).not.toContain('Dropped');
    expect(results).toContain('ProcessingFailed');
    expect(summaries[0]?.counts.ReingestFailed).toBe(results.filter((r) => r === 'ProcessingFailed').length);
    expect(summaries[0]?.counts).toMatchObject({
      RecordsOk: results.filter((r) => r === 'Ok').length,
      RecordsFailed: results.filter((r) => r === 'ProcessingFailed').length,
      RecordsDropped: 0,
    });
  });

  it('splits an envelope that can never fit one response into halves, each its own gzip envelope', async () => {
    const { reingester, received } = fakeReingester();
    const { transform } = setup({ RESPONSE_LIMIT_BYTES: '10000' }, reingester);
    const messages = Array.from({ length: 60 }, (_, i) => LINE.replace('20641', String(30000 + i)));
    const response = await transform(firehoseEvent([firehoseRecord(cwlEnvelope(messages))]));
    expect(response.records.map((r) => r.result)).toStrictEqual(['Dropped']);
    expect(received).toHaveLength(2);
    const halves = received.map(
      (data) =>
        JSON.parse(gunzipSync(data).toString()) as { messageType: string; logEvents: { message: string }[] },
    );
    expect(halves.map((h) => h.messageType)).toStrictEqual(['DATA_MESSAGE', 'DATA_MESSAGE']);
    expect(halves.flatMap((h) => h.logEvents.map((e) => e.message))).toStrictEqual(messages);
  });

  it('fails a single line whose output can never fit, with its reason', async () => {
    const { reingester } = fakeReingester();
    const { transform, summaries } = setup(
      { RESPONSE_LIMIT_BYTES: '10000', FLOW_LOG_FORMAT: '${srcaddr} ${ecs-task-arn}' },
      reingester,
    );
    const response = await transform(firehoseEvent([firehoseRecord(`10.0.0.1 ${'x'.repeat(7600)}`)]));
    expect(response.records.map((r) => r.result)).toStrictEqual(['ProcessingFailed']);
    expect(summaries[0]?.counts.Failed_too_large).toBe(1);
  });

  it('keeps the response within the limit when deferred records turn out to be invalid base64', async () => {
    // Prepare: one record that fits, then large records that are deferred and are not base64 at all.
    const { transform } = setup({ RESPONSE_LIMIT_BYTES: '10000' }, fakeReingester().reingester);
    const records = [
      firehoseRecord(`${LINE}\n`),
      ...Array.from({ length: 3 }, () => ({ ...firehoseRecord(''), data: '!!!!'.repeat(2000) })),
    ];

    // Act
    const response = await transform(firehoseEvent(records));

    // Assess
    expect(response.records.map((r) => r.result)).toStrictEqual([
      'Ok',
      'ProcessingFailed',
      'ProcessingFailed',
      'ProcessingFailed',
    ]);
    expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThanOrEqual(10000);
  });

  it('never throws for an event without records', async () => {
    const { transform } = setup();
    await expect(transform({} as never)).resolves.toStrictEqual({ records: [] });
  });
});

describe('the record contract (properties)', () => {
  const { transform, summaries } = setup({ FLOW_LOG_FORMAT: formatUpTo(8) });
  const octet = fc.integer({ min: 0, max: 255 });
  const ipv4 = fc.tuple(octet, octet, octet, octet).map((p) => p.join('.'));
  const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
  const dash = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb.map(String), fc.constant('-'));
  const validLine = fc
    .record({
      version: fc.integer({ min: 2, max: 8 }),
      account: fc.stringMatching(/^[0-9]{12}$/),
      eni: hex(17),
      src: fc.oneof(ipv4, fc.ipV6()),
      dst: fc.oneof(ipv4, fc.ipV6()),
      sport: dash(fc.integer({ min: 0, max: 65535 })),
      dport: dash(fc.integer({ min: 0, max: 65535 })),
      proto: dash(fc.integer({ min: 0, max: 255 })),
      packets: dash(fc.nat()),
      bytes: dash(fc.nat()),
      start: fc.integer({ min: 0, max: 2_000_000_000 }),
      action: fc.constantFrom('ACCEPT', 'REJECT', '-'),
      status: fc.constantFrom('OK', 'NODATA', 'SKIPDATA'),
      flags: dash(fc.integer({ min: 0, max: 255 })),
      text: fc.stringMatching(/^[!-~]{1,30}$/),
    })
    .map((r) =>
      [
        r.version,
        r.account,
        `eni-${r.eni}`,
        r.src,
        r.dst,
        r.sport,
        r.dport,
        r.proto,
        r.packets,
        r.bytes,
        r.start,
        r.start + 60,
        r.action,
        r.status,
        '-',
        '-',
        '-',
        r.flags,
        'IPv4',
        '-',
        '-',
        'us-east-1',
        'use1-az1',
        '-',
        '-',
        'S3',
        '-',
        'ingress',
        '1',
        r.text,
        r.text,
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
      ].join(' '),
    );
  const recordData = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    fc
      .array(fc.oneof(validLine, fc.string({ maxLength: 80 }), fc.constant('')), { maxLength: 6 })
      .map((lines) => Buffer.from(lines.join('\n'))),
    fc.array(validLine, { minLength: 1, maxLength: 5 }).map((lines) => cwlEnvelope(lines)),
  );
  const records = fc.array(
    fc.oneof(
      recordData.map((data) => firehoseRecord(data)),
      fc.string({ maxLength: 40 }).map((data) => ({ ...firehoseRecord(''), data })),
    ),
    { maxLength: 25 },
  );

  fcTest.prop([records], { numRuns: 150 })(
    'never throws, returns every recordId once, in order, and its summary counts what it returned',
    async (inputs) => {
      const response = await transform(firehoseEvent(inputs));
      expect(response.records.map((r) => r.recordId)).toStrictEqual(inputs.map((r) => r.recordId));
      for (const record of response.records) {
        expect(['Ok', 'Dropped', 'ProcessingFailed']).toContain(record.result);
        if (record.result === 'Ok') {
          for (const line of decodeLines(record.data)) expect(validateEmittedRecord(line)).toBe(true);
        }
      }
      expect(Buffer.byteLength(JSON.stringify(response))).toBe(responseSize(response.records));
      const answered = (result: string) => response.records.filter((r) => r.result === result).length;
      expect(summaries.at(-1)?.counts).toMatchObject({
        RecordsIn: inputs.length,
        RecordsOk: answered('Ok'),
        RecordsDropped: answered('Dropped'),
        RecordsFailed: answered('ProcessingFailed'),
      });
    },
  );

  fcTest.prop([fc.array(validLine, { minLength: 1, maxLength: 20 })])(
    'accepts every valid line',
    async (lines) => {
      const response = await transform(firehoseEvent(lines.map((line) => firehoseRecord(line))));
      expect(response.records.every((r) => r.result === 'Ok')).toBe(true);
    },
  );
});

describe('transform with several log formats', () => {
  // The default v2 format, and a custom format with every field: the all-fields line carries the values
  // of AWS's version 5 example (test/fixtures/aws-v5-example.ts) in table order; the ECS fields are `-`.
  const ENV = { FLOW_LOG_FORMAT: `${DEFAULT_FORMAT},${ALL_FIELDS_FORMAT}` };
  const V2_RECORD = { ...V2_ACCEPTED_SSH, community_id: V2_ACCEPTED_SSH_COMMUNITY_ID };
  const V5_RECORD = {
    version: 5,
    account_id: '123456789012',
    interface_id: 'eni-1235b8ca123456789',
    srcaddr: '52.95.128.179',
    dstaddr: '10.0.0.71',
    srcport: 80,
    dstport: 34210,
    protocol: 6,
    packets: 14,
    bytes: 15044,
    start: 1616729292,
    end: 1616729349,
    action: 'ACCEPT',
    log_status: 'OK',
    vpc_id: 'vpc-abcdefab012345678',
    subnet_id: 'subnet-aaaaaaaa012345678',
    instance_id: 'i-0c50d5961bcb2d47b',
    tcp_flags: 19,
    type: 'IPv4',
    pkt_srcaddr: '52.95.128.179',
    pkt_dstaddr: '10.0.0.71',
    region: 'ap-southeast-2',
    az_id: 'apse2-az3',
    pkt_src_aws_service: 'S3',
    flow_direction: 'ingress',
    // Computed independently: SHA-1 over seed 0, 10.0.0.71, 52.95.128.179, protocol 6, padding, 34210, 80.
    community_id: '1:b331cOeX1JF5o9HeF19CO0WYIbw=',
  };

  it.each([
    { name: 'v2 then all fields, in one record', records: [[LINE, ALL_FIELDS_LINE]] },
    { name: 'all fields then v2, in one record', records: [[ALL_FIELDS_LINE, LINE]] },
    { name: 'v2 and all fields, across records', records: [[LINE], [ALL_FIELDS_LINE]] },
    {
      name: 'a line the byte path hands over (doubled space), mixed',
      records: [[LINE.replace(' 22 ', '  22 '), ALL_FIELDS_LINE]],
    },
    { name: 'a gzip CloudWatch Logs envelope, mixed', records: [[ALL_FIELDS_LINE, LINE]], envelope: true },
  ])('reads $name, each line with its own format', async ({ records, envelope }) => {
    // Prepare
    const { transform } = setup(ENV);
    const inputs = records.map((lines) =>
      firehoseRecord(envelope ? cwlEnvelope(lines) : `${lines.join('\n')}\n`),
    );

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess
    expect(response.records.map((record) => record.result)).toStrictEqual(records.map(() => 'Ok'));
    const decoded = (response.records as (ResultRecord & { result: 'Ok' })[]).map((record) =>
      decodeLines(record.data).map(withoutEnrichment),
    );
    const expected = records.map((lines) =>
      lines.map((line) => (line === ALL_FIELDS_LINE ? V5_RECORD : V2_RECORD)),
    );
    expect(decoded).toStrictEqual(expected);
    for (const record of response.records as (ResultRecord & { result: 'Ok' })[]) {
      for (const line of decodeLines(record.data)) expect(validateEmittedRecord(line)).toBe(true);
    }
  });

  it('enriches each flow knowing its own format: direction inferred only where the format lacks it', async () => {
    // Prepare
    const { transform } = setup(ENV);

    // Act
    const response = await transform(firehoseEvent([firehoseRecord(`${LINE}\n${ALL_FIELDS_LINE}\n`)]));

    // Assess
    const [record] = response.records as [ResultRecord & { result: 'Ok' }];
    const [v2, v5] = decodeLines(record.data);
    // The v2 line's direction is inferred (both addresses internal, enrichment off: none); the v5 line's
    // is the logged one, never written twice; the logged S3 service is kept.
    expect(v2).not.toHaveProperty('pkt_src_aws_service');
    expect(v5).toMatchObject({ flow_direction: 'ingress', pkt_src_aws_service: 'S3' });
  });

  it('fails a line that matches no configured format, naming the field counts', async () => {
    // Prepare
    const { transform } = setup(ENV);
    const short = LINE.split(' ').slice(0, 10).join(' ');

    // Act
    const response = await transform(
      firehoseEvent([firehoseRecord(`${LINE}\n${short}\n`), firehoseRecord(`${ALL_FIELDS_LINE}\n`)]),
    );

    // Assess
    expect(response.records.map((record) => record.result)).toStrictEqual(['ProcessingFailed', 'Ok']);
    const [failedRecord] = response.records;
    expect(Buffer.from(failedRecord?.data ?? '', 'base64').toString()).toBe(`${LINE}\n${short}\n`);
  });
});

/** The flow's own members and its Community ID: what the two formats must get right. */
function withoutEnrichment(line: Record<string, unknown>): Record<string, unknown> {
  const {
    enrichment_status: _status,
    peer_scope: _scope,
    flags: _flags,
    severity: _severity,
    src_aws_service: _src,
    dst_aws_service: _dst,
    src_aws_region: _srcRegion,
    dst_aws_region: _dstRegion,
    peer_asn: _asn,
    peer_as_org: _org,
    peer_country: _country,
    ...rest
  } = line;
  return rest;
}
