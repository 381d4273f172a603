import { gzipSync } from 'node:zlib';
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord } from 'aws-lambda';
import type { Config } from './config.js';
import type { DetectionBatch, Detector } from './detect/types.js';
import { NO_FINDINGS } from './detect/types.js';
import type { Enricher, Enrichment, EnrichmentBatch } from './enrich/types.js';
import {
  CapacityError,
  type FailureReason,
  type FlowlogError,
  ParseError,
  toFlowlogError,
} from './errors.js';
import {
  type CloudWatchLogsEnvelope,
  type DecodedRecord,
  decodeBase64,
  decodeRecord,
} from './firehose/decode.js';
import type { Reingester } from './firehose/reingest.js';
import {
  dropped,
  failed,
  jsonStringLength,
  minimalSize,
  ok,
  okSize,
  RESPONSE_OVERHEAD,
  type ResultRecord,
  resultSize,
  type TransformResponse,
} from './firehose/result.js';
import { isHeaderLine } from './flowlog/format.js';
import { createLineParser, type Flow } from './flowlog/parse.js';
import { ByteWriter } from './output/byte-writer.js';
import { createFlowWriter } from './output/jsonl.js';
import { type PartitionKeys, partitionKeys } from './output/partition.js';
import { bump, type InvocationSummary, METRIC } from './telemetry.js';

export interface TransformDeps {
  readonly config: Config;
  readonly enricher?: Enricher;
  readonly detector?: Detector;
  /** Without one, records that do not fit the response fail (`too_large`) rather than being re-ingested. */
  readonly reingester?: Reingester;
  /** Receives one summary per invocation (the handler writes it as an EMF log line). */
  readonly report: (summary: InvocationSummary) => void;
  readonly now?: () => number;
  /** Told about each record that fails, with the reason (the local CLI prints these; Lambda does not). */
  readonly onRecordError?: (index: number, error: FlowlogError) => void;
}

export type Transform = (event: FirehoseTransformationEvent) => Promise<TransformResponse>;

/** Why a record with no flow of its own is `Dropped`. */
type DropReason = 'control_message' | 'header' | 'empty';

type Outcome =
  | { readonly kind: 'failed'; readonly error: FlowlogError }
  /** Not admitted: its estimated output does not fit this response; re-ingested untouched. */
  | { readonly kind: 'deferred' }
  | { readonly kind: 'dropped'; readonly why: DropReason }
  | {
      readonly kind: 'parsed';
      readonly decoded: DecodedRecord & { kind: 'lines' | 'cwl-data' };
      /** Index of this record's first flow in the batch-wide flow list. */
      readonly first: number;
      readonly count: number;
    };

/**
 * Builds the Firehose data-transformation function from objects made once per container.
 *
 * Per invocation: admit the records whose estimated output fits the 6 MB response (the rest are
 * re-ingested untouched, to be transformed in a later invocation); decode and parse them (one bad record
 * never fails its neighbours); look up every interface in one round; evaluate detection over the whole
 * admitted batch; serialize while counting the response's exact bytes; re-ingest what still does not fit;
 * report one summary.
 * Every input `recordId` comes back exactly once, in input order, and bad data never throws.
 */
export function createTransformer(deps: TransformDeps): Transform {
  const { config, enricher, detector, reingester, report } = deps;
  const now = deps.now ?? Date.now;
  const parseLine = createLineParser(config.format, { maxLineLength: config.maxLineLength });
  const writeFlow = createFlowWriter(config.format, config.maxLineLength);
  const decodeOptions = { maxDecompressedBytes: config.maxDecompressedBytes };
  // Output base64 bytes per input base64 byte, learned per container: admits records before any work is
  // spent on them, so a batch too large for one response costs only what it returns.
  let expansion = INITIAL_EXPANSION;
  // Reused across invocations: each Ok record's data is encoded out of it before the next one starts.
  const output = new ByteWriter();

  return async (event) => {
    const started = now();
    // An entry that is not an object has no data: it fails (invalid_base64) like any unreadable record.
    const inputs: FirehoseTransformationEventRecord[] = Array.isArray(event?.records)
      ? event.records.map((record) => (record && typeof record === 'object' ? record : UNREADABLE))
      : [];
    const stream = streamName(event?.deliveryStreamArn);
    const eventRegion = typeof event?.region === 'string' ? event.region : 'unknown';
    const counts: Record<string, number> = {};
    let firstFailure: { reason: string; field?: string; position?: number } | undefined;

    // 1. Admit what is likely to fit the response; decode and parse it.
    const idLengths = inputs.map((input) => jsonStringLength(input?.recordId));
    const reserve = suffixReserve(idLengths);
    let estimated = RESPONSE_OVERHEAD;
    let bytesIn = 0;
    let linesIn = 0;
    const flows: Flow[] = [];
    const outcomes: Outcome[] = inputs.map((input, index) => {
      const estimate = estimateOkSize(input, expansion);
      // The first record is always admitted, so every invocation makes progress.
      if (index > 0 && estimated + estimate + (reserve[index + 1] as number) > config.responseLimitBytes) {
        return DEFERRED;
      }
      estimated += estimate;
      try {
        const decoded = decodeRecord(input.data, decodeOptions);
        bytesIn += (input.data.length * 3) >>> 2;
        if (decoded.kind === 'cwl-control') return { kind: 'dropped', why: 'control_message' };
        const lines = decoded.lines;
        linesIn += lines.length;
        // Flows go straight into the batch list; a record that fails half-way takes its flows back out,
        // so a record is written whole or not at all.
        const first = flows.length;
        let headers = 0;
        for (let n = 0; n < lines.length; n++) {
          const line = lines[n] as string;
          if (isHeaderLine(line)) {
            headers++;
            continue;
          }
          try {
            flows.push(parseLine(line));
          } catch (error) {
            flows.length = first;
            throw error instanceof ParseError && lines.length > 1 ? error.atLine(n + 1) : error;
          }
        }
        const count = flows.length - first;
        if (count === 0) return { kind: 'dropped', why: headers > 0 ? 'header' : 'empty' };
        return { kind: 'parsed', decoded, first, count };
      } catch (error) {
        const flowlogError = toFlowlogError(error);
        deps.onRecordError?.(index, flowlogError);
        return { kind: 'failed', error: flowlogError };
      }
    });

    counts[METRIC.bytesIn] = bytesIn;
    counts[METRIC.linesIn] = linesIn;

    // 2. Enrich: one batched lookup round for the whole invocation, bounded in time.
    const accountId = accountOf(event?.deliveryStreamArn);
    const enrichments = await enrichAll(
      enricher,
      flows,
      started + config.enrichment.budgetMs,
      counts,
      accountId,
    );

    // 3. Detect over the batch as a whole.
    const detection: DetectionBatch | undefined = detector?.evaluate(flows, enrichments, started);

    // 4. Serialize within the response budget. All output goes into one reused byte buffer; each record's
    // base64 is a slice of it, and its size is known before it is encoded.
    output.reset();
    const offsets = new Array<number>(inputs.length + 1).fill(0);
    outcomes.forEach((outcome, index) => {
      offsets[index] = output.length;
      if (outcome.kind !== 'parsed') return;
      for (let i = outcome.first; i < outcome.first + outcome.count; i++) {
        writeFlow(output, flows[i] as Flow, enrichments[i], detection?.detections[i] ?? NO_FINDINGS);
      }
    });
    offsets[inputs.length] = output.length;
    const results: (ResultRecord | undefined)[] = new Array(inputs.length);
    let committed = RESPONSE_OVERHEAD;
    let okInputBytes = 0;
    let okOutputBytes = 0;
    let lastMetadata: { readonly partitionKeys: PartitionKeys } | undefined;
    // Records to re-ingest: their indexes, and their parts (one Buffer each, two for a split record)
    // flattened, with `overflowParts[k]` the number of parts of record k. No object per record.
    const overflowIndexes: number[] = [];
    const overflowParts: number[] = [];
    const overflowBuffers: Buffer[] = [];
    const okIndexes: number[] = [];

    /**
     * Answers a record ProcessingFailed: with its original data while the response can afford it (and
     * still answer every record after it), else with empty data; counted once, by reason.
     */
    const fail = (index: number, error: FlowlogError, alreadyReported: boolean) => {
      const input = inputs[index] as FirehoseTransformationEventRecord;
      if (!alreadyReported) deps.onRecordError?.(index, error);
      let result = failed(input);
      if (
        committed + resultSize(result, idLengths[index]) + (reserve[index + 1] as number) >
        config.responseLimitBytes
      ) {
        result = failed(input, false);
      }
      committed += resultSize(result, idLengths[index]);
      results[index] = result;
      bump(counts, METRIC.failed(error.reason));
      firstFailure ??= describeFailure(error);
    };

    outcomes.forEach((outcome, index) => {
      const input = inputs[index] as FirehoseTransformationEventRecord;
      const after = reserve[index + 1] as number;
      if (outcome.kind === 'dropped') {
        const result = dropped(input);
        committed += resultSize(result, idLengths[index]);
        results[index] = result;
        bump(counts, METRIC.dropped(outcome.why));
        return;
      }
      if (outcome.kind === 'deferred') {
        try {
          overflowBuffers.push(decodeBase64(input.data));
          overflowIndexes.push(index);
          overflowParts.push(1);
          // Counted as the larger of its two possible answers until re-ingestion says which.
          committed += minimalSize(idLengths[index] as number);
        } catch (error) {
          fail(index, toFlowlogError(error), false);
        }
        return;
      }
      if (outcome.kind === 'failed') {
        fail(index, outcome.error, true);
        return;
      }
      const start = offsets[index] as number;
      const end = offsets[index + 1] as number;
      const keys = partitionKeys(
        flows[outcome.first] as Flow,
        eventRegion,
        input.approximateArrivalTimestamp,
        accountId,
      );
      const size = okSize(idLengths[index] as number, base64Length(end - start), keys);
      if (committed + size + after <= config.responseLimitBytes) {
        const data = output.buffer.toString('base64', start, end);
        committed += size;
        okInputBytes += input.data.length;
        okOutputBytes += data.length;
        // partitionKeys hands back the same frozen object for a repeated partition: share the metadata too.
        if (lastMetadata?.partitionKeys !== keys) lastMetadata = { partitionKeys: keys };
        results[index] = ok(input, data, keys, lastMetadata);
        okIndexes.push(index);
        bump(counts, METRIC.bytesOut, end - start);
        return;
      }
      // Does not fit: re-ingest the original bytes (split when it could never fit on its own).
      const fitsAlone = RESPONSE_OVERHEAD + size <= config.responseLimitBytes;
      try {
        const parts = fitsAlone ? [decodeBase64(input.data)] : split(outcome.decoded, input);
        for (const part of parts) overflowBuffers.push(part);
        overflowIndexes.push(index);
        overflowParts.push(parts.length);
        committed += minimalSize(idLengths[index] as number);
      } catch (error) {
        fail(index, toFlowlogError(error), false);
      }
    });

    if (okInputBytes > 0) {
      // Jump up at once when output grew, come down slowly when it shrank.
      const observed = okOutputBytes / okInputBytes;
      expansion = Math.min(MAX_EXPANSION, Math.max(observed * 1.05, expansion * 0.9, 1));
    }

    // 5. Re-ingest the overflow; Dropped only once Firehose has accepted every part.
    if (overflowIndexes.length > 0) {
      const accepted = await reingestAll(
        reingester,
        event?.deliveryStreamArn,
        overflowBuffers,
        overflowParts,
        now() + config.reingestBudgetMs,
      );
      overflowIndexes.forEach((index, n) => {
        const input = inputs[index] as FirehoseTransformationEventRecord;
        if (accepted[n]) {
          results[index] = dropped(input);
          // "Dropped" is 9 bytes shorter than the "ProcessingFailed" that was counted.
          committed -= 9;
          bump(counts, METRIC.recordsReingested);
        } else {
          results[index] = failed(input, false);
          const reason = reingester ? 'reingest_failed' : 'too_large';
          // Errors (and their stack traces) only when someone reads them: thousands can fail at once.
          if (deps.onRecordError) {
            deps.onRecordError(
              index,
              new CapacityError(
                reason,
                reingester
                  ? 'output does not fit the response and re-ingesting it failed'
                  : 'output does not fit the response and there is no stream to re-ingest into',
              ),
            );
          }
          bump(counts, METRIC.reingestFailed);
          bump(counts, METRIC.failed(reason));
          firstFailure ??= { reason };
        }
      });
    }

    // 6. Only records returned Ok count, in the detection window and the metrics.
    const okFlowIndexes: number[] = [];
    for (const index of okIndexes) {
      const outcome = outcomes[index] as Outcome & { kind: 'parsed' };
      for (let i = outcome.first; i < outcome.first + outcome.count; i++) okFlowIndexes.push(i);
    }
    detection?.commit(okFlowIndexes);
    countFindings(counts, okFlowIndexes, enrichments, detection);

    const records = results as ResultRecord[];
    let dropCount = 0;
    let failCount = 0;
    for (const record of records) {
      if (record.result === 'Dropped') dropCount++;
      else if (record.result === 'ProcessingFailed') failCount++;
    }
    counts[METRIC.recordsOk] = okIndexes.length;
    counts[METRIC.recordsDropped] = dropCount;
    counts[METRIC.recordsFailed] = failCount;
    counts[METRIC.recordsIn] = inputs.length;
    counts[METRIC.flowsOk] = okFlowIndexes.length;
    // The running total is exact (a test compares it with the serialized response).
    counts[METRIC.responseBytes] = records.length > 0 ? committed : RESPONSE_OVERHEAD + 1;
    for (const [flag, n] of Object.entries(detection?.suppressed ?? {}))
      bump(counts, METRIC.suppressed(flag), n);
    report({
      stream,
      counts,
      durationMs: now() - started,
      ...(firstFailure ? { context: { firstFailure } } : {}),
    });
    return { records };
  };
}

async function enrichAll(
  enricher: Enricher | undefined,
  flows: readonly Flow[],
  deadline: number,
  counts: Record<string, number>,
  accountId: string | undefined,
): Promise<(Enrichment | undefined)[]> {
  if (!enricher || flows.length === 0) return new Array(flows.length);
  let batch: EnrichmentBatch;
  try {
    batch = await enricher.prepare(flows, deadline, accountId ? { accountId } : {});
  } catch {
    // An enricher must not reject; if one does, data still flows, unenriched.
    bump(counts, METRIC.lookupErrors);
    return new Array(flows.length);
  }
  const out = new Array<Enrichment | undefined>(flows.length);
  for (let i = 0; i < flows.length; i++) out[i] = batch.enrich(flows[i] as Flow);
  const stats = batch.stats;
  bump(counts, METRIC.cacheHits, stats.cacheHits);
  bump(counts, METRIC.cacheMisses, stats.cacheMisses);
  bump(counts, METRIC.lookupCalls, stats.lookupCalls);
  bump(counts, METRIC.lookupMs, Math.round(stats.lookupMs));
  bump(counts, METRIC.lookupErrors, stats.lookupErrors);
  return out;
}

function countFindings(
  counts: Record<string, number>,
  okFlowIndexes: readonly number[],
  enrichments: readonly (Enrichment | undefined)[],
  detection: DetectionBatch | undefined,
): void {
  for (const i of okFlowIndexes) {
    const enrichment = enrichments[i];
    if (enrichment?.status) bump(counts, METRIC.enrichment(enrichment.status));
    const found = detection?.detections[i];
    if (!found || found.flags.length === 0) continue;
    bump(counts, METRIC.severity(found.severity));
    for (const flag of found.flags) bump(counts, METRIC.flag(flag));
  }
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

const UNREADABLE = Object.freeze({
  recordId: '',
  approximateArrivalTimestamp: 0,
  data: null as unknown as string,
}) as FirehoseTransformationEventRecord;

const DEFERRED: Outcome = Object.freeze({ kind: 'deferred' });

/** Before any data is seen: above the default format's measured expansion (README), to admit safely. */
const INITIAL_EXPANSION = 7;
const MAX_EXPANSION = 40;

/** Estimated size of a record's `Ok` result: its base64 data times the expansion, plus the envelope. */
function estimateOkSize(input: FirehoseTransformationEventRecord, expansion: number): number {
  const length = typeof input.data === 'string' ? input.data.length : 0;
  return (
    160 + (typeof input.recordId === 'string' ? input.recordId.length : 0) + Math.ceil(length * expansion)
  );
}

/**
 * Bytes every record after index i needs at least (a `ProcessingFailed` entry without data), so a record
 * is accepted only when all that follow can still be answered: `reserve[i]` covers records i..n-1.
 */
function suffixReserve(idLengths: readonly number[]): number[] {
  const reserve = new Array<number>(idLengths.length + 1);
  reserve[idLengths.length] = 0;
  for (let i = idLengths.length - 1; i >= 0; i--)
    reserve[i] = (reserve[i + 1] as number) + minimalSize(idLengths[i] as number);
  return reserve;
}

/**
 * Splits a record whose output could never fit one response into two records of the same kind, as
 * AWS's CloudWatch Logs processor blueprint does: an envelope's `logEvents` in halves, each its own
 * gzip envelope; plain lines in halves. A single line cannot be split.
 */
function split(
  decoded: DecodedRecord & { kind: 'lines' | 'cwl-data' },
  input: FirehoseTransformationEventRecord,
): Buffer[] {
  if (decoded.kind === 'cwl-data') {
    const events = decoded.envelope.logEvents;
    if (events.length < 2) throw tooLarge(input);
    const half = Math.ceil(events.length / 2);
    return [events.slice(0, half), events.slice(half)].map((logEvents) =>
      gzipSync(JSON.stringify({ ...decoded.envelope, logEvents } satisfies CloudWatchLogsEnvelope)),
    );
  }
  if (decoded.lines.length < 2) throw tooLarge(input);
  const half = Math.ceil(decoded.lines.length / 2);
  return [decoded.lines.slice(0, half), decoded.lines.slice(half)].map((lines) =>
    Buffer.from(`${lines.join('\n')}\n`),
  );
}

function tooLarge(input: FirehoseTransformationEventRecord): CapacityError {
  return new CapacityError(
    'too_large',
    `record ${input.recordId}: a single flow line whose output cannot fit a 6 MB Lambda response`,
  );
}

/** Re-ingests every part; a record counts as re-ingested only when Firehose accepted all of its parts. */
async function reingestAll(
  reingester: Reingester | undefined,
  streamArn: string | undefined,
  buffers: readonly Buffer[],
  partsPerRecord: readonly number[],
  deadline: number,
): Promise<boolean[]> {
  if (!reingester || typeof streamArn !== 'string') return partsPerRecord.map(() => false);
  const outcome = await reingester.reingest(streamArn, buffers, deadline).catch(() => undefined);
  let cursor = 0;
  return partsPerRecord.map((parts) => {
    let all = true;
    for (let i = 0; i < parts; i++) all = (outcome?.accepted[cursor++] ?? false) && all;
    return all;
  });
}

function describeFailure(error: FlowlogError): { reason: FailureReason; field?: string; position?: number } {
  // The field and position help find a wrong FLOW_LOG_FORMAT; the value is flow data and stays out of logs.
  if (error instanceof ParseError) {
    return {
      reason: error.reason,
      ...(error.field ? { field: error.field } : {}),
      ...(error.position ? { position: error.position } : {}),
    };
  }
  return { reason: error.reason };
}

/** The function's own account: the delivery stream that invokes it lives there. */
function accountOf(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const account = arn.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

function streamName(arn: unknown): string {
  if (typeof arn !== 'string') return 'unknown';
  const slash = arn.lastIndexOf('/');
  return slash === -1 ? arn : arn.slice(slash + 1);
}
