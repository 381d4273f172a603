import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { lastModifiedMs, loadBackfillConfig } from '../../src/backfill/config.js';
import { sourceStem } from '../../src/backfill/worker.js';
import { ConfigError } from '../../src/errors.js';
import { backfillWorker, memoryStore } from '../helpers/memory-store.js';

/** 2026-11-23T00:00:00Z */
const DAY = 1_795_392_000;
const line = (n: number, offset: number) =>
  `2 123456789012 eni-1235b8ca123456789 10.0.0.${n % 250} 52.94.0.${n % 97} ${1024 + n} 443 6 10 840 ${DAY + offset} ${DAY + offset + 60} ACCEPT OK`;

const worker = backfillWorker;

const linesOf = (written: Map<string, Buffer>) =>
  [...written.values()].flatMap((body) => gunzipSync(body).toString().trimEnd().split('\n'));

describe('backfill worker', () => {
  // Three hours of flows in one object: three partitions open at once.
  const lines = Array.from({ length: 6000 }, (_, n) => line(n, (n % 3) * 3600 + Math.floor(n / 10)));
  const source = { bucket: 'src', key: 'AWSLogs/a.log.gz', lastModifiedMs: Date.UTC(2026, 10, 23, 4) };
  const objects = { 'src/AWSLogs/a.log.gz': gzipSync(`${lines.join('\n')}\n`) };

  it('starts a new object per partition past objectBytes, and writes every flow once', async () => {
    // Prepare
    const { store, written } = memoryStore(objects);
    // Act
    const result = await worker(store, { objectBytes: 256 * 1024 }).backfill(source, {
      bucket: 'lake',
      prefix: 'x/',
    });
    // Assess
    expect(result).toMatchObject({ lines: 6000, ok: 6000, failed: 0, flows: 6000, damaged: [] });
    expect(linesOf(written)).toHaveLength(6000);
    const stem = sourceStem('src', 'AWSLogs/a.log.gz');
    const hour0 = [...written.keys()].filter((key) => key.includes('/hour=00/'));
    expect(hour0.length).toBeGreaterThan(1);
    expect(hour0.sort()).toStrictEqual(
      hour0
        .map(
          (_, i) =>
            `lake/x/flowlogs/aws_account_id=123456789012/aws_region=us-east-1/dt=2026-11-23/hour=00/${stem}-${i}.gz`,
        )
        .sort(),
    );
    for (const body of written.values())
      expect(gunzipSync(body).length).toBeLessThan(256 * 1024 + 64 * 1024 * 8);
  });

  it('writes the largest partition early when the held bytes pass memoryBytes, and the same keys every time', async () => {
    // Prepare
    const first = memoryStore(objects);
    const second = memoryStore(objects);
    // Act
    await worker(first.store, { memoryBytes: 16 * 1024 }).backfill(source, { bucket: 'lake', prefix: '' });
    await worker(second.store, { memoryBytes: 16 * 1024 }).backfill(source, { bucket: 'lake', prefix: '' });
    // Assess
    expect([...first.written.keys()].length).toBeGreaterThan(3);
    expect([...second.written.keys()]).toStrictEqual([...first.written.keys()]);
    expect(linesOf(first.written).sort()).toStrictEqual(linesOf(second.written).sort());
    expect(linesOf(first.written)).toHaveLength(6000);
  });

  it('writes failed lines as Firehose error records dated by the source object, with their original data', async () => {
    // Prepare
    const { store, written } = memoryStore({ 'src/b.log': Buffer.from(`${line(1, 0)}\nnot a flow\n`) });
    // Act
    const result = await worker(store).backfill(
      { bucket: 'src', key: 'b.log', lastModifiedMs: source.lastModifiedMs },
      { bucket: 'lake', prefix: '' },
    );
    // Assess
    expect(result).toMatchObject({ ok: 1, failed: 1 });
    const key = `lake/errors/processing-failed/dt=2026-11-23/${sourceStem('src', 'b.log')}-0.gz`;
    expect(JSON.parse(gunzipSync(written.get(key) as Buffer).toString())).toStrictEqual({
      attemptsMade: 1,
      arrivalTimestamp: source.lastModifiedMs,
      errorCode: 'Lambda.ProcessingFailed',
      errorMessage: expect.stringContaining('s3://src/b.log:2: '),
      attemptEndingTimestamp: 0,
      rawData: Buffer.from('not a flow\n').toString('base64'),
      lambdaArn: 'arn:aws:lambda:us-east-1:123456789012:function:transform',
    });
  });

  it('reports a truncated object as damaged after writing what came before the damage', async () => {
    // Prepare
    const whole = objects['src/AWSLogs/a.log.gz'];
    const { store, written } = memoryStore({ 'src/t.log.gz': whole.subarray(0, whole.length / 2) });
    // Act
    const result = await worker(store).backfill(
      { bucket: 'src', key: 't.log.gz', lastModifiedMs: 0 },
      { bucket: 'lake', prefix: '' },
    );
    // Assess
    expect(result.damaged).toHaveLength(1);
    expect(result.damaged[0]?.message).toContain('damaged gzip');
    expect(linesOf(written).length).toBe(result.ok);
    expect(result.ok).toBeGreaterThan(0);
  });
});

describe('backfill configuration', () => {
  const env = {
    SOURCE_BUCKET: 'src',
    OUTPUT_BUCKET: 'lake',
    STREAM_ARN: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/s',
    TRANSFORM_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:t',
  };

  it('reads the worker environment once, with the default layout and buffer', () => {
    expect(loadBackfillConfig(env)).toStrictEqual({
      sourceBucket: 'src',
      outputBucket: 'lake',
      layout: 'account-region-day-hour',
      streamArn: env.STREAM_ARN,
      transformFunctionArn: env.TRANSFORM_FUNCTION_ARN,
      bufferBytes: 524_288,
    });
  });

  it.each([
    ['SOURCE_BUCKET', { ...env, SOURCE_BUCKET: '' }],
    ['PARTITION_LAYOUT', { ...env, PARTITION_LAYOUT: 'by-week' }],
    ['PROCESSOR_BUFFER_MB', { ...env, PROCESSOR_BUFFER_MB: '12' }],
  ])('fails the cold start naming %s', (variable, bad) => {
    expect(() => loadBackfillConfig(bad)).toThrow(ConfigError);
    expect(() => loadBackfillConfig(bad)).toThrow(variable);
  });

  it.each([
    ['epoch seconds', 1_795_392_000, 1_795_392_000_000],
    ['ISO text', '2026-11-23T00:00:00Z', 1_795_392_000_000],
  ])("reads the map item's LastModified as %s", (_, value, ms) => {
    expect(lastModifiedMs({ Key: 'k', LastModified: value })).toBe(ms);
  });

  it('fails an item without a LastModified (its arrival time would be guessed)', () => {
    expect(() => lastModifiedMs({ Key: 'k' })).toThrow('item k: LastModified');
  });
});
