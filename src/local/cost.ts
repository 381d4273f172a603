/**
 * What a volume of flow logs would cost per month on AWS with this stack, from measured figures (input
 * volume, output/input expansion, compression, time per record). Prices are one dated table, with their
 * sources in the README; change them there and here together.
 */
export const PRICES = {
  asOf: '2026-11-23',
  region: 'us-east-1',
  /** Firehose ingestion per GB for a vended-log source (flow logs → Firehose): billed per GB, no 5 KB rounding. */
  firehoseVendedLogsPerGb: 0.029,
  /** Dynamic partitioning: per GB processed and per 1,000 S3 objects delivered. */
  dynamicPartitioningPerGb: 0.02,
  dynamicPartitioningPer1000Objects: 0.005,
  /** Record format conversion (Parquet), per GB. */
  formatConversionPerGb: 0.018,
  /** Lambda on Arm (Graviton), per GB-second and per million requests. */
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  /** S3 storage per GB-month. */
  s3StandardPerGbMonth: 0.023,
  s3StandardIaPerGbMonth: 0.0125,
  s3GlacierIrPerGbMonth: 0.004,
  s3DeepArchivePerGbMonth: 0.00099,
  s3PutPer1000: 0.005,
  /** Athena, per TB scanned (10 MB minimum per query). */
  athenaPerTb: 5,
  /** CloudWatch vended-log delivery of flow logs to Firehose, per GB (first 10 TB). */
  vendedLogDeliveryPerGb: 0.25,
} as const;

export interface CostInputs {
  /** Raw flow-log bytes per day. */
  readonly inputBytesPerDay: number;
  /** Flow-log lines per day. */
  readonly linesPerDay: number;
  /** Decoded output bytes / input bytes, as measured. */
  readonly expansion: number;
  /** Compressed / uncompressed size of the output as stored (GZIP JSON or Parquet). */
  readonly storedRatio: number;
  /** What the stored objects are: Athena scans them as stored. */
  readonly format: 'json' | 'parquet';
  /** Measured on a sample of the output: GZIP JSON Lines and Parquet bytes per uncompressed byte. */
  readonly jsonGzipRatio: number;
  readonly parquetRatio: number;
  /** Measured transform time per line, ms (this machine; Lambda Arm cores are comparable). */
  readonly msPerLine: number;
  readonly memoryMb: number;
  readonly processorBufferMb: number;
  /** Processor buffer interval (Firehose invokes at least this often while data arrives). */
  readonly processorIntervalSeconds: number;
  /**
   * S3 partitions receiving data at the same time (distinct partitions per hour of data with an hourly
   * layout): each has its own delivery buffer.
   */
  readonly activePartitions: number;
  /** The delivery (S3) buffer: an object is written when a partition's buffer holds this much… */
  readonly deliveryBufferMb: number;
  /** …or when this long has passed, whichever comes first. */
  readonly deliveryIntervalSeconds: number;
  /** Lifecycle days: Standard-IA, Glacier IR, Deep Archive, expiry. */
  readonly lifecycle: readonly [number, number, number, number];
}

export interface CostLine {
  readonly item: string;
  readonly monthlyUsd: number;
  readonly basis: string;
  /** Part of the monthly total (the per-query and steady-state lines are not). */
  readonly recurring: boolean;
}

const GB = 1024 ** 3;
const MB = 1024 ** 2;
const DAYS = 30;
const MONTH_SECONDS = DAYS * 24 * 3600;

/**
 * Objects (or invocations) a month from a buffer that flushes at `bufferBytes` or every `intervalSeconds`,
 * whichever comes first, with `partitions` buffers filling at the same time and sharing `bytesPerMonth` evenly:
 * per partition the larger of the count by time (one flush per interval while data arrives) and by size.
 *
 * @example objectsPerMonth({ bytesPerMonth: 0, partitions: 1, bufferBytes: 128 * 2 ** 20, intervalSeconds: 300 })
 *   // 8640: a trickle still flushes every five minutes
 */
export function objectsPerMonth(buffer: {
  readonly bytesPerMonth: number;
  readonly partitions: number;
  readonly bufferBytes: number;
  readonly intervalSeconds: number;
}): number {
  const partitions = Math.max(1, buffer.partitions);
  const byTime = MONTH_SECONDS / buffer.intervalSeconds;
  const bySize = Math.ceil(buffer.bytesPerMonth / partitions / buffer.bufferBytes);
  return partitions * Math.max(byTime, bySize);
}

/**
 * A steady transform time per line from the invocations of a run: the median of their times per record,
 * leaving out the first (compilation, caches filling) and batches under half the largest (a last, small
 * batch is mostly fixed cost). One noisy invocation no longer moves the estimate tenfold.
 */
export function steadyMsPerLine(times: readonly { readonly ms: number; readonly records: number }[]): number {
  const usable = times.filter((time) => time.records > 0);
  if (usable.length === 0) return 0;
  const warm = usable.length > 1 ? usable.slice(1) : usable;
  const largest = Math.max(...warm.map((time) => time.records));
  const full = warm.filter((time) => time.records * 2 >= largest);
  const perLine = full.map((time) => time.ms / time.records).sort((a, b) => a - b);
  const middle = perLine.length >> 1;
  return perLine.length % 2 === 1
    ? (perLine[middle] as number)
    : ((perLine[middle - 1] as number) + (perLine[middle] as number)) / 2;
}

/** The CLI's one number format (`25,244`, `15,000.00`): separators, a fixed number of decimals. */
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function estimateMonthlyCost(inputs: CostInputs): CostLine[] {
  const inGbMonth = (inputs.inputBytesPerDay * DAYS) / GB;
  const outGbDay = (inputs.inputBytesPerDay * inputs.expansion) / GB;
  const storedGbDay = outGbDay * inputs.storedRatio;
  // Firehose invokes the function when the processor buffer is full or its interval has passed.
  const invocationsMonth = objectsPerMonth({
    bytesPerMonth: inputs.inputBytesPerDay * DAYS,
    partitions: 1,
    bufferBytes: inputs.processorBufferMb * MB,
    intervalSeconds: inputs.processorIntervalSeconds,
  });
  const gbSeconds = ((inputs.linesPerDay * DAYS * inputs.msPerLine) / 1000) * (inputs.memoryMb / 1024);
  // The delivery buffer fills with the function's output, before compression.
  const objectsMonth = objectsPerMonth({
    bytesPerMonth: inputs.inputBytesPerDay * inputs.expansion * DAYS,
    partitions: inputs.activePartitions,
    bufferBytes: inputs.deliveryBufferMb * MB,
    intervalSeconds: inputs.deliveryIntervalSeconds,
  });
  const [ia, gir, deep, expiry] = inputs.lifecycle;
  // Steady state after `expiry` days: each day's data sits in each class for its share of the lifecycle.
  const steadyStorage =
    storedGbDay *
    (ia * PRICES.s3StandardPerGbMonth +
      (gir - ia) * PRICES.s3StandardIaPerGbMonth +
      (deep - gir) * PRICES.s3GlacierIrPerGbMonth +
      (expiry - deep) * PRICES.s3DeepArchivePerGbMonth);
  const firstMonthStorage = storedGbDay * DAYS * PRICES.s3StandardPerGbMonth * 0.5;
  const conversion = inputs.format === 'parquet' ? outGbDay * DAYS * PRICES.formatConversionPerGb : 0;
  return [
    {
      item: 'Firehose ingestion (vended logs)',
      monthlyUsd: inGbMonth * PRICES.firehoseVendedLogsPerGb,
      basis: `${fixed(inGbMonth, 2)} GB/month × $${PRICES.firehoseVendedLogsPerGb}/GB`,
      recurring: true,
    },
    {
      item: 'Flow-log delivery to Firehose (vended logs)',
      monthlyUsd: inGbMonth * PRICES.vendedLogDeliveryPerGb,
      basis: `${fixed(inGbMonth, 2)} GB/month × $${PRICES.vendedLogDeliveryPerGb}/GB (CloudWatch)`,
      recurring: true,
    },
    {
      item: 'Firehose dynamic partitioning',
      monthlyUsd:
        inGbMonth * PRICES.dynamicPartitioningPerGb +
        (objectsMonth / 1000) * PRICES.dynamicPartitioningPer1000Objects,
      basis: `${fixed(inGbMonth, 2)} GB × $${PRICES.dynamicPartitioningPerGb}/GB + ${count(objectsMonth)} objects × $${PRICES.dynamicPartitioningPer1000Objects}/1,000`,
      recurring: true,
    },
    {
      item: 'S3 PUT requests',
      monthlyUsd: (objectsMonth / 1000) * PRICES.s3PutPer1000,
      basis: `${count(objectsMonth)} objects: ${count(inputs.activePartitions)} partition${inputs.activePartitions === 1 ? '' : 's'} × the more of one per ${inputs.deliveryIntervalSeconds} s and one per ${inputs.deliveryBufferMb} MB`,
      recurring: true,
    },
    ...(inputs.format === 'parquet'
      ? [
          {
            item: 'Firehose format conversion (Parquet)',
            monthlyUsd: conversion,
            basis: `${fixed(outGbDay * DAYS, 2)} GB × $${PRICES.formatConversionPerGb}/GB`,
            recurring: true,
          },
        ]
      : []),
    {
      item: `Lambda (${inputs.memoryMb} MB, Arm)`,
      monthlyUsd:
        gbSeconds * PRICES.lambdaArmPerGbSecond + (invocationsMonth / 1e6) * PRICES.lambdaPerMillionRequests,
      basis: `${count(gbSeconds)} GB-s at ${(inputs.msPerLine * 1000).toFixed(1)} µs/line (median batch), ${count(invocationsMonth)} invocations`,
      recurring: true,
    },
    {
      item: 'S3 storage, first month',
      monthlyUsd: firstMonthStorage,
      basis: `${fixed(storedGbDay * DAYS, 2)} GB/month stored (${inputs.expansion.toFixed(1)}× expansion, ${(inputs.storedRatio * 100).toFixed(0)}% ${inputs.format === 'parquet' ? 'as Parquet' : 'after GZIP'})`,
      recurring: true,
    },
    {
      item: 'S3 storage, steady state (full lifecycle)',
      monthlyUsd: steadyStorage,
      basis: `Standard ${ia} d → IA → Glacier IR ${gir} d → Deep Archive ${deep} d → expiry ${expiry} d`,
      recurring: false,
    },
    {
      item: 'Athena, per query scanning a day (JSON.gz)',
      monthlyUsd: Math.max((outGbDay * inputs.jsonGzipRatio) / 1024, 10 / 1024 / 1024) * PRICES.athenaPerTb,
      basis: `${fixed(outGbDay * inputs.jsonGzipRatio * 1024, 1)} MB scanned (every column, GZIP JSON Lines)`,
      recurring: false,
    },
    {
      item: 'Athena, per query scanning a day (Parquet)',
      monthlyUsd: Math.max((outGbDay * inputs.parquetRatio) / 1024, 10 / 1024 / 1024) * PRICES.athenaPerTb,
      basis: `${fixed(outGbDay * inputs.parquetRatio * 1024, 1)} MB if every column is read; a query reading a few columns scans a fraction`,
      recurring: false,
    },
  ];
}
