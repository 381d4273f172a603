import { gzipSync } from 'node:zlib';
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord } from 'aws-lambda';
import type { Config } from './config.js';
import type { Detection, DetectionBatch, Detector } from './detect/types.js';
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
  base64DecodedLength,
  type CloudWatchLogsEnvelope,
  type DecodedRecord,
  decodeBase64Into,
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
import type { Flow } from './flowlog/parse.js';
import { createRecordParser, type RecordSummary } from './flowlog/record.js';
import { ByteWriter } from './output/byte-writer.js';
import { FieldBytes } from './output/field-bytes.js';
import { createFlowWriter } from './output/jsonl.js';
import { type PartitionKeys, partitionKeys } from './output/partition.js';
import { addCounts, bump, type InvocationSummary, METRIC } from './telemetry.js';

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

// What became of each record in the first pass, one byte per record (no object per record).
/** Decoded and parsed: its flows are `flows[first[i] .. first[i] + count[i])`. */
const PARSED = 1;
/** Not admitted: its estimated output does not fit this response; re-ingested untouched. */
const DEFERRED = 2;
/** Failed to decode or parse: `errors` holds why. */
const FAILED = 3;
const DROPPED_CONTROL = 4;
const DROPPED_HEADER = 5;
const DROPPED_EMPTY = 6;
const DROP_REASONS: readonly DropReason[] = ['control_message', 'header', 'empty'];

/**
 * Builds the Firehose data-transformation function from objects made once per container.
 *
 * Per invocation: admit the records whose estimated output fits the 6 MB response (the rest are
 * re-ingested untouched, to be transformed in a later invocation); decode and parse them (one bad record
 * never fails its neighbours); look up every interface in one round; evaluate detection over the whole
 * admitted batch; serialize record by record while counting the response's exact bytes; re-ingest what
 * still does not fit; report one summary.
 * Every input `recordId` comes back exactly once, in input order, and bad data never throws.
 */
export function createTransformer(deps: TransformDeps): Transform {
  const { config, enricher, detector, reingester, report } = deps;
  const now = deps.now ?? Date.now;
  const parseRecord = createRecordParser(config.format, {
    maxLineLength: config.maxLineLength,
    maxDecompressedBytes: config.maxDecompressedBytes,
  });
  const writeFlow = createFlowWriter(config.format, config.maxLineLength);
  const decodeOptions = { maxDecompressedBytes: config.maxDecompressedBytes };
  const limit = config.responseLimitBytes;
  // Output base64 bytes per input base64 byte, learned per container: admits records before any work is
  // spent on them, so a batch too large for one response costs only what it returns.
  let expansion = INITIAL_EXPANSION;
  // Reused across records and invocations: one record's output at a time, encoded while still in cache.
  const output = new ByteWriter(1 << 16);
  // Reused too, but never by two invocations at once (a caller may run them concurrently): each takes an
  // idle arena and gives it back when its re-ingestion is over.
  const idleArenas: ByteArena[] = [];
  // The JSON members each flow's fields came with, from reading to writing: per invocation, as the arenas.
  const idleFieldBytes: FieldBytes[] = [];

  return async (event) => {
    const started = now();
    const records: unknown[] = Array.isArray(event?.records) ? event.records : [];
    const n = records.length;
    // Each record's id and data, kept from the one pass that reads the records (their answers repeat
    // the id). Per-record numbers go in typed arrays: an array of a Firehose batch's 20,000 records is
    // too large for V8's young generation, and would be garbage for the old one after every invocation.
    const ids = new Array<string>(n);
    const datas = new Array<string>(n);
    const idLengths = new Int32Array(n);
    const arrivals = new Float64Array(n);
    const stream = streamName(event?.deliveryStreamArn);
    const eventRegion = typeof event?.region === 'string' ? event.region : 'unknown';
    const accountId = accountOf(event?.deliveryStreamArn);
    const counts: Record<string, number> = {};
    const awsErrors: Record<string, number> = {};
    let firstFailure: { reason: string; field?: string; position?: number } | undefined;

    // 1. Admit what is likely to fit the response; decode and parse it. What is not admitted is decoded
    // for re-ingestion right away, while its data is at hand.
    const arena = idleArenas.pop() ?? new ByteArena();
    arena.reset();
    const fieldBytes = idleFieldBytes.pop() ?? new FieldBytes();
    fieldBytes.reset();
    // The original bytes of the records not admitted, in input order.
    const deferred: Uint8Array[] = [];
    const state = new Uint8Array(n);
    const dataLengths = new Int32Array(n);
    const first = new Int32Array(n);
    const count = new Int32Array(n);
    const errors = new Map<number, FlowlogError>();
    const flows: Flow[] = [];
    // How far each record was read (filled in by the record parser, also when it throws).
    const read: RecordSummary = { decoded: false, lines: 0, headers: 0, control: false };
    let estimated = RESPONSE_OVERHEAD;
    let bytesIn = 0;
    let linesIn = 0;
    // The records are touched as few times as possible (3 MB of them do not stay in cache): everything
    // later steps need from a record is read here. First what each record's object holds and its id's
    // length, in a short loop of their own: the objects and ids are scattered over the heap and seldom in
    // cache, and a short loop keeps many of those reads in flight.
    for (let index = 0; index < n; index++) {
      const record = records[index];
      // An entry that is not an object has no data: it fails (invalid_base64) like any unreadable record.
      const input =
        record && typeof record === 'object' ? (record as FirehoseTransformationEventRecord) : UNREADABLE;
      const arrival = input.approximateArrivalTimestamp;
      arrivals[index] = typeof arrival === 'number' ? arrival : Number.NaN;
      ids[index] = input.recordId;
      datas[index] = input.data;
      idLengths[index] = jsonStringLength(input.recordId);
    }
    for (let index = 0; index < n; index++) {
      const idLength = idLengths[index] as number;
      const data = datas[index] as string;
      const length = typeof data === 'string' ? data.length : 0;
      dataLengths[index] = length;
      const estimate = 160 + idLength + Math.ceil(length * expansion);
      // Room for the answers of the records after this one, taking their ids to be as long as this one's
      // (Firehose's are all alike): admission is an estimate; serialization below counts exactly.
      const after = (n - 1 - index) * minimalSize(idLength);
      // The first record is always admitted, so every invocation makes progress.
      if (index > 0 && estimated + estimate + after > limit) {
        // Its answer (Dropped or failed, without data) still takes room: later records must not count on it.
        estimated += minimalSize(idLengths[index] as number);
        try {
          deferred.push(arena.decode(data));
          state[index] = DEFERRED;
        } catch (error) {
          state[index] = FAILED;
          errors.set(index, toFlowlogError(error));
          deps.onRecordError?.(index, errors.get(index) as FlowlogError);
        }
        continue;
      }
      estimated += estimate;
      const at = flows.length;
      try {
        parseRecord(data, flows, read, fieldBytes);
        if (read.control) {
          state[index] = DROPPED_CONTROL;
          continue;
        }
        // A record is written whole or not at all: one that fails half-way takes its flows back out.
        const parsed = flows.length - at;
        if (parsed === 0) {
          state[index] = read.headers > 0 ? DROPPED_HEADER : DROPPED_EMPTY;
          continue;
        }
        state[index] = PARSED;
        first[index] = at;
        count[index] = parsed;
      } catch (error) {
        flows.length = at;
        const flowlogError = toFlowlogError(error);
        deps.onRecordError?.(index, flowlogError);
        state[index] = FAILED;
        errors.set(index, flowlogError);
      } finally {
        // Input is what could be decoded, lines what it held, whether or not they then parsed.
        if (read.decoded) bytesIn += base64DecodedLength(data);
        linesIn += read.lines;
      }
    }
    counts[METRIC.bytesIn] = bytesIn;
    counts[METRIC.linesIn] = linesIn;
    // What the records after each one need at least (a ProcessingFailed entry without data): a record is
    // answered Ok only when all that follow can still be answered.
    const reserve = new Float64Array(n + 1);
    for (let i = n - 1; i >= 0; i--)
      reserve[i] = (reserve[i + 1] as number) + minimalSize(idLengths[i] as number);

    // 2. Enrich: one batched lookup round for the whole invocation, bounded in time.
    const enrichments = await enrichAll(
      enricher,
      flows,
      started + config.enrichment.budgetMs,
      counts,
      accountId,
      awsErrors,
    );

    // 3. Detect over the batch as a whole.
    const detection: DetectionBatch | undefined = detector?.evaluate(flows, enrichments, started);
    const detections = detection?.detections;

    // 4. Serialize within the response budget, record by record: write its flows into the reused buffer,
    // each record from an offset that is a multiple of 3, and count the exact size of its answer; one that
    // does not fit is taken back out. Then base64-encode the buffer once: a record's data is the slice of
    // that one string over its whole 3-byte groups, plus the encoding of its last 1–2 bytes. One native
    // call instead of one per record, and no copy per record (a slice shares the string, which V8 keeps
    // off the heap when it is large).
    const results = new Array<ResultRecord>(n);
    let committed = RESPONSE_OVERHEAD;
    let okInputBytes = 0;
    let okOutputBytes = 0;
    let bytesOut = 0;
    let lastMetadata: { readonly partitionKeys: PartitionKeys } | undefined;
    // Records to re-ingest, by index, and their bytes: one part each, or two for a record too large to
    // ever fit, split in halves.
    const overflow: number[] = [];
    const buffers: Uint8Array[] = [];
    const parts: number[] = [];
    let nextDeferred = 0;
    const okFlows = new Uint8Array(flows.length);
    const okIndexes: number[] = [];
    const spans = new Int32Array(2 * n);
    // The metadata of each record answered Ok, in the order of okIndexes.
    const okMetadata: { readonly partitionKeys: PartitionKeys }[] = [];
    output.reset();
    const members = fieldBytes.out.buffer;

    /**
     * Answers a record ProcessingFailed: with its original data while the response can afford it (and
     * still answer every record after it), else with empty data; counted once, by reason.
     */
    const fail = (index: number, error: FlowlogError, alreadyReported: boolean) => {
      const input = recordAt(ids, datas, index);
      if (!alreadyReported) deps.onRecordError?.(index, error);
      let result = failed(input);
      if (committed + resultSize(result, idLengths[index]) + (reserve[index + 1] as number) > limit) {
        result = failed(input, false);
      }
      committed += resultSize(result, idLengths[index]);
      results[index] = result;
      bump(counts, METRIC.failed(error.reason));
      firstFailure ??= describeFailure(error);
    };

    for (let index = 0; index < n; index++) {
      const kind = state[index];
      if (kind === DEFERRED) {
        overflow.push(index);
        buffers.push(deferred[nextDeferred++] as Uint8Array);
        parts.push(1);
        // Counted as the larger of its two possible answers until re-ingestion says which.
        committed += minimalSize(idLengths[index] as number);
        continue;
      }
      if (kind === FAILED) {
        fail(index, errors.get(index) as FlowlogError, true);
        continue;
      }
      if (kind !== PARSED) {
        const result = dropped(ids[index] as string);
        committed += resultSize(result, idLengths[index]);
        results[index] = result;
        bump(counts, METRIC.dropped(DROP_REASONS[(kind as number) - DROPPED_CONTROL] as DropReason));
        continue;
      }
      const from = first[index] as number;
      const to = from + (count[index] as number);
      const aligned = output.length + ((3 - (output.length % 3)) % 3);
      output.reserve(aligned - output.length);
      output.length = aligned;
      for (let i = from; i < to; i++) {
        writeFlow(
          output,
          flows[i] as Flow,
          enrichments[i],
          detections?.[i] ?? NO_FINDINGS,
          members,
          fieldBytes.start(i),
          fieldBytes.end(i),
        );
      }
      const bytes = output.length - aligned;
      const keys = partitionKeys(flows[from] as Flow, eventRegion, arrivals[index] as number, accountId);
      const size = okSize(idLengths[index] as number, base64Length(bytes), keys);
      if (committed + size + (reserve[index + 1] as number) <= limit) {
        committed += size;
        okInputBytes += dataLengths[index] as number;
        okOutputBytes += base64Length(bytes);
        bytesOut += bytes;
        okIndexes.push(index);
        spans[2 * index] = aligned;
        spans[2 * index + 1] = output.length;
        // partitionKeys hands back the same frozen object for a repeated partition: share the metadata too.
        if (lastMetadata?.partitionKeys !== keys) lastMetadata = { partitionKeys: keys };
        okMetadata.push(lastMetadata);
        for (let i = from; i < to; i++) okFlows[i] = 1;
        continue;
      }
      output.length = aligned;
      // Does not fit: re-ingest the original bytes (split when it could never fit on its own).
      try {
        if (RESPONSE_OVERHEAD + size > limit) {
          const decoded = decodeRecord(datas[index] as string, decodeOptions) as DecodedRecord & {
            kind: 'lines' | 'cwl-data';
          };
          const halves = split(decoded, recordAt(ids, datas, index));
          for (let h = 0; h < halves.length; h++) buffers.push(halves[h] as Uint8Array);
          parts.push(halves.length);
        } else {
          buffers.push(arena.decode(datas[index]));
          parts.push(1);
        }
      } catch (error) {
        fail(index, toFlowlogError(error), false);
        continue;
      }
      overflow.push(index);
      committed += minimalSize(idLengths[index] as number);
    }
    if (bytesOut > 0) counts[METRIC.bytesOut] = bytesOut;
    if (okIndexes.length > 0) {
      const encoded = output.buffer.toString('base64', 0, output.length);
      const bytes = output.buffer;
      // Indexed loops here and below: this function runs a few times per container, mostly unoptimized,
      // where `for…of` allocates an iterator result per element.
      for (let k = 0; k < okIndexes.length; k++) {
        const index = okIndexes[k] as number;
        const start = spans[2 * index] as number;
        const end = spans[2 * index + 1] as number;
        const whole = end - ((end - start) % 3);
        const data = encoded.slice((start / 3) * 4, (whole / 3) * 4) + base64Tail(bytes, whole, end);
        const metadata = okMetadata[k] as { readonly partitionKeys: PartitionKeys };
        results[index] = ok(ids[index] as string, data, metadata.partitionKeys, metadata);
      }
    }

    if (okInputBytes > 0) {
      // Jump up at once when output grew, come down slowly when it shrank.
      const observed = okOutputBytes / okInputBytes;
      expansion = Math.min(MAX_EXPANSION, Math.max(observed * 1.05, expansion * 0.9, 1));
    }

    // 5. Re-ingest the overflow; Dropped only once Firehose has accepted every part.
    if (overflow.length > 0) {
      const accepted = await reingestAll(
        reingester,
        event?.deliveryStreamArn,
        buffers,
        parts,
        now() + config.reingestBudgetMs,
        awsErrors,
      );
      let part = 0;
      let reingested = 0;
      for (let k = 0; k < overflow.length; k++) {
        const index = overflow[k] as number;
        if (accepted[part++]) {
          results[index] = dropped(ids[index] as string);
          // "Dropped" is 9 bytes shorter than the "ProcessingFailed" that was counted.
          committed -= 9;
          reingested++;
        } else {
          results[index] = failed(recordAt(ids, datas, index), false);
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
      }
      if (reingested > 0) bump(counts, METRIC.recordsReingested, reingested);
    }

    // 6. Only records returned Ok count, in the detection window and the metrics.
    const okFlowIndexes: number[] = [];
    for (let i = 0; i < okFlows.length; i++) if (okFlows[i] === 1) okFlowIndexes.push(i);
    detection?.commit(okFlowIndexes);
    countFindings(counts, okFlowIndexes, enrichments, detection);

    let dropCount = 0;
    let failCount = 0;
    for (let k = 0; k < results.length; k++) {
      const record = results[k] as ResultRecord;
      if (record.result === 'Dropped') dropCount++;
      else if (record.result === 'ProcessingFailed') failCount++;
    }
    counts[METRIC.recordsOk] = okIndexes.length;
    counts[METRIC.recordsDropped] = dropCount;
    counts[METRIC.recordsFailed] = failCount;
    counts[METRIC.recordsIn] = n;
    counts[METRIC.flowsOk] = okFlowIndexes.length;
    // The running total is exact (a test compares it with the serialized response).
    counts[METRIC.responseBytes] = n > 0 ? committed : RESPONSE_OVERHEAD + 1;
    for (const [flag, k] of Object.entries(detection?.suppressed ?? {}))
      bump(counts, METRIC.suppressed(flag), k);
    report({
      stream,
      counts,
      durationMs: now() - started,
      ...(firstFailure ? { context: { firstFailure } } : {}),
      awsErrors,
    });
    if (idleArenas.length < 4) idleArenas.push(arena);
    if (idleFieldBytes.length < 4) idleFieldBytes.push(fieldBytes);
    return { records: results };
  };
}

/** A record as its answer needs it (failures only: rare, so made when needed). */
function recordAt(ids: readonly unknown[], datas: readonly unknown[], index: number) {
  return { recordId: ids[index], data: datas[index] } as FirehoseTransformationEventRecord;
}

/**
 * Decoded bytes of records to re-ingest, cut from chunks kept across invocations: no allocation per
 * record, and none per invocation once warm (fresh external memory for every batch would also make V8
 * collect more often). What `decode` returns is valid until the next `reset`.
 */
class ByteArena {
  private readonly chunks: Buffer[] = [];
  private current = -1;
  private at = 0;

  reset(): void {
    this.current = -1;
    this.at = 0;
  }

  decode(data: unknown): Uint8Array {
    const room = typeof data === 'string' ? (data.length * 3) >>> 2 : 0;
    let chunk = this.chunks[this.current];
    if (chunk === undefined || this.at + room > chunk.length) {
      this.current++;
      this.at = 0;
      chunk = this.chunks[this.current];
      if (chunk === undefined || chunk.length < room) {
        chunk = Buffer.allocUnsafe(Math.max(ARENA_CHUNK, room));
        this.chunks[this.current] = chunk;
      }
    }
    const start = this.at;
    this.at += decodeBase64Into(data, chunk, start);
    // A plain view: a Buffer's subarray costs several times as much to make.
    return new Uint8Array(chunk.buffer, chunk.byteOffset + start, this.at - start);
  }
}

const ARENA_CHUNK = 1 << 20;

async function enrichAll(
  enricher: Enricher | undefined,
  flows: readonly Flow[],
  deadline: number,
  counts: Record<string, number>,
  accountId: string | undefined,
  awsErrors: Record<string, number>,
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
  let out: (Enrichment | undefined)[];
  try {
    // An enricher without enrichAll (or one that throws) is still served, flow by flow or unenriched.
    out = typeof batch.enrichAll === 'function' ? batch.enrichAll() : flows.map((flow) => batch.enrich(flow));
  } catch {
    bump(counts, METRIC.lookupErrors);
    return new Array(flows.length);
  }
  const stats = batch.stats;
  bump(counts, METRIC.cacheHits, stats.cacheHits);
  bump(counts, METRIC.cacheMisses, stats.cacheMisses);
  bump(counts, METRIC.lookupCalls, stats.lookupCalls);
  bump(counts, METRIC.lookupMs, Math.round(stats.lookupMs));
  bump(counts, METRIC.lookupErrors, stats.lookupErrors);
  addCounts(awsErrors, stats.errors);
  return out;
}

function countFindings(
  counts: Record<string, number>,
  okFlowIndexes: readonly number[],
  enrichments: readonly (Enrichment | undefined)[],
  detection: DetectionBatch | undefined,
): void {
  // Statuses and findings take few distinct values (detections are shared per combination of flags):
  // count per value first, then turn each into its metric once.
  const statuses = new Map<string, number>();
  const findings = new Map<Detection, number>();
  for (let k = 0; k < okFlowIndexes.length; k++) {
    const i = okFlowIndexes[k] as number;
    const status = enrichments[i]?.status;
    if (status) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const found = detection?.detections[i];
    if (found && found.flags.length > 0) findings.set(found, (findings.get(found) ?? 0) + 1);
  }
  statuses.forEach((n, status) => {
    bump(counts, METRIC.enrichment(status), n);
  });
  findings.forEach((n, found) => {
    bump(counts, METRIC.severity(found.severity), n);
    for (const flag of found.flags) bump(counts, METRIC.flag(flag), n);
  });
}

/** Base64 of a record's last 0–2 bytes (with padding): few distinct values (`}\n`, `"}\n`…), kept. */
function base64Tail(bytes: Buffer, start: number, end: number): string {
  if (end === start) return '';
  const key =
    end - start === 1
      ? (bytes[start] as number)
      : 256 + (((bytes[start] as number) << 8) | (bytes[start + 1] as number));
  let tail = TAILS.get(key);
  if (tail === undefined) {
    tail = bytes.toString('base64', start, end);
    TAILS.set(key, tail);
  }
  return tail;
}

// Lines end in a few byte pairs (`}\n`, `"}\n`…): a map stays small where a table of every pair would not.
const TAILS = new Map<number, string>();

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

const UNREADABLE = Object.freeze({
  recordId: '',
  approximateArrivalTimestamp: 0,
  data: null as unknown as string,
}) as FirehoseTransformationEventRecord;

/** Before any data is seen: above the default format's measured expansion (README), to admit safely. */
const INITIAL_EXPANSION = 7;
const MAX_EXPANSION = 40;

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
  buffers: readonly Uint8Array[],
  partsPerRecord: readonly number[],
  deadline: number,
  awsErrors: Record<string, number>,
): Promise<boolean[]> {
  if (!reingester || typeof streamArn !== 'string') return partsPerRecord.map(() => false);
  const outcome = await reingester.reingest(streamArn, buffers, deadline).catch(() => undefined);
  addCounts(awsErrors, outcome?.errors);
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
