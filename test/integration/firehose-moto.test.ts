/**
 * The CLI's AWS-facing commands (invoke with re-ingestion, redrive, inventory, run from S3) against a real
 * moto_server on 127.0.0.1. Nothing here talks to any other address.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateDeliveryStreamCommand,
  FirehoseClient,
  type PutRecordBatchCommandInput,
  type PutRecordBatchCommandOutput,
} from '@aws-sdk/client-firehose';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redrive } from '../../src/cli/redrive.js';
import { runCli } from '../helpers/cli.js';
import { decodeLines, firehoseEvent, firehoseRecord, STREAM_ARN } from '../helpers/events.js';
import { MOTO_ACCOUNT, MOTO_CREDENTIALS, MOTO_REGION, type Moto, motoGate, startMoto } from './moto.js';

const { available, required } = motoGate('Firehose/S3 CLI integration tests');

/** The stream the helper's events name (`.../deliverystream/flowlog-enrich`). */
const EVENT_STREAM = STREAM_ARN.slice(STREAM_ARN.lastIndexOf('/') + 1);

/** The environment the SDK's default credential chain reads: static test keys, no profiles, no IMDS. */
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } as const;

/** One flow line in the default (version 2) format, newline-terminated as flow logs deliver it. */
function flowLine(srcport: number, interfaceId = 'eni-1235b8ca123456789', dstaddr = '172.31.16.21'): string {
  return `2 ${MOTO_ACCOUNT} ${interfaceId} 198.51.100.23 ${dstaddr} ${srcport} 443 6 20 4249 1418530010 1418530070 ACCEPT OK\n`;
}

/** The srcport (6th field) of a raw flow line. */
const portOf = (line: string) => Number(line.split(' ')[5]);

interface CliResponse {
  readonly records: { recordId: string; result: string; data?: string }[];
}

describe.skipIf(!available && !required)('CLI commands against moto_server (Firehose, S3, EC2)', () => {
  let moto: Moto | undefined;
  let scratch: string;
  let s3: S3Client;
  let firehose: FirehoseClient;
  let ec2: EC2Client;
  const endpoint = () => (moto as Moto).endpoint;
  const awsFlags = () => ['--endpoint-url', endpoint(), '--region', MOTO_REGION];
  const motoFlags = () => ({ endpointUrl: endpoint(), region: MOTO_REGION });

  /**
   * A Firehose client on moto that fails the record `failing()` names in every PutRecordBatch, as Firehose
   * reports a partial failure: the record is not sent, its entry carries an ErrorCode, FailedPutCount counts it.
   */
  function withFailingRecord(failing: () => string | undefined): FirehoseClient {
    const client = new FirehoseClient({
      region: MOTO_REGION,
      endpoint: endpoint(),
      credentials: MOTO_CREDENTIALS,
      maxAttempts: 1,
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as PutRecordBatchCommandInput;
        const records = input.Records ?? [];
        const fails = records.map((r) => Buffer.from(r.Data as Uint8Array).toString() === failing());
        if (!fails.includes(true)) return next(args);
        const result = await next({
          ...args,
          input: { ...input, Records: records.filter((_, i) => !fails[i]) },
        });
        const output = result.output as PutRecordBatchCommandOutput;
        const answers = [...(output.RequestResponses ?? [])];
        return {
          ...result,
          output: {
            ...output,
            FailedPutCount: (output.FailedPutCount ?? 0) + fails.filter(Boolean).length,
            RequestResponses: fails.map((fail) =>
              fail
                ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
                : answers.shift(),
            ),
          },
        };
      },
      { step: 'initialize', name: 'failOneRecord' },
    );
    return client;
  }

  /** A bucket, and a delivery stream writing what it receives into it (one object per call). */
  async function streamInto(stream: string, bucket: string): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: stream,
        DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: {
          RoleARN: `arn:aws:iam::${MOTO_ACCOUNT}:role/firehose-delivery`,
          BucketARN: `arn:aws:s3:::${bucket}`,
          Prefix: 'delivered/',
        },
      }),
    );
  }

  /** Every object of the bucket: key and bytes. */
  async function objects(bucket: string): Promise<{ key: string; body: Buffer }[]> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const out: { key: string; body: Buffer }[] = [];
    for (const object of listed.Contents ?? []) {
      const key = object.Key as string;
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      out.push({
        key,
        body: Buffer.from(
          await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        ),
      });
    }
    return out;
  }

  /** The newline-terminated lines of every object of the bucket (moto concatenates a call's records). */
  async function deliveredLines(bucket: string): Promise<string[]> {
    return (await objects(bucket)).flatMap(({ body }) =>
      body
        .toString('utf8')
        .split(/(?<=\n)/)
        .filter((line) => line !== ''),
    );
  }

  beforeAll(async () => {
    if (!available) {
      throw new Error(
        'moto_server is not on PATH, and CI=true requires the Firehose/S3 integration tests: pip install "moto[server]"',
      );
    }
    // The CLI's clients use the default credential chain (process.env): keep it on static test keys and
    // away from profiles, SSO and the instance metadata service.
    scratch = mkdtempSync(join(tmpdir(), 'flowlog-firehose-moto-'));
    vi.stubEnv('AWS_ACCESS_KEY_ID', AWS_ENV.AWS_ACCESS_KEY_ID);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', AWS_ENV.AWS_SECRET_ACCESS_KEY);
    vi.stubEnv('AWS_SESSION_TOKEN', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('AWS_ENDPOINT_URL', undefined);
    vi.stubEnv('AWS_CONFIG_FILE', join(scratch, 'no-config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(scratch, 'no-credentials'));
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');

    moto = await startMoto();
    const config = { region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS };
    s3 = new S3Client({ ...config, forcePathStyle: true });
    firehose = new FirehoseClient(config);
    ec2 = new EC2Client(config);
  });

  afterAll(async () => {
    s3?.destroy();
    firehose?.destroy();
    ec2?.destroy();
    await moto?.stop();
    vi.unstubAllEnvs();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('invoke re-ingests what does not fit the response into the event stream with PutRecordBatch', async () => {
    // Prepare: the event's stream delivering into a bucket; 80 one-line records against a 10 kB response.
    const bucket = 'reingested-flowlogs';
    await streamInto(EVENT_STREAM, bucket);
    const lines = Array.from({ length: 80 }, (_, i) => flowLine(30_000 + i));
    const eventFile = join(scratch, 'overflow-event.json');
    writeFileSync(eventFile, JSON.stringify(firehoseEvent(lines.map((line) => firehoseRecord(line)))));

    // Act
    await moto?.startRecording();
    const { code, stdout, stderr } = await runCli(['invoke', '--event', eventFile, ...awsFlags()], {
      RESPONSE_LIMIT_BYTES: '10000',
      ...AWS_ENV,
    });
    const calls = (await moto?.stopRecording()) ?? [];

    // Assess: every line is either returned Ok or delivered by the stream, exactly once.
    expect(code, stderr).toBe(0);
    const response = JSON.parse(stdout) as CliResponse;
    expect(response.records).toHaveLength(80);
    const results = response.records.map((r) => r.result);
    expect(results).not.toContain('ProcessingFailed');
    const ok = response.records.filter((r) => r.result === 'Ok');
    const dropped = response.records.filter((r) => r.result === 'Dropped');
    expect(ok.length + dropped.length).toBe(80);
    expect(dropped.length).toBeGreaterThan(40);
    expect(ok.length).toBeGreaterThan(0);

    const okPorts = ok.flatMap((r) => decodeLines(r.data ?? '').map((line) => line.srcport as number));
    const delivered = await deliveredLines(bucket);
    expect(delivered).toHaveLength(dropped.length);
    // The stream receives the original bytes, not the enriched JSON.
    for (const line of delivered) expect(lines).toContain(line);
    const allPorts = [...okPorts, ...delivered.map(portOf)].sort((a, b) => a - b);
    expect(allPorts).toStrictEqual(lines.map(portOf));
    // One result per input record, in the event's order.
    expect(response.records.map((r) => r.recordId)).toStrictEqual(
      (JSON.parse(readFileSync(eventFile, 'utf8')) as CliResponse).records.map((r) => r.recordId),
    );
    const puts = calls.filter((c) => c.action === 'PutRecordBatch');
    expect(puts.length).toBeGreaterThanOrEqual(1);
    expect((await objects(bucket)).length).toBe(puts.length);
    expect(stderr).toContain(`80 records: ${ok.length} Ok, ${dropped.length} Dropped`);
  });

  describe('redrive', () => {
    const source = 'firehose-errors';
    const errorLines = [flowLine(41_000), flowLine(41_001), flowLine(41_002)];
    const errorRecord = (data: string | undefined, n: number) =>
      JSON.stringify({
        attemptsMade: 1,
        arrivalTimestamp: 1_700_000_000_000 + n,
        errorCode: 'Lambda.ProcessingFailed',
        errorMessage: 'The Lambda function was successfully invoked but it returned an error result.',
        attemptEndingTimestamp: 1_700_000_001_000 + n,
        ...(data === undefined ? {} : { rawData: Buffer.from(data).toString('base64') }),
        lambdaArn: `arn:aws:lambda:${MOTO_REGION}:${MOTO_ACCOUNT}:function:flowlog-enrich:$LATEST`,
      });

    beforeAll(async () => {
      // Two gzip error objects as Firehose writes them; the second has one record without rawData.
      await s3.send(new CreateBucketCommand({ Bucket: source }));
      const first = [errorRecord(errorLines[0], 0), errorRecord(errorLines[1], 1)];
      const second = [errorRecord(errorLines[2], 2), errorRecord(undefined, 3)];
      for (const [n, records] of [first, second].entries()) {
        await s3.send(
          new PutObjectCommand({
            Bucket: source,
            Key: `errors/processing-failed/2024/05/01/12/flowlog-enrich-1-2024-05-01-12-00-0${n}-abc${n}.gz`,
            Body: gzipSync(`${records.join('\n')}\n`),
          }),
        );
      }
      // Something outside the prefix is never read.
      await s3.send(
        new PutObjectCommand({
          Bucket: source,
          Key: 'flowlogs/2024/05/01/ok.gz',
          Body: gzipSync(`${errorRecord(flowLine(49_999), 9)}\n`),
        }),
      );
    });

    it('puts the original data of the error records back into the stream', async () => {
      // Prepare
      const stream = 'redrive-target';
      const bucket = 'redriven-flowlogs';
      await streamInto(stream, bucket);

      // Act
      const { code, stdout, stderr } = await runCli(
        ['redrive', '--bucket', source, '--prefix', 'errors/', '--stream', stream, ...awsFlags()],
        AWS_ENV,
      );

      // Assess
      expect(code, stderr).toBe(0);
      expect(stdout).toBe(
        `2 error objects, 4 error records: 3 sent to ${stream}, 0 failed, 1 skipped (no rawData, empty or over 1,000 KiB)\n`,
      );
      expect((await deliveredLines(bucket)).sort()).toStrictEqual([...errorLines].sort());
    });

    it('with --dry-run sends nothing and reports what it would send', async () => {
      // Prepare
      const stream = 'redrive-dry-run';
      const bucket = 'redriven-dry-run';
      await streamInto(stream, bucket);

      // Act
      const { code, stdout, stderr } = await runCli(
        [
          'redrive',
          '--bucket',
          source,
          '--prefix',
          'errors/',
          '--stream',
          stream,
          '--dry-run',
          ...awsFlags(),
        ],
        AWS_ENV,
      );

      // Assess
      expect(code, stderr).toBe(0);
      expect(stdout).toBe(
        `2 error objects, 4 error records: 3 would be sent to ${stream}, 1 skipped (no rawData, empty or over 1,000 KiB)\n`,
      );
      expect(await objects(bucket)).toStrictEqual([]);
    });

    it('with --delete-sent removes each object once all its records were accepted and keeps only the unsent ones, so a rerun sends nothing twice', async () => {
      // Prepare: a copy of the error tree in its own bucket.
      const errors = 'firehose-errors-delete';
      await s3.send(new CreateBucketCommand({ Bucket: errors }));
      await s3.send(
        new PutObjectCommand({
          Bucket: errors,
          Key: 'errors/processing-failed/a.gz',
          Body: gzipSync(`${[errorRecord(errorLines[0], 0), errorRecord(errorLines[1], 1)].join('\n')}\n`),
        }),
      );
      // An object with a record that cannot be sent (no rawData) must survive: it holds the only copy.
      await s3.send(
        new PutObjectCommand({
          Bucket: errors,
          Key: 'errors/processing-failed/b.gz',
          Body: gzipSync(`${[errorRecord(errorLines[2], 2), errorRecord(undefined, 3)].join('\n')}\n`),
        }),
      );
      const stream = 'redrive-delete';
      const bucket = 'redriven-delete';
      await streamInto(stream, bucket);
      const args = [
        'redrive',
        '--bucket',
        errors,
        '--prefix',
        'errors/',
        '--stream',
        stream,
        '--delete-sent',
        ...awsFlags(),
      ];

      // Act
      const first = await runCli(args, AWS_ENV);
      const second = await runCli(args, AWS_ENV);

      // Assess
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain('3 sent to redrive-delete, 0 failed, 1 skipped');
      expect(first.stdout).toContain(
        '1 objects deleted after all their records were accepted, 1 rewritten with only the records not sent',
      );
      // The second run sees only the object that kept its unsendable record, and sends nothing.
      expect(second.stdout).toContain(
        '1 error objects, 1 error records: 0 sent to redrive-delete, 0 failed, 1 skipped',
      );
      expect((await deliveredLines(bucket)).sort()).toStrictEqual(
        [errorLines[0], errorLines[1], errorLines[2]].sort(),
      );
      const kept = await objects(errors);
      expect(kept.map((o) => o.key)).toStrictEqual(['errors/processing-failed/b.gz']);
      expect(gunzipSync(kept[0]?.body as Buffer).toString()).toBe(`${errorRecord(undefined, 3)}\n`);
    });

    it('with --delete-sent after a partial failure, a rerun sends only what failed (600 records, 1 failed)', async () => {
      // Prepare: one error object of 600 records, as Firehose writes them.
      const errors = 'firehose-errors-partial';
      await s3.send(new CreateBucketCommand({ Bucket: errors }));
      const lines = Array.from({ length: 600 }, (_, i) => flowLine(50_000 + i));
      await s3.send(
        new PutObjectCommand({
          Bucket: errors,
          Key: 'errors/processing-failed/2024/05/01/12/big.gz',
          Body: gzipSync(`${lines.map((line, i) => errorRecord(line, i)).join('\n')}\n`),
        }),
      );
      const stream = 'redrive-partial';
      const bucket = 'redriven-partial';
      await streamInto(stream, bucket);
      // moto never fails an entry: a client whose every PutRecordBatch fails record 137 (it is not sent),
      // as Firehose reports a partial failure, on every attempt of the first run.
      let failing = lines[137];
      const client = withFailingRecord(() => failing);
      const flags = { bucket: errors, prefix: 'errors/', stream, deleteSent: true, ...motoFlags() };
      const out = { stdout: '', stderr: '' };
      const ctx = {
        env: AWS_ENV,
        stdout: (text: string) => {
          out.stdout += text;
        },
        stderr: (text: string) => {
          out.stderr += text;
        },
      };

      // Act
      const first = await redrive(flags, ctx, { firehose: client, sleep: async () => {} });
      failing = undefined;
      const second = await redrive(flags, ctx, { firehose: client, sleep: async () => {} });
      const third = await redrive(flags, ctx, { firehose: client, sleep: async () => {} });

      // Assess: 600 records delivered, each once; the object is gone after the second run.
      expect(first).toMatchObject({ found: 600, sent: 599, failed: 1, deleted: 0, rewritten: 1 });
      expect(out.stdout).toContain('599 sent to redrive-partial, 1 failed (1× ServiceUnavailableException');
      expect(second).toMatchObject({ objects: 1, found: 1, sent: 1, failed: 0, deleted: 1 });
      expect(third).toMatchObject({ objects: 0, sent: 0 });
      const delivered = await deliveredLines(bucket);
      expect(delivered).toHaveLength(600);
      expect([...delivered].sort()).toStrictEqual([...lines].sort());
      expect(await objects(errors)).toStrictEqual([]);
      client.destroy();
    });

    it('stops at once on a mistyped stream, naming ResourceNotFoundException in one line (exit 1)', async () => {
      // Prepare
      const started = Date.now();
      await moto?.startRecording();

      // Act
      const { code, stdout, stderr } = await runCli(
        ['redrive', '--bucket', source, '--prefix', 'errors/', '--stream', 'redrive-typo', ...awsFlags()],
        AWS_ENV,
      );
      const calls = (await moto?.stopRecording()) ?? [];

      // Assess
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(
        /^flowlog-enrich: redrive stopped at s3:\/\/firehose-errors\/errors\/processing-failed\/\S+: PutRecordBatch to stream redrive-typo: ResourceNotFoundException: Firehose redrive-typo under account 123456789012 not found\. \(cannot pass on a retry\); 0 records sent in all\n$/,
      );
      expect(calls.filter((call) => call.action === 'PutRecordBatch')).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  });

  it('inventory dumps the account, and invoke --inventory enriches from the dump offline', async () => {
    // Prepare: a VPC with two subnets, a security group, an instance and a tagged extra interface.
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    const vpcId = vpc.Vpc?.VpcId as string;
    const subnetA = (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.20.1.0/24', AvailabilityZone: 'us-east-1a' }),
      )
    ).Subnet?.SubnetId as string;
    const subnetB = (
      await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: '10.20.2.0/24',
          AvailabilityZone: 'us-east-1b',
          TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'Name', Value: 'app-b' }] }],
        }),
      )
    ).Subnet?.SubnetId as string;
    const groupId = (
      await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'app', Description: 'app tier', VpcId: vpcId }),
      )
    ).GroupId as string;
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetA,
        SecurityGroupIds: [groupId],
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId as string;
    const instanceEni = run.Instances?.[0]?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
    const eni = await ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnetB,
        Groups: [groupId],
        Description: 'worker',
        TagSpecifications: [
          { ResourceType: 'network-interface', Tags: [{ Key: 'Application', Value: 'shop' }] },
        ],
      }),
    );
    const eniId = eni.NetworkInterface?.NetworkInterfaceId as string;
    const eniIp = eni.NetworkInterface?.PrivateIpAddress as string;
    expect([vpcId, subnetA, subnetB, groupId, instanceId, instanceEni, eniId, eniIp]).not.toContain(
      undefined,
    );
    const inventoryFile = join(scratch, 'inventory.json');

    // Act: dump
    const dumped = await runCli(['inventory', '--out', inventoryFile, ...awsFlags()], AWS_ENV);

    // Assess: the file holds the seeded resources, in the --inventory shape.
    expect(dumped.code, dumped.stderr).toBe(0);
    const document = JSON.parse(readFileSync(inventoryFile, 'utf8')) as Record<string, unknown[]>;
    for (const key of ['NetworkInterfaces', 'Subnets', 'Vpcs', 'RouteTables', 'Reservations'])
      expect(Array.isArray(document[key]), key).toBe(true);
    const ids = (key: string, id: string) =>
      (document[key] ?? []).map((item) => (item as Record<string, unknown>)[id]);
    expect(ids('NetworkInterfaces', 'NetworkInterfaceId')).toEqual(
      expect.arrayContaining([eniId, instanceEni]),
    );
    expect(ids('Subnets', 'SubnetId')).toEqual(expect.arrayContaining([subnetA, subnetB]));
    expect(ids('Vpcs', 'VpcId')).toContain(vpcId);
    expect(ids('RouteTables', 'VpcId')).toContain(vpcId);
    const instances = (document.Reservations as { Instances?: { InstanceId?: string }[] }[]).flatMap(
      (r) => r.Instances ?? [],
    );
    expect(instances.map((i) => i.InstanceId)).toContain(instanceId);
    const dumpedEni = (
      document.NetworkInterfaces as { NetworkInterfaceId?: string; TagSet?: unknown }[]
    ).find((e) => e.NetworkInterfaceId === eniId);
    expect(dumpedEni?.TagSet).toStrictEqual([{ Key: 'Application', Value: 'shop' }]);
    expect(dumped.stderr).toMatch(new RegExp(`^wrote ${inventoryFile}: \\d+ interfaces, \\d+ subnets`));

    // Prepare: an event about the extra interface.
    const eventFile = join(scratch, 'enrich-event.json');
    writeFileSync(
      eventFile,
      JSON.stringify(firehoseEvent([0, 1].map((i) => firehoseRecord(flowLine(50_000 + i, eniId, eniIp))))),
    );

    // Act: enrich from the file (EC2 enrichment on, no endpoint: the file answers, nothing is called).
    await moto?.startRecording();
    const invoked = await runCli(['invoke', '--event', eventFile, '--inventory', inventoryFile], {
      ENRICHMENT: 'ec2',
      ...AWS_ENV,
    });
    const calls = (await moto?.stopRecording()) ?? [];

    // Assess
    expect(invoked.code, invoked.stderr).toBe(0);
    const response = JSON.parse(invoked.stdout) as CliResponse;
    expect(response.records.map((r) => r.result)).toStrictEqual(['Ok', 'Ok']);
    const out = response.records.flatMap((r) => decodeLines(r.data ?? ''));
    expect(out.map((l) => l.srcport)).toStrictEqual([50_000, 50_001]);
    for (const line of out) {
      expect(line).toMatchObject({
        interface_id: eniId,
        enrichment_status: 'ok',
        subnet_id: subnetB,
        vpc_id: vpcId,
        subnet_name: 'app-b',
        eni_tags: { Application: 'shop' },
        security_group_ids: [groupId],
      });
    }
    expect(calls).toStrictEqual([]);
  });

  it('run reads plain, gzip and Parquet flow-log objects from s3:// and writes every line under flowlogs/', async () => {
    // Prepare: one S3-delivery text object with its header line, one gzip object without, one Parquet object.
    const bucket = 'flowlog-source';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const header =
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n';
    const plain = Array.from({ length: 7 }, (_, i) => flowLine(60_000 + i));
    const zipped = Array.from({ length: 5 }, (_, i) => flowLine(61_000 + i));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/a.log',
        Body: header + plain.join(''),
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/b.log.gz',
        Body: gzipSync(zipped.join('')),
      }),
    );
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const parquet = join(scratch, 'flowlogs.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT 2 AS version, '${MOTO_ACCOUNT}' AS account_id, 'eni-1235b8ca123456789' AS interface_id,
         '198.51.100.23' AS srcaddr, '172.31.16.21' AS dstaddr, 63000 + i AS srcport, 443 AS dstport, 6 AS protocol,
         20 AS packets, 4249 AS bytes, 1418530010 AS start, 1418530070 AS "end", 'ACCEPT' AS action, 'OK' AS log_status
       FROM range(3) t(i)) TO '${parquet}' (FORMAT parquet)`,
    );
    connection.closeSync();
    instance.closeSync();
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/c.parquet',
        Body: readFileSync(parquet),
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere/c.log', Body: flowLine(62_000) }));
    const out = join(scratch, 'run-out');
    mkdirSync(out, { recursive: true });

    // Act
    const { code, stdout, stderr } = await runCli(
      ['run', '--input', `s3://${bucket}/AWSLogs/`, ...awsFlags(), '--out', out, '--quiet'],
      AWS_ENV,
    );

    // Assess
    expect(code, stderr).toBe(0);
    const files = readdirSync(join(out, 'flowlogs'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.gz'))
      .map((entry) => join(entry.parentPath, entry.name));
    expect(files.length).toBeGreaterThan(0);
    const written = files.flatMap((file) =>
      gunzipSync(readFileSync(file))
        .toString('utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
    expect(written.map((l) => l.srcport as number).sort((a, b) => a - b)).toStrictEqual([
      ...[...plain, ...zipped].map(portOf),
      63_000,
      63_001,
      63_002,
    ]);
    expect(stdout).toContain('15 lines in');
    expect(stdout).toMatch(/15 Ok, 0 Dropped, 0 ProcessingFailed/);
  });
});
