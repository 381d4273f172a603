import { appendFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import type { FlowlogError } from '../errors.js';
import type { Reingester } from '../firehose/reingest.js';
import { type PartitionKeys, renderPrefix } from '../output/partition.js';
import type { Pipeline } from '../pipeline.js';
import type { InputRecord } from './inputs.js';
import { release, SpillBuffer, writeGzip } from './spill-buffer.js';

export const LOCAL_STREAM_ARN = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/flowlog-enrich-local';
/** The processor the local run's error records name, as Firehose names its Lambda. */
export const LOCAL_LAMBDA_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:flowlog-enrich-local';

export interface LocalFirehoseOptions {
  readonly outDir: string;
  /** The processor buffer: input bytes per invocation (the template's ProcessorBufferSizeMB). */
  readonly bufferBytes: number;
  readonly region: string;
  /** A pipeline per log format (files may differ), wired to re-ingest through the given reingester. */
  readonly pipelineFor: (
    format: string | undefined,
    reingester: Reingester,
    onRecordError: (index: number, error: FlowlogError) => void,
  ) => Promise<Pipeline>;
  /** Writes a partition's records (a file of JSON Lines) as Parquet instead of GZIP JSON Lines. */
  readonly writeParquet?: (path: string, ndjsonFile: string) => Promise<void>;
  readonly onProgress?: (stats: LocalRunStats) => void;
  /** Uncompressed bytes per written object (Firehose's delivery buffer; default 64 MiB). */
  readonly objectBytes?: number;
  /** Names this run's objects. */
  readonly runId?: string;
  /**
   * Output held in memory across all partitions before the largest are spilled to files under `spillDir`
   * (default 16 MiB): memory stays bounded however many hours the input spans.
   */
  readonly memoryBytes?: number;
  /** Where spilled partitions wait for their object (default `<outDir>/.spill`). */
  readonly spillDir?: string;
  readonly now?: () => number;
}

export interface LocalRunStats {
  linesIn: number;
  records: number;
  ok: number;
  dropped: number;
  failed: number;
  reingested: number;
  invocations: number;
  transformMs: number;
  /**
   * Each invocation's transform time and record count, in order (the first `INVOCATION_TIMES_KEPT`): the cost
   * estimate takes a steady time per line from them (`steadyMsPerLine`), not the total's noisy average.
   */
  invocationTimes: { ms: number; records: number }[];
  inputBytes: number;
  outputBytes: number;
  flowsOut: number;
  bySeverity: Record<string, number>;
  byFlag: Record<string, number>;
  /** Flagged sources by flows, for the summary's top five; at most `FLAGGED_SOURCES_KEPT` are kept. */
  flaggedSources: Map<string, { flows: number; flags: Set<string>; severity: string }>;
  failures: { source: string; line: number; message: string }[];
  objectsWritten: number;
  /** Distinct `dt`/`hour` pairs written. */
  hours: number;
  /** The first output lines, to measure how JSON and Parquet compress them (for the cost estimate). */
  sample: string[];
  /** Bytes of the objects as stored (compressed JSON Lines or Parquet). */
  storedBytes: number;
  partitions: number;
  errorObjects: number;
  /** The most output characters held in memory at once, and how many waited in spill files instead. */
  peakHeldBytes: number;
  spilledBytes: number;
}

/** Invocation times kept for the cost estimate: enough for a steady median, bounded for any input. */
const INVOCATION_TIMES_KEPT = 1000;

interface Pending {
  readonly data: Buffer;
  readonly source: string;
  readonly line: number;
  readonly arrival: number;
}

/**
 * Firehose on one machine: one flow-log line per record, buffered into invocations by size like the
 * processor buffer; the real transform runs on each; `Ok` records are written under the
 * dynamic-partitioning prefix the template uses (GZIP JSON Lines, or Parquet), `ProcessingFailed` ones
 * under the error prefix in Firehose's error-record shape, and re-ingested records are fed back in.
 */
export class LocalFirehose {
  readonly stats: LocalRunStats = {
    linesIn: 0,
    records: 0,
    ok: 0,
    dropped: 0,
    failed: 0,
    reingested: 0,
    invocations: 0,
    transformMs: 0,
    invocationTimes: [],
    inputBytes: 0,
    outputBytes: 0,
    flowsOut: 0,
    bySeverity: {},
    byFlag: {},
    flaggedSources: new Map(),
    failures: [],
    objectsWritten: 0,
    hours: 0,
    sample: [],
    storedBytes: 0,
    partitions: 0,
    errorObjects: 0,
    peakHeldBytes: 0,
    spilledBytes: 0,
  };
  private readonly queues = new Map<
    string,
    { pending: Pending[]; bytes: number; format: string | undefined }
  >();
  /**
   * Bytes waiting per S3 prefix (the lines themselves wait in `held`); written out as an object when they
   * reach `objectBytes`, like Firehose's buffer.
   */
  private readonly partitions = new Map<string, { bytes: number; objects: number }>();
  private readonly hours = new Set<string>();
  /** Error-prefix folders with records waiting (their lines wait in `held`). */
  private readonly errors = new Set<string>();
  /** Every line waiting for its object, data and errors alike, within one memory budget. */
  private readonly held: SpillBuffer;
  private readonly spillDir: string;
  private objectFiles = 0;
  private readonly pipelines = new Map<string, Promise<Pipeline>>();
  private readonly now: () => number;
  private sequence = 0;

  private readonly objectBytes: number;
  private readonly runId: string;

  constructor(private readonly options: LocalFirehoseOptions) {
    this.now = options.now ?? Date.now;
    this.objectBytes = options.objectBytes ?? 64 * 1024 * 1024;
    this.spillDir = options.spillDir ?? join(options.outDir, '.spill');
    this.held = new SpillBuffer(this.spillDir, options.memoryBytes ?? 16 * 1024 * 1024);
    this.runId =
      options.runId ??
      new Date()
        .toISOString()
        .replace(/[-:.TZ]/g, '')
        .slice(0, 14);
  }

  async put(record: InputRecord): Promise<void> {
    this.stats.linesIn++;
    this.stats.inputBytes += record.data.length;
    await this.enqueue(record.format, {
      data: record.data,
      source: record.source,
      line: record.line,
      arrival: this.now(),
    });
  }

  private async enqueue(format: string | undefined, pending: Pending): Promise<void> {
    const key = format ?? '';
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { pending: [], bytes: 0, format };
      this.queues.set(key, queue);
    }
    queue.pending.push(pending);
    queue.bytes += pending.data.length;
    if (queue.bytes >= this.options.bufferBytes) await this.flush(key);
  }

  /** Invokes the transform on what is buffered for one format. */
  private async flush(key: string): Promise<void> {
    const queue = this.queues.get(key);
    if (!queue || queue.pending.length === 0) return;
    const batch = queue.pending;
    queue.pending = [];
    queue.bytes = 0;
    // One pipeline per format, built once; what one invocation re-ingests and fails is collected below.
    let pipelinePromise = this.pipelines.get(key);
    if (!pipelinePromise) {
      pipelinePromise = this.options.pipelineFor(queue.format, this.reingester, (index, error) =>
        this.failures.set(index, error),
      );
      this.pipelines.set(key, pipelinePromise);
    }
    const pipeline = await pipelinePromise;
    const failures = new Map<number, FlowlogError>();
    const reingested: Pending[] = [];
    this.failures = failures;
    this.reingested = reingested;
    const records: FirehoseTransformationEventRecord[] = batch.map((pending) => ({
      recordId: String(++this.sequence).padStart(20, '0'),
      approximateArrivalTimestamp: pending.arrival,
      data: pending.data.toString('base64'),
    }));
    const started = performance.now();
    const response = await pipeline.transform({
      invocationId: `local-${this.stats.invocations}`,
      deliveryStreamArn: LOCAL_STREAM_ARN,
      region: this.options.region,
      records,
    });
    const ms = performance.now() - started;
    this.stats.transformMs += ms;
    if (this.stats.invocationTimes.length < INVOCATION_TIMES_KEPT)
      this.stats.invocationTimes.push({ ms, records: records.length });
    this.stats.invocations++;
    this.stats.records += records.length;
    for (const [index, result] of response.records.entries()) {
      const input = batch[index] as Pending;
      if (result.result === 'Ok') {
        this.stats.ok++;
        await this.acceptOk(
          Buffer.from(result.data, 'base64').toString('utf8'),
          result.metadata.partitionKeys,
        );
      } else if (result.result === 'Dropped') {
        this.stats.dropped++;
      } else {
        this.stats.failed++;
        const error = failures.get(index);
        const message = error ? `${error.reason}: ${error.message}` : 'processing failed';
        if (this.stats.failures.length < 1000)
          this.stats.failures.push({ source: input.source, line: input.line, message });
        this.acceptFailed(input, message);
      }
    }
    this.stats.reingested += reingested.length;
    for (const pending of reingested) await this.enqueue(queue.format, pending);
    this.options.onProgress?.(this.stats);
  }

  /** The running invocation's failures and re-ingested records (invocations run one at a time). */
  private failures = new Map<number, FlowlogError>();
  private reingested: Pending[] = [];
  /** Firehose puts re-ingested records back into its buffer: accepted at once, fed in after the invocation. */
  private readonly reingester: Reingester = {
    reingest: async (_arn, records) => {
      // Kept past this call: copied, as the Reingester contract asks.
      for (const data of records)
        this.reingested.push({ data: Buffer.from(data), source: 'reingested', line: 0, arrival: this.now() });
      return { accepted: records.map(() => true), calls: 1, retries: 0 };
    },
  };

  private async acceptOk(text: string, keys: PartitionKeys): Promise<void> {
    const prefix = renderPrefix(keys);
    this.hours.add(`${keys.dt}T${keys.hour}`);
    let partition = this.partitions.get(prefix);
    if (!partition) {
      partition = { bytes: 0, objects: 0 };
      this.partitions.set(prefix, partition);
    }
    partition.bytes += text.length;
    // The transform hands back '\n'-terminated lines; anything else is written as its non-empty lines.
    const whole = text.length > 0 && text.endsWith('\n') && !text.startsWith('\n') && !text.includes('\n\n');
    if (whole) this.held.add(prefix, text);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (!whole) this.held.add(prefix, `${line}\n`);
      if (this.stats.sample.length < 5000) this.stats.sample.push(line);
      this.stats.flowsOut++;
      this.stats.outputBytes += line.length + 1;
      const record = JSON.parse(line) as { flags?: string[]; severity?: string; srcaddr?: string };
      if (!record.flags || record.flags.length === 0) continue;
      const severity = record.severity ?? 'none';
      this.stats.bySeverity[severity] = (this.stats.bySeverity[severity] ?? 0) + 1;
      for (const flag of record.flags) this.stats.byFlag[flag] = (this.stats.byFlag[flag] ?? 0) + 1;
      const source = record.srcaddr ?? '-';
      if (!this.stats.flaggedSources.has(source) && this.stats.flaggedSources.size >= FLAGGED_SOURCES_KEPT)
        pruneSources(this.stats.flaggedSources);
      const entry = this.stats.flaggedSources.get(source) ?? {
        flows: 0,
        flags: new Set<string>(),
        severity: 'none',
      };
      entry.flows++;
      for (const flag of record.flags) entry.flags.add(flag);
      if (rank(severity) > rank(entry.severity)) entry.severity = severity;
      this.stats.flaggedSources.set(source, entry);
    }
    if (partition.bytes >= this.objectBytes) await this.writePartition(prefix);
  }

  /** Writes a partition's waiting lines as one object (GZIP JSON Lines, or Parquet). */
  private async writePartition(prefix: string): Promise<void> {
    const partition = this.partitions.get(prefix);
    const held = this.held.take(prefix);
    if (!partition || held.bytes === 0) return;
    const base = join(this.options.outDir, prefix, `flowlog-enrich-local-${this.runId}-${partition.objects}`);
    mkdirSync(dirname(`${base}.x`), { recursive: true });
    try {
      if (this.options.writeParquet) {
        // DuckDB reads a file: the spill file with the rest appended, or a file of its own.
        const file = held.file ?? join(this.spillDir, `object-${this.objectFiles++}.json`);
        mkdirSync(dirname(file), { recursive: true });
        appendFileSync(file, held.chunks.join(''));
        try {
          await this.options.writeParquet(`${base}.parquet`, file);
        } finally {
          rmSync(file, { force: true });
        }
        this.stats.storedBytes += statSync(`${base}.parquet`).size;
      } else {
        await writeGzip(`${base}.gz`, held);
        this.stats.storedBytes += statSync(`${base}.gz`).size;
      }
    } finally {
      release(held);
    }
    this.stats.objectsWritten++;
    partition.objects++;
    partition.bytes = 0;
  }

  private acceptFailed(input: Pending, message: string): void {
    const dt = new Date(input.arrival).toISOString().slice(0, 10);
    const prefix = `errors/processing-failed/dt=${dt}/`;
    this.errors.add(prefix);
    // Firehose's own error-record shape, with the original data; our reason in errorMessage.
    this.held.add(
      prefix,
      `${JSON.stringify({
        attemptsMade: 1,
        arrivalTimestamp: input.arrival,
        errorCode: 'Lambda.ProcessingFailed',
        errorMessage: `${input.source}:${input.line}: ${message}`,
        attemptEndingTimestamp: this.now(),
        rawData: input.data.toString('base64'),
        lambdaArn: LOCAL_LAMBDA_ARN,
      })}\n`,
    );
  }

  /** Flushes every buffer (re-ingested records included) and writes the remaining objects. */
  async close(): Promise<void> {
    for (;;) {
      const busy = [...this.queues].filter(([, queue]) => queue.pending.length > 0).map(([key]) => key);
      if (busy.length === 0) break;
      for (const key of busy) await this.flush(key);
    }
    for (const prefix of this.partitions.keys()) await this.writePartition(prefix);
    this.stats.partitions = this.partitions.size;
    this.stats.hours = this.hours.size;
    for (const prefix of this.errors) {
      const path = join(this.options.outDir, prefix, `flowlog-enrich-local-${this.runId}.gz`);
      mkdirSync(dirname(path), { recursive: true });
      const held = this.held.take(prefix);
      try {
        await writeGzip(path, held);
      } finally {
        release(held);
      }
      this.stats.errorObjects++;
    }
    this.stats.peakHeldBytes = this.held.peakInMemory;
    this.stats.spilledBytes = this.held.spilledBytes;
    rmSync(this.spillDir, { recursive: true, force: true });
  }
}

function rank(severity: string): number {
  return ['none', 'info', 'warning', 'critical'].indexOf(severity);
}

/** Flagged sources tracked for the summary: one entry per address would grow with the input (a scan's many sources). */
export const FLAGGED_SOURCES_KEPT = 50_000;

/** Keeps the half of the sources that rank highest (severity, then flows), as the summary ranks them. */
function pruneSources(sources: LocalRunStats['flaggedSources']): void {
  const ranked = [...sources].sort(
    (a, b) => rank(b[1].severity) - rank(a[1].severity) || b[1].flows - a[1].flows,
  );
  for (const [source] of ranked.slice(Math.floor(FLAGGED_SOURCES_KEPT / 2))) sources.delete(source);
}
