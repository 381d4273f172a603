import { gzipSync } from 'node:zlib';
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord } from 'aws-lambda';

export const STREAM_ARN = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/flowlog-enrich';

let counter = 0;

/** A Firehose record whose data is the given bytes (strings are UTF-8). */
export function firehoseRecord(data: string | Buffer, recordId?: string): FirehoseTransformationEventRecord {
  counter++;
  return {
    recordId:
      recordId ?? `49546986683135544286507457936321625675700192471156785${String(counter).padStart(6, '0')}`,
    approximateArrivalTimestamp: 1_700_000_000_000,
    data: (typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64'),
  };
}

export function firehoseEvent(records: FirehoseTransformationEventRecord[]): FirehoseTransformationEvent {
  return { invocationId: 'test-invocation', deliveryStreamArn: STREAM_ARN, region: 'us-east-1', records };
}

/** A gzip CloudWatch Logs subscription payload, as CloudWatch Logs sends it to Firehose. */
export function cwlEnvelope(messages: string[], messageType = 'DATA_MESSAGE'): Buffer {
  return gzipSync(
    JSON.stringify({
      messageType,
      owner: '123456789010',
      logGroup: '/vpc/flow-logs',
      logStream: 'eni-1235b8ca123456789-all',
      subscriptionFilters: ['to-firehose'],
      logEvents: messages.map((message, n) => ({ id: `${n}`, timestamp: 1_418_530_070_000, message })),
    }),
  );
}

/** Decodes an Ok record's data into its JSON lines. */
export function decodeLines(data: string): Record<string, unknown>[] {
  const text = Buffer.from(data, 'base64').toString('utf8');
  if (!text.endsWith('\n')) throw new Error('output is not newline-terminated');
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
