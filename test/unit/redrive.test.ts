import 'aws-sdk-client-mock-vitest/extend';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
  ResourceNotFoundException,
  ServiceUnavailableException,
} from '@aws-sdk/client-firehose';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CommandError } from '../../src/cli/context.js';
import { isRetryable, REDRIVE_RETRY, redrive } from '../../src/cli/redrive.js';
import type { S3Objects } from '../../src/cli/s3-objects.js';
import { runCli } from '../helpers/cli.js';

const firehose = mockClient(FirehoseClient);
const s3Mock = mockClient(S3Client);

/** A flow line per number, as the original data of an error record. */
const flowLine = (n: number) =>
  `2 123456789012 eni-1235b8ca123456789 198.51.100.23 172.31.16.21 ${40_000 + n} 443 6 20 4249 1418530010 1418530070 ACCEPT OK\n`;
const errorRecord = (n: number) =>
  JSON.stringify({
    attemptsMade: 1,
    arrivalTimestamp: 1_700_000_000_000 + n,
    errorCode: 'Lambda.ProcessingFailed',
    rawData: Buffer.from(flowLine(n)).toString('base64'),
  });
const errorObject = (numbers: number[]) => gzipSync(`${numbers.map(errorRecord).join('\n')}\n`);
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** An in-memory bucket. */
function fakeS3(objects: Record<string, Buffer>): S3Objects & { readonly objects: Map<string, Buffer> } {
  const store = new Map(Object.entries(objects));
  return {
    objects: store,
    list: async (_bucket, prefix) => [...store.keys()].filter((key) => key.startsWith(prefix)),
    get: async (_bucket, key) => store.get(key) as Buffer,
    open: async (_bucket, key) => Readable.from([store.get(key) as Buffer]),
    delete: async (_bucket, key) => {
      store.delete(key);
    },
    put: async (_bucket, key, body) => {
      store.set(key, body);
    },
  };
}

/** The line numbers (n of flowLine) an object still holds. */
const held = (body: Buffer | undefined) =>
  gunzipSync(body as Buffer)
    .toString()
    .trimEnd()
    .split('\n')
    .map(
      (line) =>
        Number(
          Buffer.from((JSON.parse(line) as { rawData: string }).rawData, 'base64')
            .toString()
            .split(' ')[5],
        ) - 40_000,
    );

/** Accepts every entry; what was put, in order. */
function acceptAll(): string[] {
  const put: string[] = [];
  firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
    const records = input.Records ?? [];
    for (const record of records) put.push(Buffer.from(record.Data as Uint8Array).toString());
    return { FailedPutCount: 0, RequestResponses: records.map((_, i) => ({ RecordId: `id-${i}` })) };
  });
  return put;
}

function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

const flags = { bucket: 'errors-bucket', prefix: 'errors/', stream: 'flowlogs', region: 'us-east-1' };

function context() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    ctx: {
      env: {},
      stdout: (text: string) => {
        out.stdout += text;
      },
      stderr: (text: string) => {
        out.stderr += text;
      },
    },
  };
}

describe('redrive stops at once on errors that cannot pass', () => {
  beforeEach(() => {
    firehose.reset();
    s3Mock.reset();
  });

  it.each([
    {
      name: 'a stream that does not exist (a mistyped --stream)',
      error: new ResourceNotFoundException({
        message: 'Firehose typo under account 123456789012 not found.',
        $metadata: { httpStatusCode: 400 },
      }),
      expected: /ResourceNotFoundException: Firehose typo under account 123456789012 not found\./,
    },
    {
      name: 'access denied',
      error: awsError(
        'AccessDeniedException',
        'User is not authorized to perform: firehose:PutRecordBatch',
        400,
      ),
      expected: /AccessDeniedException: User is not authorized/,
    },
    {
      name: 'a validation error',
      error: awsError('ValidationException', '1 validation error detected', 400),
      expected: /ValidationException: 1 validation error detected/,
    },
  ])(
    '$name: one PutRecordBatch call, no wait, one line naming the error, exit 1',
    async ({ error, expected }) => {
      // Prepare: two objects of 301 records, as in the report (602 records, 2 objects).
      firehose.on(PutRecordBatchCommand).rejects(error);
      s3Mock
        .on(ListObjectsV2Command)
        .resolves({ Contents: [{ Key: 'errors/a.gz' }, { Key: 'errors/b.gz' }] });
      s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
        Body: {
          transformToByteArray: async () => errorObject(range(input.Key === 'errors/a.gz' ? 0 : 301, 301)),
        },
      }));
      const started = Date.now();

      // Act: the whole CLI, as a user runs it.
      const { code, stdout, stderr } = await runCli(
        ['redrive', '--bucket', 'errors-bucket', '--stream', 'typo', '--region', 'us-east-1'],
        { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
      );

      // Assess
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(expected);
      expect(stderr).toMatch(
        /^flowlog-enrich: redrive stopped at s3:\/\/errors-bucket\/errors\/a\.gz: PutRecordBatch to stream typo: /,
      );
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 1);
      expect(Date.now() - started).toBeLessThan(5_000);
    },
  );

  it('an S3 error (no such bucket) is one line too, not a stack trace', async () => {
    s3Mock
      .on(ListObjectsV2Command)
      .rejects(awsError('NoSuchBucket', 'The specified bucket does not exist', 404));
    const { code, stderr } = await runCli(
      ['redrive', '--bucket', 'nope', '--stream', 'flowlogs', '--region', 'us-east-1'],
      {
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
    );
    expect(code).toBe(1);
    expect(stderr).toBe(
      'flowlog-enrich: redrive: cannot list s3://nope/errors/: NoSuchBucket: The specified bucket does not exist\n',
    );
  });

  it.each([
    {
      error: new ServiceUnavailableException({ message: 'Slow down.', $metadata: { httpStatusCode: 503 } }),
      retry: true,
    },
    { error: awsError('ThrottlingException', 'Rate exceeded', 400), retry: true },
    {
      error: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      retry: true,
    },
    { error: awsError('InternalFailure', 'oops', 500), retry: true },
    { error: awsError('ResourceNotFoundException', 'not found', 400), retry: false },
    { error: awsError('InvalidArgumentException', 'bad', 400), retry: false },
    { error: awsError('UnrecognizedClientException', 'bad token', 400), retry: false },
    { error: awsError('CredentialsProviderError', 'no credentials', 0), retry: false },
  ])('classifies $error.name as retryable: $retry', ({ error, retry }) => {
    expect(isRetryable(error)).toBe(retry);
  });
});

describe('redrive retries what can pass, a bounded number of times, with backoff', () => {
  beforeEach(() => firehose.reset());

  it('throttled twice, then accepted: everything sent, after waits of at most 200 and 400 ms', async () => {
    // Prepare
    const put: string[] = [];
    firehose
      .on(PutRecordBatchCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded', 400))
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded', 400))
      .callsFake((input: PutRecordBatchCommandInput) => {
        for (const record of input.Records ?? []) put.push(Buffer.from(record.Data as Uint8Array).toString());
        return { FailedPutCount: 0, RequestResponses: (input.Records ?? []).map(() => ({ RecordId: 'id' })) };
      });
    const s3 = fakeS3({ 'errors/a.gz': errorObject(range(0, 3)) });
    const waits: number[] = [];
    const { ctx } = context();

    // Act
    const result = await redrive(flags, ctx, {
      firehose: new FirehoseClient({ region: 'us-east-1' }),
      s3,
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 1,
    });

    // Assess
    expect(result).toMatchObject({ sent: 3, failed: 0 });
    expect(put).toStrictEqual(range(0, 3).map(flowLine));
    expect(waits).toStrictEqual([200, 400]);
  });

  it(`still throttled after ${REDRIVE_RETRY.attempts} attempts: stops, naming the error, waits doubling up to 3.2 s`, async () => {
    firehose.on(PutRecordBatchCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    const s3 = fakeS3({ 'errors/a.gz': errorObject(range(0, 3)), 'errors/b.gz': errorObject(range(3, 3)) });
    const waits: number[] = [];

    const outcome = redrive(flags, context().ctx, {
      firehose: new FirehoseClient({ region: 'us-east-1' }),
      s3,
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 1,
    });

    await expect(outcome).rejects.toThrow(CommandError);
    await expect(outcome).rejects.toThrow(
      'redrive stopped at s3://errors-bucket/errors/a.gz: PutRecordBatch to stream flowlogs: ThrottlingException: Rate exceeded (still failing after 6 attempts); 0 records sent in all',
    );
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 6);
    expect(waits).toStrictEqual([200, 400, 800, 1600, 3200]);
  });

  it('entries the service keeps failing count as failed with their reason; the next objects are sent', async () => {
    // Prepare: record 1 of object a always fails.
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
      FailedPutCount: 0,
      RequestResponses: (input.Records ?? []).map((record) =>
        Buffer.from(record.Data as Uint8Array).toString() === flowLine(1)
          ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
          : { RecordId: 'id' },
      ),
    }));
    const s3 = fakeS3({ 'errors/a.gz': errorObject(range(0, 3)), 'errors/b.gz': errorObject(range(3, 3)) });
    const { ctx, out } = context();

    // Act
    const result = await redrive(flags, ctx, {
      firehose: new FirehoseClient({ region: 'us-east-1' }),
      s3,
      sleep: async () => {},
    });

    // Assess: 6 calls for a (the first and five retries of the one entry), 1 for b.
    expect(result).toMatchObject({ sent: 5, failed: 1 });
    expect(firehose).toHaveReceivedCommandTimes(PutRecordBatchCommand, 7);
    expect(out.stdout).toContain(
      '5 sent to flowlogs, 1 failed (1× ServiceUnavailableException: Slow down., after 6 attempts)',
    );
  });

  it('with --delete-sent, an object stopped half-way keeps exactly the records not sent', async () => {
    // Prepare: 600 records = a call of 500, then one of 100 that meets a stream deleted meanwhile.
    firehose
      .on(PutRecordBatchCommand)
      .callsFakeOnce((input: PutRecordBatchCommandInput) => ({
        FailedPutCount: 0,
        RequestResponses: (input.Records ?? []).map(() => ({ RecordId: 'id' })),
      }))
      .rejects(
        awsError('ResourceNotFoundException', 'Firehose flowlogs under account 123456789012 not found.', 400),
      );
    const s3 = fakeS3({ 'errors/a.gz': errorObject(range(0, 600)) });

    // Act
    const outcome = redrive({ ...flags, deleteSent: true }, context().ctx, {
      firehose: new FirehoseClient({ region: 'us-east-1' }),
      s3,
      sleep: async () => {},
    });

    // Assess
    await expect(outcome).rejects.toThrow(
      /ResourceNotFoundException.*\(cannot pass on a retry\); 500 records sent in all; the object now holds only its 100 records not sent$/,
    );
    expect(held(s3.objects.get('errors/a.gz'))).toStrictEqual(range(500, 100));
  });
});

describe('redrive reads what it can of damaged error objects, and names the damage', () => {
  beforeEach(() => firehose.reset());

  it('a corrupt line is named by object and line, kept in the object, and the exit status is 1', async () => {
    // Prepare
    const put = acceptAll();
    const lines = [errorRecord(0), '{"attemptsMade":1,"rawData":"MiAx', errorRecord(2)];
    const truncated = errorObject(range(10, 50));
    const s3 = fakeS3({
      'errors/a.gz': gzipSync(`${lines.join('\n')}\n`),
      'errors/b.gz': truncated.subarray(0, truncated.length - 40),
    });
    const { ctx, out } = context();

    // Act
    const result = await redrive({ ...flags, deleteSent: true }, ctx, {
      firehose: new FirehoseClient({ region: 'us-east-1' }),
      s3,
      sleep: async () => {},
    });

    // Assess
    expect(put).toStrictEqual([flowLine(0), flowLine(2)]);
    expect(result).toMatchObject({ sent: 2, damaged: 2, rewritten: 1, deleted: 0 });
    expect(out.stderr).toContain('s3://errors-bucket/errors/a.gz:2: not a Firehose error record (');
    expect(out.stderr).toContain('s3://errors-bucket/errors/b.gz: damaged gzip (unexpected end of file)');
    expect(gunzipSync(s3.objects.get('errors/a.gz') as Buffer).toString()).toBe(`${lines[1]}\n`);
    expect(s3.objects.get('errors/b.gz')).toStrictEqual(truncated.subarray(0, truncated.length - 40));
  });
});
