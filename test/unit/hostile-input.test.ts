import { gunzipSync, gzipSync } from 'node:zlib';
import { fc, test as fcTest } from '@fast-check/vitest';
import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type Env, loadConfig } from '../../src/config.js';
import { NO_FINDINGS } from '../../src/detect/types.js';
import type { FailureReason, FlowlogError } from '../../src/errors.js';
import { decodeRecord } from '../../src/firehose/decode.js';
import type { Reingester } from '../../src/firehose/reingest.js';
import { type ResultRecord, responseSize, type TransformResponse } from '../../src/firehose/result.js';
import { formatUpTo } from '../../src/flowlog/fields.js';
import { createLineParser } from '../../src/flowlog/parse.js';
import { createFlowWriter, flowToLine } from '../../src/output/jsonl.js';
import type { InvocationSummary } from '../../src/telemetry.js';
import { createTransformer } from '../../src/transform.js';
import { cwlEnvelope, decodeLines, firehoseEvent, firehoseRecord } from '../helpers/events.js';

// Whatever a record holds, the transform answers every recordId once, in order, within the response limit,
// and never throws. Properties over random input, tables over the known ways input can be hostile.

const LIMIT = 6_000_000;
const LINE =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
const NODATA = '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA';
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

interface RecordError {
  readonly index: number;
  readonly reason: FailureReason;
  readonly message: string;
}

/** A transformer with interface lookups off and a re-ingester that records what it got and accepts it. */
function setup(env: Env = {}, accept: (n: number) => boolean = () => true) {
  const received: Buffer[] = [];
  const errors: RecordError[] = [];
  const summaries: InvocationSummary[] = [];
  let offered = 0;
  const reingester: Reingester = {
    async reingest(_arn, records) {
      // Kept past the call: copied, as the Reingester contract asks.
      received.push(...records.map((record) => Buffer.from(record)));
      return { accepted: records.map(() => accept(offered++)), calls: 1, retries: 0 };
    },
  };
  const transform = createTransformer({
    config: loadConfig({ ENRICHMENT: 'off', ...env }),
    reingester,
    report: (summary) => summaries.push(summary),
    onRecordError: (index: number, error: FlowlogError) =>
      errors.push({ index, reason: error.reason, message: error.message }),
  });
  return { transform, received, errors, summaries };
}

/** The record contract: ids once and in order, known results, within the limit, sizes counted exactly. */
function expectContract(
  inputs: readonly FirehoseTransformationEventRecord[],
  response: TransformResponse,
  limit = LIMIT,
) {
  expect(response.records.map((r) => r.recordId)).toStrictEqual(inputs.map((r) => r.recordId));
  const bytes = Buffer.byteLength(JSON.stringify(response));
  expect(bytes).toBeLessThanOrEqual(limit);
  expect(bytes).toBe(responseSize(response.records));
  response.records.forEach((record, i) => {
    expect(['Ok', 'Dropped', 'ProcessingFailed']).toContain(record.result);
    // Every record carries data (Firehose requires it): a failed record echoes its own, untouched, or ''.
    expect(typeof record.data).toBe('string');
    if (record.result === 'ProcessingFailed' && record.data !== '' && record.data !== inputs[i]?.data) {
      // A split record some of whose pieces the stream accepted carries only the others' lines.
      const sent = linesOf(inputs[i]?.data as string);
      const left = linesOf(record.data);
      expect(left.length).toBeGreaterThan(0);
      expect(left.length).toBeLessThan(sent.length);
      for (const line of left) expect(sent).toContain(line);
    }
    if (record.result === 'Dropped') expect(record.data).toBe('');
    if (record.result === 'Ok') expect(() => decodeLines(record.data)).not.toThrow();
  });
}

const linesOf = (data: string) => {
  const decoded = decodeRecord(data, { maxDecompressedBytes: 1 << 30 });
  return decoded.kind === 'cwl-control' ? [] : decoded.lines;
};
const results = (response: TransformResponse) => response.records.map((r) => r.result);
const okData = (record: ResultRecord | undefined) => (record as ResultRecord & { result: 'Ok' }).data;

// --- Arbitraries --------------------------------------------------------------------------------------

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((p) => p.join('.'));
const validLine = fc
  .record({
    src: ipv4,
    dst: ipv4,
    sport: fc.integer({ min: 0, max: 65535 }),
    dport: fc.integer({ min: 0, max: 65535 }),
    proto: fc.integer({ min: 0, max: 255 }),
    packets: fc.nat(),
    bytes: fc.nat(),
    start: fc.integer({ min: 0, max: 2_000_000_000 }),
    action: fc.constantFrom('ACCEPT', 'REJECT'),
  })
  .map(
    (r) =>
      `2 123456789010 eni-1235b8ca123456789 ${r.src} ${r.dst} ${r.sport} ${r.dport} ${r.proto} ${r.packets} ${r.bytes} ${r.start} ${r.start + 60} ${r.action} OK`,
  );

const hostileLine = fc.oneof(
  { weight: 5, arbitrary: validLine },
  { weight: 1, arbitrary: fc.constantFrom(HEADER, NODATA) },
  { weight: 2, arbitrary: fc.string({ maxLength: 120 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: validLine.map((line) => line.replaceAll(' ', '  ')) },
  { weight: 1, arbitrary: validLine.map((line) => `${line} extra`) },
  { weight: 1, arbitrary: validLine.map((line) => line.replace(' 6 ', ' -6 ')) },
  { weight: 1, arbitrary: fc.integer({ min: 8193, max: 20_000 }).map((n) => 'x'.repeat(n)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\t',
      '\r',
      '-',
      '- - -',
      '{',
      '{"messageType":"DATA_MESSAGE"}',
      '\u0000',
    ),
  },
);
const lines = fc.array(hostileLine, { maxLength: 12 });

/** A record's bytes: plain lines, CloudWatch Logs envelopes (gzip or already decompressed), or noise. */
const hostileData = fc.oneof(
  fc
    .tuple(lines, fc.constantFrom('\n', '\r\n', '\n\n'))
    .map(([ls, separator]) => Buffer.from(ls.join(separator))),
  lines.map((ls) => cwlEnvelope(ls)),
  lines.map((ls) => cwlEnvelope(ls, 'CONTROL_MESSAGE')),
  lines.map((ls) =>
    Buffer.from(
      JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: ls.map((message) => ({ message })) }),
    ),
  ),
  fc.uint8Array({ maxLength: 1500 }).map((bytes) => Buffer.from(bytes)),
);

const randomBytes = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
  // Garbage behind the gzip magic, behind `{`, and gzip of garbage.
  fc.uint8Array({ maxLength: 500 }).map((bytes) => Buffer.concat([Buffer.from([0x1f, 0x8b]), bytes])),
  fc.uint8Array({ maxLength: 500 }).map((bytes) => Buffer.concat([Buffer.from('{'), bytes])),
  fc.uint8Array({ maxLength: 500 }).map((bytes) => gzipSync(bytes)),
);

/** Records whose `data` is given bytes, or a string that is not base64 at all. */
const recordsOf = (data: fc.Arbitrary<Buffer>, maxLength: number) =>
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: data.map((bytes) => firehoseRecord(bytes)) },
      {
        weight: 1,
        arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ ...firehoseRecord(''), data: text })),
      },
    ),
    { maxLength },
  );

// --- Properties ---------------------------------------------------------------------------------------

describe('the record contract under random input (properties)', () => {
  fcTest.prop([recordsOf(randomBytes, 30)], { numRuns: 60 })('random bytes', async (inputs) => {
    // Prepare
    const { transform } = setup();

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess
    expectContract(inputs, response);
  });

  fcTest.prop([recordsOf(hostileData, 25)], { numRuns: 60 })('random mixes of lines', async (inputs) => {
    // Prepare
    const { transform, errors } = setup();

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess: every failure was reported, with its index.
    expectContract(inputs, response);
    const failed = response.records.flatMap((r, i) => (r.result === 'ProcessingFailed' ? [i] : []));
    expect(errors.map((e) => e.index).sort((a, b) => a - b)).toStrictEqual(failed);
  });

  fcTest.prop(
    [recordsOf(hostileData, 25), fc.constantFrom(10_000, 20_000, 50_000), fc.integer({ min: 1, max: 4 })],
    { numRuns: 40 },
  )(
    'random mixes of lines under a small response limit, some re-ingestion refused',
    async (inputs, limit, k) => {
      // Prepare: every k-th re-ingested record is refused.
      const { transform } = setup({ RESPONSE_LIMIT_BYTES: String(limit) }, (n) => n % k !== k - 1);

      // Act
      const response = await transform(firehoseEvent(inputs));

      // Assess
      expectContract(inputs, response, limit);
    },
  );
});

describe('splitting an envelope too large for the response', () => {
  // Found by the property above (seed -1342089151): an envelope of a blank message and one too large was
  // split into a piece of the blank message alone; the stream accepted it, refused the other, and the
  // record failed carrying as many lines as it came with.
  it.each([
    { name: 'plain JSON', encode: (envelope: Buffer) => gunzipSync(envelope) },
    { name: 'gzip', encode: (envelope: Buffer) => envelope },
  ])('never re-ingests a piece of blank messages only ($name)', async ({ encode }) => {
    // Prepare: the second piece offered is refused.
    const { transform, received } = setup({ RESPONSE_LIMIT_BYTES: '10000' }, (n) => n !== 1);
    const inputs = [firehoseRecord(encode(cwlEnvelope(['', ' ', 'x'.repeat(12_000)])))];

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess
    expectContract(inputs, response, 10_000);
    for (const piece of received) expect(linesOf(piece.toString('base64')).length).toBeGreaterThan(0);
  });
});

describe('malformed record objects', () => {
  let unique = 0;
  const hostileId = fc.string({ unit: 'binary', maxLength: 40 }).map((id) => `${id}#${unique++}`);

  fcTest.prop([fc.array(fc.tuple(hostileId, hostileData), { maxLength: 15 })], { numRuns: 30 })(
    'record ids with quotes, backslashes, control characters and lone surrogates',
    async (pairs) => {
      // Prepare
      const { transform } = setup();
      const inputs = pairs.map(([id, data]) => firehoseRecord(data, id));

      // Act
      const response = await transform(firehoseEvent(inputs));

      // Assess: the size is still counted exactly, escapes included.
      expectContract(inputs, response);
    },
  );

  it.each([
    { name: 'data that is a number', record: { recordId: '1', data: 123 } },
    { name: 'no data', record: { recordId: '1' } },
    { name: 'data that is an object', record: { recordId: '1', data: { toString: () => 'MjAK' } } },
    { name: 'base64 with whitespace', record: { recordId: '1', data: 'MjAK MjAK' }, echo: true },
    { name: 'base64 without its padding', record: { recordId: '1', data: 'MjA' }, echo: true },
    { name: 'a character outside base64', record: { recordId: '1', data: 'MjA!' }, echo: true },
  ])('fails a record with $name', async ({ record, echo }) => {
    // Prepare
    const { transform, errors } = setup();
    const inputs = [record, firehoseRecord(LINE)] as FirehoseTransformationEventRecord[];

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess: a string is echoed for the error prefix, anything else becomes '' (Firehose requires data).
    expect(response.records[0]).toStrictEqual({
      recordId: '1',
      result: 'ProcessingFailed',
      data: echo ? record.data : '',
    });
    expect(results(response)).toStrictEqual(['ProcessingFailed', 'Ok']);
    expect(errors.map((e) => [e.index, e.reason])).toStrictEqual([[0, 'invalid_base64']]);
  });

  it.each([
    { name: 'a string', approximateArrivalTimestamp: 'yesterday' },
    { name: 'NaN', approximateArrivalTimestamp: Number.NaN },
    { name: 'far beyond any date', approximateArrivalTimestamp: 1e300 },
  ])(
    'partitions a flow without start when the arrival time is $name',
    async ({ approximateArrivalTimestamp }) => {
      // Prepare
      const { transform } = setup({ FLOW_LOG_FORMAT: '${srcaddr}' });
      const input = {
        ...firehoseRecord('10.0.0.1'),
        approximateArrivalTimestamp,
      } as FirehoseTransformationEventRecord;

      // Act
      const response = await transform(firehoseEvent([input]));

      // Assess
      expectContract([input], response);
      expect(response.records[0]).toMatchObject({
        result: 'Ok',
        metadata: {
          partitionKeys: { account_id: '123456789012', region: 'us-east-1', dt: '1970-01-01', hour: '00' },
        },
      });
    },
  );

  it('answers a null entry in records without throwing', async () => {
    // Prepare
    const { transform } = setup();
    const valid = firehoseRecord(LINE);

    // Act
    const response = await transform(
      firehoseEvent([null, valid] as unknown as FirehoseTransformationEventRecord[]),
    );

    // Assess
    expect(results(response)).toStrictEqual(['ProcessingFailed', 'Ok']);
  });
});

// --- Tables -------------------------------------------------------------------------------------------

interface Case {
  readonly name: string;
  readonly env?: Env;
  readonly data: Buffer;
  /** The failure reason, or undefined when the record must not fail. */
  readonly reason?: FailureReason;
  readonly result: ResultRecord['result'];
  readonly message?: RegExp;
}

/** One record in, its result and its reported failure out. */
async function runCase({ env, data }: Case) {
  const { transform, errors } = setup(env);
  const input = firehoseRecord(data);
  const response = await transform(firehoseEvent([input]));
  expectContract([input], response);
  return { input, response, errors };
}

function expectCase(c: Case, run: Awaited<ReturnType<typeof runCase>>) {
  const { input, response, errors } = run;
  if (c.result === 'ProcessingFailed') {
    expect(response.records).toStrictEqual([
      { recordId: input.recordId, result: 'ProcessingFailed', data: input.data },
    ]);
  } else {
    expect(results(response)).toStrictEqual([c.result]);
  }
  expect(errors.map((e) => ({ index: e.index, reason: e.reason }))).toStrictEqual(
    c.reason ? [{ index: 0, reason: c.reason }] : [],
  );
  if (c.message) expect(errors[0]?.message).toMatch(c.message);
}

describe('huge lines', () => {
  it.each<Case>([
    {
      name: 'one character over the default MAX_LINE_LENGTH (8192)',
      data: Buffer.from('x'.repeat(8193)),
      result: 'ProcessingFailed',
      reason: 'line_too_long',
      message: /8193 characters long, over the limit of 8192/,
    },
    {
      name: 'exactly MAX_LINE_LENGTH: parsed, and fails on its fields instead',
      data: Buffer.from('x'.repeat(8192)),
      result: 'ProcessingFailed',
      reason: 'field_count',
    },
    {
      name: 'a valid line over a small MAX_LINE_LENGTH (64)',
      env: { MAX_LINE_LENGTH: '64' },
      data: Buffer.from(LINE),
      result: 'ProcessingFailed',
      reason: 'line_too_long',
    },
    {
      name: 'a 1,000,000-character line',
      data: Buffer.from('7'.repeat(1_000_000)),
      result: 'ProcessingFailed',
      reason: 'line_too_long',
    },
    {
      name: 'a huge second line after a valid one fails the record, naming the line',
      data: Buffer.from(`${LINE}\n${'y'.repeat(10_000)}\n${LINE}\n`),
      result: 'ProcessingFailed',
      reason: 'line_too_long',
      message: /^line 2: /,
    },
    {
      name: 'a huge message in a CloudWatch Logs envelope',
      data: cwlEnvelope([LINE, 'z'.repeat(9000)]),
      result: 'ProcessingFailed',
      reason: 'line_too_long',
    },
    {
      name: 'a valid line whose separators are runs of 1,000 spaces',
      data: Buffer.from(LINE.replaceAll(' ', ' '.repeat(1000))),
      result: 'ProcessingFailed',
      reason: 'line_too_long',
    },
    {
      name: 'a valid line whose separators are runs of 100 spaces (under the limit)',
      data: Buffer.from(LINE.replaceAll(' ', ' '.repeat(100))),
      result: 'Ok',
    },
    {
      name: 'a valid line followed by 20,000 spaces (trimmed, not counted)',
      data: Buffer.from(`${LINE}${' '.repeat(20_000)}\n`),
      result: 'Ok',
    },
    {
      name: 'a 900,000-character free-text field under a raised MAX_LINE_LENGTH',
      env: { MAX_LINE_LENGTH: '1000000', FLOW_LOG_FORMAT: '${srcaddr} ${ecs-task-arn}' },
      data: Buffer.from(`10.0.0.1 ${'a'.repeat(900_000)}`),
      result: 'Ok',
    },
  ])('$name', async (c) => {
    // Prepare, Act
    const run = await runCase(c);

    // Assess
    expectCase(c, run);
  });

  it('fails each of eight 1 MB lines, none shrinking what the others may use', async () => {
    // Prepare: each echo alone would be 1.33 MB of base64; all of them 10.7 MB.
    const { transform, received, errors } = setup();
    const datas = Array.from({ length: 8 }, (_, i) => Buffer.from(String(i).repeat(1_000_000)));
    const inputs = datas.map((data) => firehoseRecord(data));

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess: each is read and fails now (the ones the response cannot echo go back without data;
    // Firehose keeps their original bytes), rather than being re-ingested to fail later.
    expectContract(inputs, response);
    expect(results(response)).toStrictEqual(Array(8).fill('ProcessingFailed'));
    expect(errors.map((e) => [e.index, e.reason])).toStrictEqual(datas.map((_, i) => [i, 'line_too_long']));
    expect(received).toStrictEqual([]);
  });

  it('lets 8,000 valid records after an 899 KB junk record come back Ok (one large record poisoned admission)', async () => {
    // Prepare
    const { transform, received } = setup();
    const junk = firehoseRecord(Buffer.from('x'.repeat(899_000)));
    const valid = Array.from({ length: 8_000 }, () => firehoseRecord(`${LINE}\n`));
    const inputs = [junk, ...valid];

    const alone = setup();

    // Act
    const response = await transform(firehoseEvent(inputs));
    const without = await alone.transform(firehoseEvent(valid));

    // Assess: as many come back Ok as without the junk record (its failure costs one small answer);
    // before, none did and all 8,000 were re-ingested.
    expectContract(inputs, response);
    const okWith = results(response).filter((r) => r === 'Ok').length;
    const okWithout = results(without).filter((r) => r === 'Ok').length;
    expect(results(response)[0]).toBe('ProcessingFailed');
    expect(okWithout).toBeGreaterThan(1000);
    expect(okWith).toBeGreaterThanOrEqual(okWithout - 2);
    expect(received.length).toBe(8_000 - okWith);
  });
});

describe('gzip envelopes', () => {
  const envelopeJson = (messages: string[], extra = '') =>
    `${JSON.stringify({ messageType: 'DATA_MESSAGE', logGroup: '/vpc', logEvents: messages.map((message, id) => ({ id: String(id), timestamp: 1, message })) })}${extra}`;
  /** An envelope exactly `size` bytes long once decompressed (JSON allows trailing whitespace). */
  const envelopeOfSize = (size: number) => {
    const json = envelopeJson([LINE]);
    return gzipSync(json + ' '.repeat(size - json.length));
  };
  const valid = cwlEnvelope([LINE]);
  const corruptCrc = Buffer.from(valid);
  corruptCrc[corruptCrc.length - 6] = (corruptCrc[corruptCrc.length - 6] as number) ^ 0xff;
  const json = envelopeJson([LINE, NODATA]);
  const half = json.length >> 1;

  it.each<Case>([
    {
      name: 'a gzip bomb (64 MiB of zeros) beyond the default MAX_DECOMPRESSED_BYTES',
      data: gzipSync(Buffer.alloc(64 * 1024 * 1024)),
      result: 'ProcessingFailed',
      reason: 'gzip_too_large',
    },
    {
      name: 'an envelope of valid JSON with a 9 MiB message',
      data: gzipSync(envelopeJson(['A'.repeat(9 * 1024 * 1024)])),
      result: 'ProcessingFailed',
      reason: 'gzip_too_large',
    },
    {
      name: 'an envelope of exactly MAX_DECOMPRESSED_BYTES',
      env: { MAX_DECOMPRESSED_BYTES: '4096' },
      data: envelopeOfSize(4096),
      result: 'Ok',
    },
    {
      name: 'an envelope one byte over MAX_DECOMPRESSED_BYTES',
      env: { MAX_DECOMPRESSED_BYTES: '4096' },
      data: envelopeOfSize(4097),
      result: 'ProcessingFailed',
      reason: 'gzip_too_large',
    },
    {
      name: 'an envelope gzipped twice',
      data: gzipSync(valid),
      result: 'ProcessingFailed',
      reason: 'invalid_utf8',
    },
    {
      name: 'an envelope gzipped ten times',
      data: Array.from({ length: 9 }).reduce<Buffer>((bytes) => gzipSync(bytes), valid),
      result: 'ProcessingFailed',
      reason: 'invalid_utf8',
    },
    {
      name: 'a truncated gzip stream',
      data: valid.subarray(0, valid.length - 12),
      result: 'ProcessingFailed',
      reason: 'gzip_corrupt',
    },
    {
      name: 'a gzip stream with a wrong CRC',
      data: corruptCrc,
      result: 'ProcessingFailed',
      reason: 'gzip_corrupt',
    },
    {
      name: 'the gzip magic alone',
      data: Buffer.from([0x1f, 0x8b]),
      result: 'ProcessingFailed',
      reason: 'gzip_corrupt',
    },
    {
      name: 'a gzip stream followed by garbage',
      data: Buffer.concat([valid, Buffer.from('garbage!')]),
      result: 'ProcessingFailed',
      reason: 'gzip_corrupt',
    },
    {
      name: 'an envelope split over two gzip members',
      data: Buffer.concat([gzipSync(json.slice(0, half)), gzipSync(json.slice(half))]),
      result: 'Ok',
    },
    {
      name: 'gzipped flow lines that are no envelope',
      data: gzipSync(`${LINE}\n${LINE}\n`),
      result: 'ProcessingFailed',
      reason: 'invalid_envelope',
    },
    {
      name: 'a gzipped JSON array',
      data: gzipSync('[{"messageType":"DATA_MESSAGE","logEvents":[]}]'),
      result: 'ProcessingFailed',
      reason: 'invalid_envelope',
    },
    {
      name: 'an envelope of an unknown messageType',
      data: cwlEnvelope([LINE], 'SOMETHING_ELSE'),
      result: 'ProcessingFailed',
      reason: 'invalid_envelope',
    },
    {
      name: 'logEvents nested 100,000 arrays deep',
      data: gzipSync(
        `{"messageType":"DATA_MESSAGE","logEvents":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      ),
      result: 'ProcessingFailed',
      reason: 'invalid_envelope',
      message: /logEvents\[0\] has no string message/,
    },
    {
      name: 'a message that is an object nested 100,000 deep',
      data: gzipSync(
        `{"messageType":"DATA_MESSAGE","logEvents":[{"message":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}]}`,
      ),
      result: 'ProcessingFailed',
      reason: 'invalid_envelope',
    },
    {
      name: 'logEvents that is an object',
      data: gzipSync('{"messageType":"DATA_MESSAGE","logEvents":{"0":{"message":"x"}}}'),
      result: 'ProcessingFailed',
      reason: 'invalid_envelope',
    },
    {
      name: '100,000 log events with empty messages',
      data: gzipSync(envelopeJson(Array(100_000).fill(''))),
      result: 'Dropped',
    },
    {
      name: 'a control message carrying junk',
      data: gzipSync(JSON.stringify({ messageType: 'CONTROL_MESSAGE', logEvents: 'junk' })),
      result: 'Dropped',
    },
  ])('$name', async (c) => {
    // Prepare, Act
    const run = await runCase(c);

    // Assess
    expectCase(c, run);
  });

  it('answers a batch of gzip bombs, each within its own record', async () => {
    // Prepare
    const { transform, errors } = setup();
    const bomb = gzipSync(Buffer.alloc(32 * 1024 * 1024, 0x41));
    const inputs = [
      firehoseRecord(cwlEnvelope([LINE])),
      ...Array.from({ length: 12 }, () => firehoseRecord(bomb)),
    ];

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess
    expectContract(inputs, response);
    expect(results(response)).toStrictEqual(['Ok', ...Array(12).fill('ProcessingFailed')]);
    expect(new Set(errors.map((e) => e.reason))).toStrictEqual(new Set(['gzip_too_large']));
  });
});

describe('invalid UTF-8', () => {
  const sequences = [
    { name: 'a lone continuation byte', bytes: [0x80] },
    { name: 'an overlong encoding of "/"', bytes: [0xc0, 0xaf] },
    { name: 'an encoded surrogate', bytes: [0xed, 0xa0, 0x80] },
    { name: 'a truncated three-byte sequence', bytes: [0xe2, 0x82] },
    { name: 'a code point above U+10FFFF', bytes: [0xf4, 0x90, 0x80, 0x80] },
    { name: 'the byte 0xFF', bytes: [0xff] },
  ];

  it.each(sequences)('fails a plain record holding $name', async ({ bytes }) => {
    // Prepare, Act
    const c: Case = {
      name: '',
      data: Buffer.concat([Buffer.from(`${LINE}\n`), Buffer.from(bytes), Buffer.from(`\n${LINE}\n`)]),
      result: 'ProcessingFailed',
      reason: 'invalid_utf8',
    };
    const run = await runCase(c);

    // Assess
    expectCase(c, run);
  });

  it.each(sequences)('fails a gzip envelope whose message holds $name', async ({ bytes }) => {
    // Prepare, Act
    const c: Case = {
      name: '',
      data: gzipSync(
        Buffer.concat([
          Buffer.from('{"messageType":"DATA_MESSAGE","logEvents":[{"message":"'),
          Buffer.from(bytes),
          Buffer.from('"}]}'),
        ]),
      ),
      result: 'ProcessingFailed',
      reason: 'invalid_utf8',
    };
    const run = await runCase(c);

    // Assess
    expectCase(c, run);
  });

  it.each<Case>([
    {
      name: 'non-ASCII in a numeric field fails the field, not the decoding',
      data: Buffer.from(LINE.replace(' 22 ', ' 2\u00b2 ')),
      result: 'ProcessingFailed',
      reason: 'invalid_field',
    },
    {
      name: 'a byte-order mark before the line fails the first field',
      data: Buffer.from(`\ufeff${LINE}`),
      result: 'ProcessingFailed',
      reason: 'invalid_field',
    },
    {
      name: 'multi-byte text in a free-text field is Ok',
      env: { FLOW_LOG_FORMAT: '${srcaddr} ${ecs-service-name}' },
      data: Buffer.from('10.0.0.1 caf\u00e9-\u{1f600}-\u4e2d'),
      result: 'Ok',
    },
  ])('valid UTF-8: $name', async (c) => {
    // Prepare, Act
    const run = await runCase(c);

    // Assess
    expectCase(c, run);
  });

  it('round-trips multi-byte and control characters of a free-text field', async () => {
    // Prepare
    const text = 'caf\u00e9-\u{1f600}-\u4e2d-"\\-\u0001\u007f';
    const { transform } = setup({ FLOW_LOG_FORMAT: '${srcaddr} ${ecs-service-name}' });

    // Act
    const response = await transform(firehoseEvent([firehoseRecord(`10.0.0.1 ${text}`)]));

    // Assess
    expect(decodeLines(okData(response.records[0]))).toStrictEqual([
      { srcaddr: '10.0.0.1', ecs_service_name: text, flags: [], severity: 'none' },
    ]);
  });
});

describe('escaped free text filling the output buffer', () => {
  it('writes the fields after an escaped text field intact at the end of the buffer', async () => {
    // Prepare: lines of control characters (escaped as \u0001, 6 bytes each) that fill the 1 MiB output
    // buffer up to a few bytes after the last line's text field, with a 64-character field after it.
    const config = loadConfig({ ENRICHMENT: 'off', FLOW_LOG_FORMAT: '${ecs-task-id} ${reject-reason}' });
    const parse = createLineParser(config.format, { maxLineLength: config.maxLineLength });
    const writer = createFlowWriter(config.format);
    const outputOf = (line: string) =>
      Buffer.byteLength(flowToLine(writer, parse(line), undefined, NO_FINDINGS));
    const reject = 'R'.repeat(64);
    const lines: string[] = [];
    let used = 0;
    const add = (line: string) => {
      lines.push(line);
      used += outputOf(line);
    };
    while (1_048_576 - used > 49_000)
      add(`${'\u0001'.repeat(Math.min(8000, Math.floor((1_048_576 - used - 45_000) / 6)))} ${reject}`);
    // The last line's text starts 15 bytes in (`{"ecs_task_id":`) and is 6n + 2 bytes long: pad with a
    // short plain line so that it ends 5 bytes before the end of the buffer.
    let pad = 1;
    while ((1_048_576 - used - outputOf(`${'a'.repeat(pad)} ${reject}`) - 15 - 7) % 6 !== 0) pad++;
    add(`${'a'.repeat(pad)} ${reject}`);
    const last = (1_048_576 - used - 15 - 7) / 6;
    lines.push(`${'\u0001'.repeat(last)} ${reject}`);
    const { transform } = setup({ FLOW_LOG_FORMAT: config.format.source });

    // Act
    const response = await transform(firehoseEvent([firehoseRecord(lines.join('\n'))]));

    // Assess
    expect(results(response)).toStrictEqual(['Ok']);
    const out = decodeLines(okData(response.records[0]));
    expect(out.at(-1)).toStrictEqual({
      ecs_task_id: '\u0001'.repeat(last),
      reject_reason: reject,
      flags: [],
      severity: 'none',
    });
  });
});

describe('thousands of lines in one record', () => {
  const numbered = (i: number) =>
    LINE.replace('20641', String(1024 + (i % 60_000))).replace(
      '1418530010',
      String(1_418_530_010 + Math.floor(i / 60_000)),
    );

  it('writes 5,000 valid lines of one plain record, in order', async () => {
    // Prepare
    const { transform, received } = setup();
    const input = Array.from({ length: 5000 }, (_, i) => numbered(i));
    const record = firehoseRecord(`${input.join('\n')}\n`);

    // Act
    const response = await transform(firehoseEvent([record]));

    // Assess
    expectContract([record], response);
    expect(results(response)).toStrictEqual(['Ok']);
    const out = decodeLines(okData(response.records[0]));
    expect(out.map((l) => l.srcport)).toStrictEqual(input.map((_, i) => 1024 + i));
    expect(received).toStrictEqual([]);
  });

  it('fails the whole record for one bad line among 5,000, naming the line', async () => {
    // Prepare
    const { transform, errors } = setup();
    const input = Array.from({ length: 5000 }, (_, i) =>
      i === 2500 ? LINE.replace(' 6 ', ' 6x ') : numbered(i),
    );

    // Act
    const response = await transform(firehoseEvent([firehoseRecord(input.join('\n'))]));

    // Assess
    expect(results(response)).toStrictEqual(['ProcessingFailed']);
    expect(errors).toStrictEqual([
      { index: 0, reason: 'invalid_field', message: expect.stringMatching(/^line 2501: field protocol/) },
    ]);
  });

  it('splits a 20,000-event envelope that cannot fit one response into envelopes that each come back Ok', async () => {
    // Prepare
    const { transform, received, summaries } = setup();
    const messages = Array.from({ length: 20_000 }, (_, i) => numbered(i));
    const input = firehoseRecord(cwlEnvelope(messages));

    // Act
    const response = await transform(firehoseEvent([input]));

    // Assess: Dropped, and re-ingested as gzip DATA_MESSAGE envelopes holding the events in order.
    expectContract([input], response);
    expect(response.records).toStrictEqual([{ recordId: input.recordId, result: 'Dropped', data: '' }]);
    expect(received.length).toBeGreaterThanOrEqual(2);
    const pieces = received.map(
      (data) =>
        JSON.parse(gunzipSync(data).toString()) as {
          messageType: string;
          logGroup: string;
          logEvents: { id: string; message: string }[];
        },
    );
    for (const piece of pieces)
      expect([piece.messageType, piece.logGroup]).toStrictEqual(['DATA_MESSAGE', '/vpc/flow-logs']);
    expect(pieces.flatMap((h) => h.logEvents.map((e) => e.message))).toStrictEqual(messages);
    expect(summaries[0]?.counts).toMatchObject({ RecordsReingested: 1, RecordsDropped: 1, RecordsOk: 0 });

    // Act again: Firehose delivers each piece back, one per batch.
    const outputs = [];
    const count = received.length;
    for (const data of received.slice()) {
      const again = firehoseRecord(data);
      const response = await transform(firehoseEvent([again]));
      expectContract([again], response);
      outputs.push(response);
    }

    // Assess: each piece fits, every line once, in order, nothing re-ingested again.
    expect(outputs.map(results)).toStrictEqual(Array(count).fill(['Ok']));
    const ports = outputs.flatMap((r) => decodeLines(okData(r.records[0])).map((l) => l.srcport));
    expect(ports).toStrictEqual(messages.map((_, i) => 1024 + i));
    expect(received).toHaveLength(count);
  });

  it('drains a backlog of highly compressible envelopes: every line Ok exactly once, bounded work per invocation', async () => {
    // Prepare: 13 envelopes of 12,000 lines (1.5 MB each unpacked, ~70 KB of gzip), delivered as
    // Firehose would: up to 0.5 MB of records per invocation, re-ingested records queued again.
    const captured = setup();
    const perEnvelope = 12_000;
    const queue = Array.from({ length: 13 }, (_, e) =>
      firehoseRecord(
        cwlEnvelope(Array.from({ length: perEnvelope }, (_, i) => numbered(e * perEnvelope + i))),
      ),
    );
    const reingested: Buffer[] = [];
    const ports = new Map<string, number>();
    let invocations = 0;

    // Act
    while (queue.length > 0 && invocations < 200) {
      invocations++;
      const batch: FirehoseTransformationEventRecord[] = [];
      let size = 0;
      while (queue.length > 0 && (batch.length === 0 || size + (queue[0]?.data.length ?? 0) <= 500_000)) {
        const next = queue.shift() as FirehoseTransformationEventRecord;
        size += next.data.length;
        batch.push(next);
      }
      const before = reingested.length;
      const response = await transformCapturing(batch, reingested);
      expectContract(batch, response);
      for (const record of response.records) {
        if (record.result !== 'Ok') continue;
        for (const line of decodeLines(record.data)) {
          const key = `${line.srcport}@${line.start}`;
          ports.set(key, (ports.get(key) ?? 0) + 1);
        }
      }
      expect(response.records.some((r) => r.result === 'ProcessingFailed')).toBe(false);
      queue.push(...reingested.slice(before).map((data) => firehoseRecord(data)));
    }

    // Assess
    expect(queue).toHaveLength(0);
    expect(ports.size).toBe(13 * perEnvelope);
    expect([...ports.values()].every((n) => n === 1)).toBe(true);

    expect(invocations).toBeLessThan(60);

    async function transformCapturing(batch: FirehoseTransformationEventRecord[], sink: Buffer[]) {
      const { received, transform: run } = captured;
      const response = await run(firehoseEvent(batch));
      sink.push(...received.splice(0));
      return response;
    }
  }, 120_000);

  it('splits a plain record of 20,000 lines that cannot fit one response into pieces of lines', async () => {
    // Prepare
    const { transform, received } = setup();
    const input = Array.from({ length: 20_000 }, (_, i) => numbered(i));
    const record = firehoseRecord(`${input.join('\n')}\n`);

    // Act
    const response = await transform(firehoseEvent([record]));

    // Assess
    expectContract([record], response);
    expect(results(response)).toStrictEqual(['Dropped']);
    const pieces = received.map((data) => data.toString().split('\n').filter(Boolean));
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    expect(pieces.flat()).toStrictEqual(input);
  });
});

describe('a full 3 MB batch of custom-format lines', () => {
  // Every field up to version 8 (40 fields), with ECS metadata: the widest common format.
  const FORMAT = formatUpTo(8);
  const T = 1_700_000_000;
  const key = (srcport: unknown, start: unknown) => `${srcport}@${start}`;
  /** A valid line for FORMAT, unique by srcport and start. */
  const line8 = (i: number) => {
    const srcport = 1024 + (i % 60_000);
    const start = T + Math.floor(i / 60_000);
    const cluster = 'arn:aws:ecs:us-east-1:123456789012:cluster/prod';
    return [
      8,
      '123456789012',
      'eni-0a1b2c3d4e5f67890',
      '10.0.1.5',
      `10.0.${(i >> 8) & 255}.${i & 255}`,
      srcport,
      443,
      6,
      10,
      5000 + i,
      start,
      start + 60,
      i % 7 === 0 ? 'REJECT' : 'ACCEPT',
      'OK',
      'vpc-0a1b2c3d',
      'subnet-0a1b2c3d',
      'i-0a1b2c3d4e5f67890',
      i % 3 === 0 ? 2 : 18,
      'IPv4',
      '10.0.1.5',
      '10.0.2.7',
      'us-east-1',
      'use1-az1',
      '-',
      '-',
      '-',
      i % 5 === 0 ? 'S3' : '-',
      'egress',
      1,
      cluster,
      'prod',
      'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef',
      '0123456789abcdef',
      `c0ffee${i}`,
      '-',
      'web',
      'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7',
      `arn:aws:ecs:us-east-1:123456789012:task/prod/${i}`,
      String(i),
      i % 7 === 0 ? 'BLOCKED' : '-',
    ].join(' ');
  };

  /**
   * Records of as many lines as fit `recordChars` characters of base64 (at least one line each), until the
   * batch's base64 reaches ~3,000,000 characters, as a Firehose buffer of 3 MB delivers it.
   */
  const batch = (recordChars: number) => {
    const records: FirehoseTransformationEventRecord[] = [];
    const keys: string[] = [];
    let total = 0;
    let next = 0;
    for (;;) {
      const ls = [line8(next)];
      let raw = ls[0]?.length ?? 0;
      while (Math.ceil((raw + ls.length + line8(next + ls.length).length + 1) / 3) * 4 <= recordChars) {
        const line = line8(next + ls.length);
        ls.push(line);
        raw += line.length;
      }
      const record = firehoseRecord(`${ls.join('\n')}\n`);
      if (total + record.data.length > 3_000_000) break;
      records.push(record);
      for (let n = 0; n < ls.length; n++)
        keys.push(key(1024 + ((next + n) % 60_000), T + Math.floor((next + n) / 60_000)));
      total += record.data.length;
      next += ls.length;
    }
    return { records, keys, total };
  };

  /** Keys of the raw lines Firehose got back, for either kind of re-ingested record. */
  const reingestedKeys = (data: Buffer) => {
    const text = data[0] === 0x1f ? gunzipSync(data).toString() : data.toString();
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const tokens = l.split(' ');
        return key(tokens[5], tokens[10]);
      });
  };

  it.each([
    { shape: 'one line per record', recordChars: 1 },
    { shape: 'records of ~10 KB', recordChars: 13_000 },
    { shape: 'records of ~200 KB', recordChars: 270_000 },
    { shape: 'four records of ~560 KB', recordChars: 749_000 },
  ])('answers $shape within 6 MB, every line once in Ok or re-ingested', async ({ recordChars }) => {
    // Prepare
    const { transform, received, errors } = setup({ FLOW_LOG_FORMAT: FORMAT });
    const { records, keys, total } = batch(recordChars);
    expect(total).toBeGreaterThan(2_900_000);

    // Act
    const response = await transform(firehoseEvent(records));

    // Assess: no failure; the Ok lines and the re-ingested lines together are the input, each once.
    expectContract(records, response);
    expect(errors).toStrictEqual([]);
    expect(results(response)).not.toContain('ProcessingFailed');
    const okKeys = response.records.flatMap((r) =>
      r.result === 'Ok' ? decodeLines(r.data).map((l) => key(l.srcport, l.start)) : [],
    );
    expect(okKeys.length).toBeGreaterThan(0);
    expect(received.length).toBeGreaterThan(0);
    const all = [...okKeys, ...received.flatMap(reingestedKeys)];
    expect(all.length).toBe(keys.length);
    expect(all.sort()).toStrictEqual([...keys].sort());

    // Act again: Firehose delivers the re-ingested records back until none is left.
    let pending = received.splice(0);
    const okLater: string[] = [];
    for (let round = 0; round < 10 && pending.length > 0; round++) {
      const inputs = pending.map((data) => firehoseRecord(data));
      const later = await transform(firehoseEvent(inputs));
      expectContract(inputs, later);
      expect(results(later)).not.toContain('ProcessingFailed');
      for (const r of later.records)
        if (r.result === 'Ok') okLater.push(...decodeLines(r.data).map((l) => key(l.srcport, l.start)));
      pending = received.splice(0);
    }

    // Assess: everything came out Ok exactly once.
    expect(pending).toStrictEqual([]);
    expect([...okKeys, ...okLater].sort()).toStrictEqual([...keys].sort());
  });
});
