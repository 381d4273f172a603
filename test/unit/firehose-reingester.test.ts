import 'aws-sdk-client-mock-vitest/extend';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { chunks, createFirehoseReingester } from '../../src/aws/firehose-reingester.js';
import { loadConfig } from '../../src/config.js';
import type { InvocationSummary } from '../../src/telemetry.js';
import { createTransformer } from '../../src/transform.js';
import { firehoseEvent, firehoseRecord } from '../helpers/events.js';

const firehose = mockClient(FirehoseClient);
const noSleep = async () => {};
const ARN = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/flowlog-enrich';

/** Answers each PutRecordBatch entry Ok unless `fail` says otherwise. */
function answer(fail: (data: string, call: number) => boolean) {
  let call = 0;
  firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
    call++;
    const responses = (input.Records ?? []).map((record) =>
      fail(Buffer.from(record.Data as Uint8Array).toString(), call)
        ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
        : { RecordId: `id-${call}` },
    );
    return {
      FailedPutCount: responses.filter((r) => 'ErrorCode' in r).length,
      Encrypted: false,
      RequestResponses: responses,
    };
  });
}

describe('chunks', () => {
  it.each([
    {
      name: '1,200 small records → 500 + 500 + 200',
      sizes: Array(1200).fill(100),
      expected: [500, 500, 200],
    },
    { name: '10 records of 500 KiB → 4 MiB per call', sizes: Array(10).fill(500 * 1024), expected: [8, 2] },
    { name: 'nothing → no call', sizes: [], expected: [] },
  ])('$name', ({ sizes, expected }) => {
    const records = sizes.map((size) => Buffer.alloc(size));
    expect(
      chunks(
        records.map((_, i) => i),
        records,
      ).map((c) => c.length),
    ).toStrictEqual(expected);
  });
});

describe('createFirehoseReingester', () => {
  beforeEach(() => firehose.reset());

  it('puts into the stream named by the ARN, within the per-call limits', async () => {
    answer(() => false);
    const reingester = createFirehoseReingester(firehose as unknown as FirehoseClient, { sleep: noSleep });
    const records = Array.from({ length: 1001 }, (_, i) => Buffer.from(`line ${i}\n`));
    const outcome = await reingester.reingest(ARN, records, Date.now() + 10_000);
    expect(outcome.accepted.every(Boolean)).toBe(true);
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 3);
    expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, {
      DeliveryStreamName: 'flowlog-enrich',
    });
  });

  it('retries only the entries that failed', async () => {
    answer((data, call) => call === 1 && (data === 'b' || data === 'd'));
    const reingester = createFirehoseReingester(firehose as unknown as FirehoseClient, { sleep: noSleep });
    const outcome = await reingester.reingest(
      ARN,
      ['a', 'b', 'c', 'd'].map((s) => Buffer.from(s)),
      Date.now() + 10_000,
    );
    expect(outcome.accepted).toStrictEqual([true, true, true, true]);
    expect(outcome.retries).toBe(1);
    const second = firehose
      .commandCalls(PutRecordBatchCommand)[1]
      ?.args[0].input.Records?.map((r) => Buffer.from(r.Data as Uint8Array).toString());
    expect(second).toStrictEqual(['b', 'd']);
  });

  it('gives up at the deadline and reports what was not accepted', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ServiceUnavailableException' }));
    let now = 0;
    const reingester = createFirehoseReingester(firehose as unknown as FirehoseClient, {
      sleep: async (ms) => {
        now += ms + 100;
      },
      now: () => now,
    });
    const outcome = await reingester.reingest(ARN, [Buffer.from('x'), Buffer.from('y')], 1000);
    expect(outcome.accepted).toStrictEqual([false, false]);
    expect(outcome.calls).toBeGreaterThan(1);
  });

  it('counts each failure under its AWS name: failed calls and failed entries', async () => {
    // Prepare: one call throttled, then one entry refused, then everything accepted.
    firehose
      .on(PutRecordBatchCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolvesOnce({
        FailedPutCount: 1,
        RequestResponses: [
          { RecordId: 'id-1' },
          { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
        ],
      })
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'id-2' }] });
    const reingester = createFirehoseReingester(firehose as unknown as FirehoseClient, { sleep: noSleep });

    // Act
    const outcome = await reingester.reingest(ARN, [Buffer.from('a'), Buffer.from('b')], Date.now() + 10_000);

    // Assess
    expect(outcome).toStrictEqual({
      accepted: [true, true],
      calls: 3,
      retries: 2,
      errors: { ThrottlingException: 1, ServiceUnavailableException: 1 },
    });
  });

  it('never sends a record over 1,000 KiB', async () => {
    answer(() => false);
    const reingester = createFirehoseReingester(firehose as unknown as FirehoseClient, { sleep: noSleep });
    const outcome = await reingester.reingest(
      ARN,
      [Buffer.alloc(1000 * 1024 + 1), Buffer.from('ok')],
      Date.now() + 1000,
    );
    expect(outcome.accepted).toStrictEqual([false, true]);
  });
});

describe('the transform with a failing Firehose', () => {
  beforeEach(() => firehose.reset());

  it.each([
    { name: 'partial failures that clear', fail: (_: string, call: number) => call === 1, lost: 0 },
    { name: 'a stream that refuses everything', fail: () => true, lost: -1 },
  ])('loses no record when re-ingest meets $name, and counts it', async ({ fail }) => {
    // Prepare: a 10 kB response limit forces most of 60 records out to re-ingestion.
    answer(fail);
    const summaries: InvocationSummary[] = [];
    const transform = createTransformer({
      config: loadConfig({ ENRICHMENT: 'off', RESPONSE_LIMIT_BYTES: '10000', REINGEST_BUDGET_MS: '200' }),
      reingester: createFirehoseReingester(firehose as unknown as FirehoseClient, { sleep: noSleep }),
      report: (s) => summaries.push(s),
    });
    const records = Array.from({ length: 60 }, (_, i) =>
      firehoseRecord(
        `2 123456789010 eni-1235b8ca123456789 10.0.0.1 10.0.0.2 ${20000 + i} 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n`,
      ),
    );

    // Act
    const response = await transform(firehoseEvent(records));

    // Assess: every record is Ok, re-ingested (Dropped after Firehose accepted it) or failed (Firehose keeps it).
    const counts = summaries[0]?.counts ?? {};
    const dropped = response.records.filter((r) => r.result === 'Dropped').length;
    const failed = response.records.filter((r) => r.result === 'ProcessingFailed').length;
    expect(response.records.map((r) => r.recordId)).toStrictEqual(records.map((r) => r.recordId));
    expect(dropped).toBe(counts.RecordsReingested ?? 0);
    expect(failed).toBe(counts.ReingestFailed ?? 0);
    expect(dropped + failed).toBeGreaterThan(0);
    if (fail('', 2)) expect(dropped).toBe(0);
    else expect(failed).toBe(0);
  });
});

// The stream name in PutRecordBatch comes from the event's ARN: keep the import of the handler-level
// wiring honest by checking an unrelated ARN shape too.
it('takes the stream name from the last path segment of the ARN', async () => {
  firehose.reset();
  answer(() => false);
  await createFirehoseReingester(firehose as unknown as FirehoseClient, { sleep: noSleep }).reingest(
    'arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/other-stream',
    [Buffer.from('x')],
    Date.now() + 1000,
  );
  expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, { DeliveryStreamName: 'other-stream' });
});
