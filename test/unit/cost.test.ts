import { describe, expect, it } from 'vitest';
import {
  type CostInputs,
  estimateMonthlyCost,
  objectsPerMonth,
  steadyMsPerLine,
} from '../../src/local/cost.js';

const MB = 1024 ** 2;
const GB = 1024 ** 3;

describe('objectsPerMonth: Firehose flushes a buffer when it is full or its interval has passed', () => {
  it.each([
    // A trickle: one object per 5-minute interval, 30 days × 288.
    { name: 'a trickle, one partition', bytesPerMonth: 30 * 3 * MB, partitions: 1, objects: 8640 },
    { name: 'a trickle, four partitions', bytesPerMonth: 30 * 3 * MB, partitions: 4, objects: 4 * 8640 },
    // 500 GB a day through 128 MiB buffers: 4,000 objects a day by size, more than 288 by time.
    { name: '500 GB a day, one partition', bytesPerMonth: 30 * 500 * GB, partitions: 1, objects: 120_000 },
    // Shared by 10 partitions: 50 GB a day each, 400 a day each by size.
    { name: '500 GB a day, ten partitions', bytesPerMonth: 30 * 500 * GB, partitions: 10, objects: 120_000 },
    // 1,000 partitions sharing it: 0.5 GB a day each, 4 by size, 288 by time.
    {
      name: '500 GB a day, 1,000 partitions',
      bytesPerMonth: 30 * 500 * GB,
      partitions: 1000,
      objects: 8_640_000,
    },
  ])('$name: $objects', ({ bytesPerMonth, partitions, objects }) => {
    expect(objectsPerMonth({ bytesPerMonth, partitions, bufferBytes: 128 * MB, intervalSeconds: 300 })).toBe(
      objects,
    );
  });

  it('grows with volume once buffers fill before their interval', () => {
    const at = (gbPerDay: number) =>
      objectsPerMonth({
        bytesPerMonth: 30 * gbPerDay * GB,
        partitions: 1,
        bufferBytes: 128 * MB,
        intervalSeconds: 300,
      });
    expect(at(1)).toBe(8640);
    expect(at(100)).toBeGreaterThan(at(10));
    expect(at(1000)).toBe(10 * at(100));
  });
});

describe('steadyMsPerLine: a steady time per line from a run’s invocations', () => {
  it.each([
    { name: 'no invocations', times: [], ms: 0 },
    { name: 'one invocation', times: [{ ms: 80, records: 1000 }], ms: 0.08 },
    {
      name: 'a slow first invocation is left out',
      times: [
        { ms: 800, records: 1000 },
        { ms: 10, records: 1000 },
        { ms: 8, records: 1000 },
        { ms: 9, records: 1000 },
      ],
      ms: 0.009,
    },
    {
      name: 'one noisy batch does not move the median',
      times: [
        { ms: 50, records: 1000 },
        { ms: 8, records: 1000 },
        { ms: 9, records: 1000 },
        { ms: 95, records: 1000 },
        { ms: 10, records: 1000 },
      ],
      ms: 0.0095,
    },
    {
      name: 'a small last batch (mostly fixed cost) is left out',
      times: [
        { ms: 50, records: 1000 },
        { ms: 8, records: 1000 },
        { ms: 8, records: 1000 },
        { ms: 5, records: 10 },
      ],
      ms: 0.008,
    },
  ])('$name', ({ times, ms }) => {
    expect(steadyMsPerLine(times)).toBeCloseTo(ms, 9);
  });
});

describe('estimateMonthlyCost', () => {
  const base: CostInputs = {
    inputBytesPerDay: 2.64 * MB,
    linesPerDay: 25_244,
    expansion: 6.7,
    storedRatio: 0.05,
    format: 'json',
    jsonGzipRatio: 0.05,
    parquetRatio: 0.04,
    msPerLine: 0.01,
    memoryMb: 1024,
    processorBufferMb: 0.5,
    processorIntervalSeconds: 60,
    activePartitions: 1,
    deliveryBufferMb: 128,
    deliveryIntervalSeconds: 300,
    lifecycle: [30, 90, 365, 2555],
  };
  const line = (inputs: CostInputs, item: string) => estimateMonthlyCost(inputs).find((c) => c.item === item);

  it('S3 objects scale with volume: --per-day 500 is not 8,640 objects a month', () => {
    // Act
    const small = line(base, 'S3 PUT requests');
    const large = line(
      { ...base, inputBytesPerDay: 500 * GB, linesPerDay: 25_244 * ((500 * GB) / (2.64 * MB)) },
      'S3 PUT requests',
    );

    // Assess: 500 GB × 6.7 a day through 128 MiB buffers is 26,800 objects a day.
    expect(small?.basis).toMatch(
      /^8,640 objects: 1 partition × the more of one per 300 s and one per 128 MB$/,
    );
    expect(large?.basis).toMatch(/^804,000 objects/);
    expect(large?.monthlyUsd).toBeCloseTo(804 * 0.005, 6);
    expect(line({ ...base, inputBytesPerDay: 500 * GB }, 'Firehose dynamic partitioning')?.basis).toContain(
      '804,000 objects',
    );
  });

  it('invocations: the more of one per processor interval and one per processor buffer', () => {
    expect(line(base, 'Lambda (1024 MB, Arm)')?.basis).toContain('43,200 invocations');
    expect(line({ ...base, inputBytesPerDay: 500 * GB }, 'Lambda (1024 MB, Arm)')?.basis).toContain(
      '30,720,000 invocations',
    );
  });
});
