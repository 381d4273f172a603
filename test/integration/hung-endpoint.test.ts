import { mkdtempSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEc2Inventory } from '../../src/aws/ec2-inventory.js';
import { AWS_REQUEST_HANDLER, AwsCallError, callAws } from '../../src/aws/timeouts.js';
import { loadConfig } from '../../src/config.js';
import { createPipeline } from '../../src/pipeline.js';
import { runCli } from '../helpers/cli.js';
import { decodeLines, firehoseEvent, firehoseRecord } from '../helpers/events.js';
import { guard } from '../helpers/guard.js';
import { type HungServer, startHungServer } from '../helpers/hung-server.js';

const OWN_ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '210987654321';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const ENI = 'eni-0123456789abcdef0';
const LINE = `2 ${OWN_ACCOUNT} ${ENI} 198.51.100.23 10.0.1.7 40000 443 6 10 4000 1700000000 1700000060 ACCEPT OK`;

/** An STS client that knows who it is without a network: only EC2 hangs in these tests. */
const knownIdentity = { send: async () => ({ Account: OWN_ACCOUNT }) } as unknown as STSClient;

const servers: HungServer[] = [];
async function hungEndpoint(): Promise<HungServer> {
  const server = await startHungServer();
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const clientConfig = (endpoint: string) => ({ region: 'us-east-1', endpoint, credentials: CREDENTIALS });

describe('an AWS endpoint that accepts connections and never answers', () => {
  it('ends an SDK call built with AWS_REQUEST_HANDLER: its requestTimeout throws, not only warns', async () => {
    // Prepare: the project's request handler, with a shorter timeout so the test is quick.
    const ec2Endpoint = await hungEndpoint();
    const ec2 = new EC2Client({
      ...clientConfig(ec2Endpoint.url),
      maxAttempts: 1,
      requestHandler: { ...AWS_REQUEST_HANDLER, requestTimeout: 200 },
    });
    const started = performance.now();

    // Act
    const call = guard(3_000, ec2.send(new DescribeVpcsCommand({})));

    // Assess
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(ec2Endpoint.count('DescribeVpcs')).toBe(1);
  });

  it('releases a caller at the call deadline even while the SDK waits on a credential provider', async () => {
    // Prepare: credentials that never come (an AssumeRole stuck in a provider the abort cannot reach).
    const ec2Endpoint = await hungEndpoint();
    const ec2 = new EC2Client({
      region: 'us-east-1',
      endpoint: ec2Endpoint.url,
      credentials: () => new Promise(() => {}),
    });
    const command = new DescribeVpcsCommand({});

    // Act
    const call = guard(
      3_000,
      callAws('EC2 DescribeVpcs', command, (abortSignal) => ec2.send(command, { abortSignal }), {
        timeoutMs: 200,
      }),
    );

    // Assess
    await expect(call).rejects.toThrow(AwsCallError);
    await expect(call).rejects.toMatchObject({
      name: 'TimeoutError',
      message: 'EC2 DescribeVpcs failed: TimeoutError (no answer within 200 ms)',
    });
    expect(ec2Endpoint.count('DescribeVpcs')).toBe(0);
  });

  it('names a call its deadline cut short after what its attempts met (throttling), not a timeout', async () => {
    // Prepare: EC2 answers every request RequestLimitExceeded; the SDK keeps retrying with backoff.
    let requests = 0;
    const throttling = createHttpServer((_request, response) => {
      requests++;
      response.writeHead(503, { 'content-type': 'text/xml' });
      response.end(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code>' +
          '<Message>Request limit exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>',
      );
    });
    await new Promise<void>((resolve) => throttling.listen(0, '127.0.0.1', resolve));
    const { port } = throttling.address() as { port: number };
    const ec2 = new EC2Client({
      ...clientConfig(`http://127.0.0.1:${port}`),
      retryMode: 'adaptive',
      maxAttempts: 10,
      requestHandler: AWS_REQUEST_HANDLER,
    });
    const command = new DescribeVpcsCommand({});
    const attempts: string[] = [];
    const started = performance.now();

    try {
      // Act
      const call = callAws('EC2 DescribeVpcs', command, (abortSignal) => ec2.send(command, { abortSignal }), {
        timeoutMs: 1_500,
        onAttemptError: (error) => attempts.push((error as Error).name),
      });

      // Assess
      await expect(call).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
      // Cut short by the deadline while the SDK was still backing off, not ended by its own retries.
      expect(performance.now() - started).toBeGreaterThanOrEqual(1_400);
      expect(requests).toBeGreaterThanOrEqual(1);
      expect(new Set(attempts)).toStrictEqual(new Set(['RequestLimitExceeded']));
    } finally {
      ec2.destroy();
      throttling.closeAllConnections();
      await new Promise<void>((resolve) => throttling.close(() => resolve()));
    }
  });

  describe('the EC2 inventory', () => {
    it('fails a DescribeNetworkInterfaces that hangs at its deadline, and tries EC2 again next time', async () => {
      // Prepare
      const ec2Endpoint = await hungEndpoint();
      const inventory = createEc2Inventory({
        clientConfig: clientConfig(ec2Endpoint.url),
        sts: knownIdentity,
        callTimeoutMs: 300,
      });

      // Act
      const first = guard(3_000, inventory.networkInterfaces(OWN_ACCOUNT, [ENI]));
      await expect(first).rejects.toMatchObject({ name: 'TimeoutError' });
      const second = guard(3_000, inventory.networkInterfaces(OWN_ACCOUNT, [ENI]));
      await expect(second).rejects.toMatchObject({ name: 'TimeoutError' });

      // Assess
      expect(ec2Endpoint.count('DescribeNetworkInterfaces')).toBe(2);
    });

    it("stops a lookup's request when its caller gives it up (the lookup's signal)", async () => {
      // Prepare: a call deadline far away; the caller gives up after 100 ms.
      const ec2Endpoint = await hungEndpoint();
      const inventory = createEc2Inventory({
        clientConfig: clientConfig(ec2Endpoint.url),
        sts: knownIdentity,
        callTimeoutMs: 10_000,
      });
      const started = performance.now();

      // Act
      const lookup = inventory.networkInterfaces(OWN_ACCOUNT, [ENI], { signal: AbortSignal.timeout(100) });

      // Assess: released at once, and the request itself closed, not left to its 3 s requestTimeout.
      await expect(guard(3_000, lookup)).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(performance.now() - started).toBeLessThan(1_000);
      await vi.waitFor(() => expect(ec2Endpoint.openConnections()).toBe(0), { timeout: 1_000 });
      expect(ec2Endpoint.count('DescribeNetworkInterfaces')).toBe(1);
    });

    it('gives up a hung GetCallerIdentity at its deadline and asks again on the next lookup', async () => {
      // Prepare: STS (and EC2) hang.
      const endpoint = await hungEndpoint();
      const inventory = createEc2Inventory({ clientConfig: clientConfig(endpoint.url), callTimeoutMs: 300 });

      // Act
      const first = guard(3_000, inventory.networkInterfaces(OWN_ACCOUNT, [ENI]));
      await expect(first).rejects.toMatchObject({ name: 'TimeoutError' });
      const second = guard(3_000, inventory.networkInterfaces(OWN_ACCOUNT, [ENI]));
      await expect(second).rejects.toMatchObject({ name: 'TimeoutError' });
      const own = await guard(3_000, inventory.ownAccount());

      // Assess: each lookup asked STS again rather than joining the first, hung request.
      expect(own).toBeUndefined();
      expect(endpoint.count('GetCallerIdentity')).toBe(3);
      expect(endpoint.count('DescribeNetworkInterfaces')).toBe(0);
    });

    it('gives up a hung AssumeRole at its deadline and assumes the role again on the next lookup', async () => {
      // Prepare: the cross-account role's STS hangs.
      const endpoint = await hungEndpoint();
      const inventory = createEc2Inventory({
        clientConfig: clientConfig(endpoint.url),
        roles: { [OTHER_ACCOUNT]: `arn:aws:iam::${OTHER_ACCOUNT}:role/flowlog-enrich-read` },
        callTimeoutMs: 300,
      });

      // Act
      const first = guard(3_000, inventory.networkInterfaces(OTHER_ACCOUNT, [ENI]));
      await expect(first).rejects.toMatchObject({ name: 'TimeoutError' });
      // The next invocation comes a little later (a lookup started within the first's last milliseconds
      // shares its refresh, which fails at once).
      await sleep(50);
      const second = guard(3_000, inventory.networkInterfaces(OTHER_ACCOUNT, [ENI]));
      await expect(second).rejects.toMatchObject({ name: 'TimeoutError' });

      // Assess
      expect(endpoint.count('AssumeRole')).toBeGreaterThanOrEqual(2);
      expect(endpoint.count('DescribeNetworkInterfaces')).toBe(0);
    });
  });

  it('five invocations with a hung EC2 each end within the enrichment budget and each try EC2 again', async () => {
    // Prepare: the real pipeline, an EC2 that hangs, a budget of 400 ms.
    const ec2Endpoint = await hungEndpoint();
    const lines: string[] = [];
    const config = loadConfig({ ENRICHMENT_BUDGET_MS: '400' });
    const pipeline = await createPipeline({
      config,
      inventory: createEc2Inventory({ clientConfig: clientConfig(ec2Endpoint.url), sts: knownIdentity }),
      writeLine: (line) => lines.push(line),
    });
    const durations: number[] = [];

    // Act
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const response = await guard(5_000, pipeline.transform(firehoseEvent([firehoseRecord(`${LINE}\n`)])));
      durations.push(performance.now() - started);
      expect(response.records.map((r) => r.result)).toStrictEqual(['Ok']);
      expect(decodeLines(response.records[0]?.data as string)[0]).toMatchObject({
        interface_id: ENI,
        enrichment_status: 'unavailable',
      });
    }

    // Assess
    for (const ms of durations) expect(ms).toBeLessThan(config.enrichment.budgetMs + 300);
    // None joined a request that would never answer: each invocation started its own lookup, and stopped
    // its request when it gave the lookup up (no retries left running in the background).
    expect(ec2Endpoint.count('DescribeNetworkInterfaces')).toBe(5);
    // The summaries only (a cold-start line may warn that the ip-ranges snapshot is old).
    const summaries = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.message === 'flowlog-enrich invocation summary');
    expect(summaries).toHaveLength(5);
    for (const summary of summaries) {
      expect(summary).toMatchObject({ Ec2Calls: 1, Ec2Errors: 1, Enrichment_unavailable: 1 });
      expect(summary.context).toStrictEqual({
        awsErrors: { TimeoutError: 1 },
        ipRanges: '2026-08-22-15-17-05',
        phaseMs: expect.any(Object),
      });
      // The hung lookup is the enrichment phase's time.
      const { enrich } = (summary.context as { phaseMs: { enrich: number } }).phaseMs;
      expect(enrich).toBeGreaterThanOrEqual(config.enrichment.budgetMs - 50);
    }
  });

  describe('the CLI', () => {
    const env = (endpoint: string) => ({
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_MAX_ATTEMPTS: '1',
      ENRICHMENT: 'off',
      // The test's address, not the machine's: no AWS_ENDPOINT_URL* of the environment may win.
      AWS_ENDPOINT_URL: endpoint,
    });

    it('inventory ends with a one-line error naming the call that timed out', async () => {
      // Prepare
      const endpoint = await hungEndpoint();
      const out = join(mkdtempSync(join(tmpdir(), 'flowlog-enrich-')), 'inventory.json');

      // Act
      const { code, stdout, stderr } = await guard(
        10_000,
        runCli(
          ['inventory', '--out', out, '--region', 'us-east-1', '--endpoint-url', endpoint.url],
          env(endpoint.url),
        ),
      );

      // Assess
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(
        /^flowlog-enrich: EC2 Describe\w+ failed: TimeoutError \(a request has exceeded the configured 3000 ms requestTimeout\.\)\n$/,
      );
    });

    it('run --input s3://… ends with a one-line error naming the call that timed out', async () => {
      // Prepare
      const endpoint = await hungEndpoint();
      const out = mkdtempSync(join(tmpdir(), 'flowlog-enrich-'));

      // Act
      const { code, stderr } = await guard(
        10_000,
        runCli(
          [
            'run',
            '--input',
            's3://flow-logs/AWSLogs/',
            '--out',
            out,
            '--quiet',
            '--region',
            'us-east-1',
            '--endpoint-url',
            endpoint.url,
          ],
          env(endpoint.url),
        ),
      );

      // Assess
      expect(code).toBe(1);
      expect(stderr).toMatch(
        /^flowlog-enrich: S3 ListObjectsV2 failed: TimeoutError \(a request has exceeded the configured 3000 ms requestTimeout\.\)\n$/,
      );
      expect(endpoint.count(/GET \/flow-logs\/\?list-type=2&prefix=AWSLogs%2F /)).toBe(1);
    });
  });
});
