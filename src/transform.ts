import { gzipSync } from 'node:zlib';
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord } from 'aws-lambda';
import { FieldBytes } from './bytes/field-bytes.js';
import type { Config } from './config.js';
import type { Detection, DetectionBatch, Detector } from './detect/types.js';
import { NO_FINDINGS } from './detect/types.js';
import type { Enricher, Enrichment } from './enrich/types.js';
import {
  CapacityError,
  type FailureReason,
  type FlowlogError,
  InternalError,
  ParseError,
  toFlowlogError,
} from './errors.js';
import {
  base64DecodedLength,
  type CloudWatchLogsEnvelope,
  type DecodedRecord,
  decodeBase64Into,
  decodeRecord,
  splitLines,
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
import { communityHash, communityHashes, flowCommunityHash } from './flowlog/community-id.js';
import type { Flow } from './flowlog/parse.js';
import { createRecordParser, type RecordSummary } from './flowlog/record.js';
import { createFlowWriter, type FlowWriter } from './output/jsonl.js';
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
  /** The output stage, replaceable so tests can make it throw (fault injection). */
  readonly stages?: {
    readonly writeFlow?: FlowWriter;
    readonly partitionKeys?: typeof partitionKeys;
    /** A flow's Community ID hash; the batch's pass (`communityHashes`) uses it too. */
    readonly communityHash?: typeof communityHash;
  };
}

/** What the Lambda runtime tells about the invocation; only the time left is used. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

export type Transform = (
  event: FirehoseTransformationEvent,
  context?: InvocationContext,
) => Promise<TransformResponse>;

/** Why a record with no flow of its own is `Dropped`. */
type DropReason = 'control_message' | 'header' | 'empty';

/** What became of each record in admission, one byte per record (no object per record). */
enum State {
  /** Decoded and parsed: its flows are `flows[first[i] .. first[i] + count[i])`. */
  Parsed = 1,
  /** Not admitted, or admitted and split: re-ingested, whole or in pieces (see `ReingestList`). */
  Reingest = 2,
  /** Failed to decode or parse: `errors` holds why. */
  Failed = 3,
  DroppedControl = 4,
  DroppedHeader = 5,
  DroppedEmpty = 6,
}
const DROP_REASONS: readonly DropReason[] = ['control_message', 'header', 'empty'];

/** Phases whose failure is contained: counted as `PhaseErrors_<phase>`, the records still answered. */
type Phase = 'enrich' | 'detect' | 'commit' | 'reingest';

/**
 * The records to put back into the stream, in flat lists (a full batch defers thousands: no object per
 * record): each entry's record index and its pieces, whole bytes or the parts of a record too large for any
 * response. `unsent` rebuilds, from the pieces Firehose did not accept, what a split record's failure
 * carries, so that redriving it sends nothing twice.
 */
class ReingestList {
  /** Each entry's record index, and where its pieces end in `parts` (an entry per record at most). */
  readonly indexes: Int32Array;
  readonly ends: Int32Array;
  readonly parts: Uint8Array[] = [];
  readonly unsent = new Map<number, (accepted: readonly boolean[]) => string>();
  length = 0;
  /** Whether entries were added in record order (the writer adds late ones after admission's). */
  private ordered = true;

  constructor(records: number) {
    this.indexes = new Int32Array(records);
    this.ends = new Int32Array(records);
  }

  add(index: number, part: Uint8Array): void {
    const k = this.length++;
    if (k > 0 && index < (this.indexes[k - 1] as number)) this.ordered = false;
    this.indexes[k] = index;
    this.parts.push(part);
    this.ends[k] = this.parts.length;
  }

  addPieces(index: number, pieces: Pieces): void {
    const k = this.length++;
    if (k > 0 && index < (this.indexes[k - 1] as number)) this.ordered = false;
    this.indexes[k] = index;
    for (let i = 0; i < pieces.parts.length; i++) this.parts.push(pieces.parts[i] as Uint8Array);
    this.ends[k] = this.parts.length;
    this.unsent.set(index, pieces.unsent);
  }

  /** The entries in record order, so the stream receives them in the order they came. */
  inOrder(): ReingestList {
    if (this.ordered) return this;
    const order = Array.from({ length: this.length }, (_, k) => k).sort(
      (a, b) => (this.indexes[a] as number) - (this.indexes[b] as number),
    );
    const sorted = new ReingestList(this.indexes.length);
    for (const k of order) {
      const from = k === 0 ? 0 : (this.ends[k - 1] as number);
      const to = this.ends[k] as number;
      const at = sorted.length++;
      sorted.indexes[at] = this.indexes[k] as number;
      for (let i = from; i < to; i++) sorted.parts.push(this.parts[i] as Uint8Array);
      sorted.ends[at] = sorted.parts.length;
    }
    this.unsent.forEach((rebuild, index) => {
      sorted.unsent.set(index, rebuild);
    });
    return sorted;
  }
}

/** Margin kept from the Lambda's remaining time: the response must be built and returned in it. */
const TIME_MARGIN_MS = 2_000;
/** Decompressed bytes one invocation reads to admit or split records: past it, records wait untouched. */
const WORK_BYTES_PER_INVOCATION = 32 * 1024 * 1024;

/**
 * Builds the Firehose data-transformation function from objects made once per container.
 *
 * Per invocation, in named phases over one batch: admit (decode each record and learn its decompressed
 * size before reading it; what will not fit this response is re-ingested, split when it could never fit
 * one), parse, enrich (one batched lookup round), detect (the batch as a whole), write (record by record,
 * counting the response's exact bytes), re-ingest, report. Each phase is guarded: a fault in enrichment or
 * detection leaves flows `Ok` without that stage's columns; a fault while writing one record fails that
 * record. Every input `recordId` comes back exactly once, in input order, and bad data never throws.
 */
export function createTransformer(deps: TransformDeps): Transform {
  const { config } = deps;
  // One writer per format: a flow is written by its own format's (which of its fields it has and so which
  // interface columns it leaves out); the record reader says which format read each flow.
  const writers = config.formats.map(
    (format) => deps.stages?.writeFlow ?? createFlowWriter(format, config.maxLineLength),
  );
  const container: Container = {
    deps,
    now: deps.now ?? Date.now,
    parseRecord: createRecordParser(config.formats, {
      maxLineLength: config.maxLineLength,
      maxDecompressedBytes: config.maxDecompressedBytes,
    }),
    writers,
    keysOf: deps.stages?.partitionKeys ?? partitionKeys,
    decodeOptions: { maxDecompressedBytes: config.maxDecompressedBytes },
    limit: config.responseLimitBytes,
    expansion: INITIAL_EXPANSION,
    idleArenas: [],
    idleFieldBytes: [],
  };

  return async (event, context) => {
    const run = begin(container, event, context);
    lap(run, 'begin');
    admit(container, run);
    lap(run, 'admit');
    await enrich(container, run);
    lap(run, 'enrich');
    detect(container, run);
    lap(run, 'detect');
    write(container, run);
    lap(run, 'write');
    await reingest(container, run);
    lap(run, 'reingest');
    report(container, run);
    return { records: run.results };
  };
}

/** What lives as long as the container: built once, reused by every invocation. */
interface Container {
  readonly deps: TransformDeps;
  readonly now: () => number;
  readonly parseRecord: ReturnType<typeof createRecordParser>;
  readonly writers: readonly FlowWriter[];
  readonly keysOf: typeof partitionKeys;
  readonly decodeOptions: { readonly maxDecompressedBytes: number };
  /** The response's byte budget. */
  readonly limit: number;
  /**
   * Output base64 bytes per decompressed input byte, learned per container: admits records before any
   * work is spent reading them, so a batch too large for one response costs only what it returns.
   */
  expansion: number;
  // Reused too, but never by two invocations at once (a caller may run them concurrently): each takes an
  // idle one and gives it back at the end.
  readonly idleArenas: ByteArena[];
  readonly idleFieldBytes: FieldBytes[];
}

/** One invocation's batch as the phases hand it on: per-record facts in typed arrays, flows in one list. */
interface Run {
  readonly started: number;
  /** Milliseconds each phase took, for the summary: where an invocation's time went. */
  readonly phaseMs: Record<string, number>;
  /** When the phase running now began (`performance.now()`). */
  lapStart: number;
  /** Every budget comes from the time the invocation has left. */
  readonly deadline: number;
  readonly batch: BatchInput;
  readonly arena: ByteArena;
  readonly fieldBytes: FieldBytes;
  /** Each record's answer, by input index; every one is set by the end. */
  readonly results: ResultRecord[];
  readonly counts: Record<string, number>;
  /** AWS errors by name (ThrottlingException, AccessDenied, TimeoutError…): the summary says which. */
  readonly awsErrors: Record<string, number>;
  firstFailure: { reason: string; field?: string; position?: number } | undefined;
  /** What became of each record in admission (and later in writing). */
  readonly state: Uint8Array;
  readonly inputBytes: Float64Array;
  /** A parsed record's flows are `flows[first[i] .. first[i] + count[i])`. */
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly errors: Map<number, FlowlogError>;
  readonly reingestList: ReingestList;
  readonly flows: Flow[];
  enrichments: (Enrichment | undefined)[];
  detection: DetectionBatch | undefined;
  /** The response's exact size so far, as answers are committed. */
  committed: number;
  /** Answers `ProcessingFailed` so far. */
  failedCount: number;
  readonly okIndexes: number[];
  /** 1 for each flow returned in an `Ok` record. */
  okFlows: Uint8Array;
}

function begin(container: Container, event: FirehoseTransformationEvent, context?: InvocationContext): Run {
  const lapStart = performance.now();
  const started = container.now();
  // A budget that runs out makes Firehose retry the whole batch, and what was re-ingested would then come twice.
  const remaining = remainingMs(context);
  const batch = readBatch(event);
  const n = batch.n;
  const arena = container.idleArenas.pop() ?? new ByteArena();
  arena.reset();
  const fieldBytes = container.idleFieldBytes.pop() ?? new FieldBytes();
  fieldBytes.reset();
  return {
    started,
    phaseMs: {},
    lapStart,
    deadline: started + Math.max(0, remaining - TIME_MARGIN_MS),
    batch,
    arena,
    fieldBytes,
    results: new Array<ResultRecord>(n),
    counts: {},
    awsErrors: {},
    firstFailure: undefined,
    state: new Uint8Array(n),
    inputBytes: new Float64Array(n),
    first: new Int32Array(n),
    count: new Int32Array(n),
    errors: new Map(),
    reingestList: new ReingestList(n),
    flows: [],
    enrichments: [],
    detection: undefined,
    committed: RESPONSE_OVERHEAD,
    failedCount: 0,
    okIndexes: [],
    okFlows: new Uint8Array(0),
  };
}

/** Ends the phase running now: its time goes in the summary. */
function lap(run: Run, phase: string): void {
  const now = performance.now();
  run.phaseMs[phase] = Math.round((now - run.lapStart) * 100) / 100;
  run.lapStart = now;
}

function phaseError(run: Run, phase: Phase): void {
  bump(run.counts, METRIC.phaseErrors(phase));
}

function fail(container: Container, run: Run, index: number, error: FlowlogError): void {
  run.state[index] = State.Failed;
  run.errors.set(index, error);
  container.deps.onRecordError?.(index, error);
}

/** Re-ingests a record untouched: its decoded bytes are all that is kept. */
function defer(container: Container, run: Run, index: number): void {
  try {
    run.reingestList.add(index, run.arena.decode(run.batch.datas[index]));
    run.state[index] = State.Reingest;
  } catch (error) {
    fail(container, run, index, toFlowlogError(error));
  }
}

/**
 * 1. Admit, decode, parse. Each record's decompressed size is learned before it is read; what will not fit
 * this response is re-ingested untouched, what never could is split into pieces that each will.
 */
function admit(container: Container, run: Run): void {
  const { batch, state, reingestList, flows, fieldBytes } = run;
  const { limit, parseRecord, decodeOptions } = container;
  const n = batch.n;
  const expansion = container.expansion;
  const read: RecordSummary = { decoded: false, lines: 0, headers: 0, control: false };
  // What the answers admitted so far will take, as estimated; the answers of the records after each
  // one are reserved at their minimum (a ProcessingFailed entry without data).
  let estimated = RESPONSE_OVERHEAD;
  let work = 0;
  let envelopeDeferred = false;
  let bytesIn = 0;
  let linesIn = 0;
  for (let index = 0; index < n; index++) {
    const data = batch.datas[index] as string;
    const idLength = batch.idLengths[index] as number;
    const after = batch.reserve[index + 1] as number;
    // What is left for this record's answer once every later record's smallest answer is reserved.
    const room = limit - estimated - after;
    // Past the work bound, or with no room left, a record waits for a later invocation untouched; so
    // does an envelope once one did not fit (each costs its decompression to find out).
    if (
      index > 0 &&
      (room < MIN_USEFUL_ROOM || work > WORK_BYTES_PER_INVOCATION || (envelopeDeferred && isGzipBase64(data)))
    ) {
      estimated += minimalSize(idLength);
      defer(container, run, index);
      continue;
    }
    let decoded: DecodedRecord | undefined;
    let size: number;
    try {
      if (isGzipBase64(data)) {
        // Compressed envelopes are measured by what they unpack to: 28 KB of gzip can hold 8 MB of lines.
        decoded = decodeRecord(data, decodeOptions);
        size = decodedSize(decoded);
        work += size;
      } else {
        size = typeof data === 'string' && data.length % 4 === 0 ? base64DecodedLength(data) : 0;
      }
    } catch (error) {
      estimated += minimalSize(idLength);
      fail(container, run, index, toFlowlogError(error));
      continue;
    }
    if (decoded?.kind === 'cwl-control') {
      estimated += minimalSize(idLength);
      state[index] = State.DroppedControl;
      bytesIn += base64DecodedLength(data);
      continue;
    }
    run.inputBytes[index] = size;
    const estimate = 160 + idLength + Math.ceil(size * expansion);
    if (estimate > limit - RESPONSE_OVERHEAD - minimalSize(idLength)) {
      // It could never fit one response: split it into pieces that each will, and re-ingest those.
      const pieces = trySplit(decoded ?? tryDecode(data, decodeOptions), Math.ceil(estimate / SPLIT_TARGET));
      if (pieces) {
        estimated += minimalSize(idLength);
        reingestList.addPieces(index, pieces);
        state[index] = State.Reingest;
        bytesIn += base64DecodedLength(data);
        continue;
      }
      // A single line cannot be split: read it, and let the writer see whether its output fits.
    } else if (index > 0 && estimate > room) {
      estimated += minimalSize(idLength);
      if (decoded) envelopeDeferred = true;
      defer(container, run, index);
      continue;
    }
    const at = flows.length;
    try {
      if (decoded) parseRecord.decoded(decoded, flows, read, fieldBytes);
      else parseRecord(data, flows, read, fieldBytes);
      if (read.control) {
        estimated += minimalSize(idLength);
        state[index] = State.DroppedControl;
        continue;
      }
      // A record is written whole or not at all: one that fails half-way takes its flows back out.
      const parsed = flows.length - at;
      if (parsed === 0) {
        estimated += minimalSize(idLength);
        state[index] = read.headers > 0 ? State.DroppedHeader : State.DroppedEmpty;
        continue;
      }
      estimated += estimate;
      state[index] = State.Parsed;
      run.first[index] = at;
      run.count[index] = parsed;
    } catch (error) {
      flows.length = at;
      // A failed record is reserved its smallest answer (it echoes its data only where the response can
      // afford it; Firehose keeps the original either way): it must not shrink what the others may use.
      estimated += minimalSize(idLength);
      fail(container, run, index, toFlowlogError(error));
    } finally {
      // Input is what could be decoded, lines what it held, whether or not they then parsed.
      if (read.decoded) bytesIn += base64DecodedLength(data);
      linesIn += read.lines;
    }
  }
  run.counts[METRIC.bytesIn] = bytesIn;
  run.counts[METRIC.linesIn] = linesIn;
}

/**
 * 2. Enrich: one batched lookup round, bounded in time. A fault here leaves the flows unenriched
 * (`enrichment_status` absent) and is counted; data still flows.
 */
async function enrich(container: Container, run: Run): Promise<void> {
  const { enricher, config } = container.deps;
  const { flows, counts } = run;
  run.enrichments = new Array(flows.length);
  if (!enricher || flows.length === 0) return;
  const enrichDeadline = Math.min(run.started + config.enrichment.budgetMs, run.deadline - REINGEST_SHARE_MS);
  try {
    const prepared = await enricher.prepare(
      flows,
      enrichDeadline,
      run.batch.accountId ? { accountId: run.batch.accountId } : {},
    );
    run.enrichments = prepared.enrichAll();
    const stats = prepared.stats;
    bump(counts, METRIC.cacheHits, stats.cacheHits);
    bump(counts, METRIC.cacheMisses, stats.cacheMisses);
    bump(counts, METRIC.lookupCalls, stats.lookupCalls);
    bump(counts, METRIC.lookupMs, Math.round(stats.lookupMs));
    bump(counts, METRIC.lookupErrors, stats.lookupErrors);
    addCounts(run.awsErrors, stats.errors);
  } catch {
    run.enrichments = new Array(flows.length);
    phaseError(run, 'enrich');
  }
}

/** 3. Detect over the batch as a whole; a fault leaves the flows without flags, counted. */
function detect(container: Container, run: Run): void {
  try {
    run.detection = container.deps.detector?.evaluate(run.flows, run.enrichments, run.started);
  } catch {
    phaseError(run, 'detect');
  }
}

/**
 * Answers a record ProcessingFailed: with its original data while the response can afford it (and still
 * answer every record after it), else with empty data; counted once, by reason.
 */
function answerFailed(container: Container, run: Run, index: number, error: FlowlogError): void {
  const { batch } = run;
  const input = batch.recordAt(index);
  let result = failed(input);
  const idLength = batch.idLengths[index] as number;
  if (run.committed + resultSize(result, idLength) + (batch.reserve[index + 1] as number) > container.limit) {
    result = failed(input, false);
  }
  run.committed += resultSize(result, idLength);
  run.results[index] = result;
  run.failedCount++;
  bump(run.counts, METRIC.failed(error.reason));
  run.firstFailure ??= describeFailure(error);
}

/**
 * 4. Write within the response budget, record by record. Each record's flows go into the batch's buffer
 * (the one the reader wrote the flows' members into, after them) from an offset that is a multiple of 3, and its answer's exact size is counted; one that does not fit is
 * taken back out and re-ingested. Then the buffer is base64 encoded once: a record's data is the slice of
 * that one string over its whole 3-byte groups, plus the encoding of its last 1–2 bytes. One native call
 * instead of one per record, and no copy per record. A fault writing one record fails that record only.
 */
function write(container: Container, run: Run): void {
  const { batch, state, flows, fieldBytes, results, counts, reingestList, enrichments } = run;
  const { writers, keysOf, limit, decodeOptions, deps } = container;
  // The output goes into the same buffer as the flows' members, after them: a line's members then move
  // within one buffer (copyWithin), where from another they would need a view made per line.
  const output = fieldBytes.out;
  const base = output.length + ((3 - (output.length % 3)) % 3);
  output.reserve(base - output.length);
  output.length = base;
  const n = batch.n;
  const writeFlow = writers[0] as FlowWriter;
  const several = writers.length > 1;
  const detections = run.detection?.detections;
  let okInputBytes = 0;
  let okOutputBytes = 0;
  let bytesOut = 0;
  let lastMetadata: { readonly partitionKeys: PartitionKeys } | undefined;
  const okFlows = new Uint8Array(flows.length);
  const okIndexes = run.okIndexes;
  const spans = new Int32Array(2 * n);
  // Each record's last 1–2 bytes (past its whole 3-byte groups), read while they are still in cache.
  const tails = new Int32Array(n);
  const okMetadata: { readonly partitionKeys: PartitionKeys }[] = [];
  // Every flow's Community ID first, in a pass of its own (see communityHashes). Should it throw (a bug),
  // each record's write makes its own, so that only a flow that throws again fails its record.
  const hash = deps.stages?.communityHash ?? communityHash;
  let hashes: (string | undefined)[] | undefined;
  try {
    hashes = communityHashes(flows, hash);
  } catch {
    hashes = undefined;
  }

  for (let index = 0; index < n; index++) {
    const kind = state[index];
    if (kind === State.Reingest) {
      // Counted as the larger of its two possible answers until re-ingestion says which.
      run.committed += minimalSize(batch.idLengths[index] as number);
      continue;
    }
    if (kind === State.Failed) {
      answerFailed(container, run, index, run.errors.get(index) as FlowlogError);
      continue;
    }
    if (kind !== State.Parsed) {
      const result = dropped(batch.ids[index] as string);
      run.committed += resultSize(result, batch.idLengths[index]);
      results[index] = result;
      bump(counts, METRIC.dropped(DROP_REASONS[(kind as number) - State.DroppedControl] as DropReason));
      continue;
    }
    const from = run.first[index] as number;
    const to = from + (run.count[index] as number);
    const aligned = output.length + ((3 - (output.length % 3)) % 3);
    let size: number;
    let keys: PartitionKeys;
    try {
      output.reserve(aligned - output.length);
      output.length = aligned;
      for (let i = from; i < to; i++) {
        const flow = flows[i] as Flow;
        (several ? (writers[fieldBytes.format(i)] as FlowWriter) : writeFlow)(
          output,
          flow,
          enrichments[i],
          detections?.[i] ?? NO_FINDINGS,
          hashes ? hashes[i] : flowCommunityHash(flow, hash),
          output.buffer,
          fieldBytes.start(i),
          fieldBytes.end(i),
        );
      }
      keys = keysOf(flows[from] as Flow, batch.region, batch.arrivals[index] as number, batch.accountId);
      size = okSize(batch.idLengths[index] as number, base64Length(output.length - aligned), keys);
    } catch (error) {
      // Its original bytes go to the error prefix.
      output.length = aligned;
      const failure = new InternalError(`writing the record failed: ${(error as Error)?.message ?? error}`, {
        cause: error,
      });
      deps.onRecordError?.(index, failure);
      answerFailed(container, run, index, failure);
      continue;
    }
    const bytes = output.length - aligned;
    if (run.committed + size + (batch.reserve[index + 1] as number) <= limit) {
      run.committed += size;
      okInputBytes += run.inputBytes[index] as number;
      okOutputBytes += base64Length(bytes);
      bytesOut += bytes;
      okIndexes.push(index);
      spans[2 * index] = aligned;
      spans[2 * index + 1] = output.length;
      tails[index] = tailKey(output.buffer, output.length - (bytes % 3), output.length);
      // partitionKeys hands back the same frozen object for a repeated partition: share the metadata too.
      if (lastMetadata?.partitionKeys !== keys) lastMetadata = { partitionKeys: keys };
      okMetadata.push(lastMetadata);
      for (let i = from; i < to; i++) okFlows[i] = 1;
      continue;
    }
    output.length = aligned;
    // Its output does not fit what is left: re-ingest the original bytes (split when it never could).
    try {
      if (RESPONSE_OVERHEAD + size > limit) {
        const pieces = trySplit(tryDecode(batch.datas[index] as string, decodeOptions), 2);
        if (!pieces) throw tooLarge(batch.ids[index] as string);
        reingestList.addPieces(index, pieces);
      } else {
        reingestList.add(index, run.arena.decode(batch.datas[index]));
      }
    } catch (error) {
      const failure = toFlowlogError(error);
      deps.onRecordError?.(index, failure);
      answerFailed(container, run, index, failure);
      continue;
    }
    state[index] = State.Reingest;
    run.committed += minimalSize(batch.idLengths[index] as number);
  }
  run.okFlows = okFlows;
  if (bytesOut > 0) counts[METRIC.bytesOut] = bytesOut;
  if (okIndexes.length > 0) {
    const encoded = output.buffer.toString('base64', base, output.length);
    for (let k = 0; k < okIndexes.length; k++) {
      const index = okIndexes[k] as number;
      const start = spans[2 * index] as number;
      const end = spans[2 * index + 1] as number;
      const whole = end - ((end - start) % 3);
      const tail = tails[index] as number;
      const slice = encoded.slice(((start - base) / 3) * 4, ((whole - base) / 3) * 4);
      const data = tail === NO_TAIL ? slice : slice + base64Tail(tail);
      const metadata = okMetadata[k] as { readonly partitionKeys: PartitionKeys };
      results[index] = ok(batch.ids[index] as string, data, metadata.partitionKeys, metadata);
    }
  }
  if (okInputBytes > 0) {
    // Jump up at once when output grew, come down slowly when it shrank. The margin is small: a record
    // admitted that then does not fit costs only its reading (the loop above re-ingests it), while one
    // deferred that would have fit is re-ingested, billed and transformed again.
    const observed = okOutputBytes / okInputBytes;
    container.expansion = Math.min(
      MAX_EXPANSION,
      Math.max(observed * EXPANSION_MARGIN, container.expansion * 0.5, 1),
    );
  }
}

/**
 * 5. Re-ingest: a record is `Dropped` only once Firehose has accepted every piece of it; one partly sent
 * fails carrying only the pieces that were not, so a redrive sends nothing twice.
 */
async function reingest(container: Container, run: Run): Promise<void> {
  const { reingester, config, onRecordError } = container.deps;
  const { batch, results, counts } = run;
  // Records are listed in input order (admission, then the writer's late additions): sort them so the
  // stream receives them in the order they came.
  const toReingest = run.reingestList.inOrder();
  const accepted = new Uint8Array(toReingest.parts.length);
  if (toReingest.length > 0 && reingester && typeof batch.streamArn === 'string') {
    try {
      const outcome = await reingester.reingest(
        batch.streamArn,
        toReingest.parts,
        Math.min(container.now() + config.reingestBudgetMs, run.deadline),
      );
      addCounts(run.awsErrors, outcome.errors);
      for (let i = 0; i < accepted.length; i++) accepted[i] = outcome.accepted[i] === true ? 1 : 0;
    } catch {
      phaseError(run, 'reingest');
    }
  }
  let reingested = 0;
  for (let k = 0; k < toReingest.length; k++) {
    const index = toReingest.indexes[k] as number;
    const from = k === 0 ? 0 : (toReingest.ends[k - 1] as number);
    const to = toReingest.ends[k] as number;
    const idLength = batch.idLengths[index] as number;
    let sent = 0;
    for (let i = from; i < to; i++) sent += accepted[i] as number;
    if (sent === to - from) {
      // Counted as ProcessingFailed without data until now.
      const result = dropped(batch.ids[index] as string);
      run.committed += resultSize(result, idLength) - minimalSize(idLength);
      results[index] = result;
      reingested++;
      continue;
    }
    // Some pieces went in: the failure carries only the others.
    const rebuild = sent > 0 ? toReingest.unsent.get(index) : undefined;
    let data = '';
    try {
      if (rebuild) data = rebuild(Array.from(accepted.subarray(from, to), (a) => a === 1));
    } catch {
      // Re-encoding the unsent pieces failed: the record fails without data (Firehose keeps the original).
      phaseError(run, 'reingest');
    }
    const withData = { recordId: batch.ids[index] as string, result: 'ProcessingFailed', data } as const;
    const fits =
      data !== '' &&
      run.committed - minimalSize(idLength) + resultSize(withData, idLength) <= container.limit;
    results[index] = fits ? withData : failed(batch.recordAt(index), false);
    run.failedCount++;
    if (fits) run.committed += resultSize(withData, idLength) - minimalSize(idLength);
    const reason = reingester ? 'reingest_failed' : 'too_large';
    // Errors (and their stack traces) only when someone reads them: thousands can fail at once.
    if (onRecordError) {
      onRecordError(
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
    run.firstFailure ??= { reason };
  }
  if (reingested > 0) bump(counts, METRIC.recordsReingested, reingested);
}

/** 6. Commit and report: only records returned Ok count, in the detection window and the metrics. */
function report(container: Container, run: Run): void {
  const { batch, counts, detection } = run;
  const n = batch.n;
  const okFlowIndexes: number[] = [];
  for (let i = 0; i < run.okFlows.length; i++) if (run.okFlows[i] === 1) okFlowIndexes.push(i);
  try {
    detection?.commit(okFlowIndexes);
  } catch {
    phaseError(run, 'commit');
  }
  countFindings(counts, okFlowIndexes, run.enrichments, detection?.detections);
  // Every record has its answer by now: what is neither Ok nor failed was dropped.
  counts[METRIC.recordsOk] = run.okIndexes.length;
  counts[METRIC.recordsDropped] = n - run.okIndexes.length - run.failedCount;
  counts[METRIC.recordsFailed] = run.failedCount;
  counts[METRIC.recordsIn] = n;
  counts[METRIC.flowsOk] = okFlowIndexes.length;
  // The running total is exact (a test compares it with the serialized response).
  counts[METRIC.responseBytes] = n > 0 ? run.committed : RESPONSE_OVERHEAD + 1;
  for (const [flag, k] of Object.entries(detection?.suppressed ?? {}))
    bump(counts, METRIC.suppressed(flag), k);
  lap(run, 'report');
  try {
    container.deps.report({
      stream: batch.stream,
      counts,
      durationMs: container.now() - run.started,
      phaseMs: run.phaseMs,
      ...(run.firstFailure ? { context: { firstFailure: run.firstFailure } } : {}),
      awsErrors: run.awsErrors,
    });
  } catch {
    // The summary is for people; the records are the contract.
  }
  if (container.idleArenas.length < 4) container.idleArenas.push(run.arena);
  if (container.idleFieldBytes.length < 4) container.idleFieldBytes.push(run.fieldBytes);
}

/** The event's records and what every phase reads of them, read in one pass. */
interface BatchInput {
  readonly n: number;
  readonly ids: string[];
  readonly datas: string[];
  readonly idLengths: Int32Array;
  readonly arrivals: Float64Array;
  /** What the answers of records `i..n-1` take at the least (ProcessingFailed without data). */
  readonly reserve: Float64Array;
  readonly streamArn: string | undefined;
  readonly stream: string;
  readonly region: string;
  readonly accountId: string | undefined;
  recordAt(index: number): FirehoseTransformationEventRecord;
}

/**
 * Reads the event's record objects and ids in a loop of its own: the records (3 MB of them do not stay in
 * cache) are scattered over the heap, and a short loop keeps many of those reads in flight. Per-record
 * numbers go in typed arrays: an array of a batch's 20,000 records would land in V8's large-object space.
 */
function readBatch(event: FirehoseTransformationEvent): BatchInput {
  const records: unknown[] = Array.isArray(event?.records) ? event.records : [];
  const n = records.length;
  const ids = new Array<string>(n);
  const datas = new Array<string>(n);
  const idLengths = new Int32Array(n);
  const arrivals = new Float64Array(n);
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
  const reserve = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--)
    reserve[i] = (reserve[i + 1] as number) + minimalSize(idLengths[i] as number);
  const streamArn = typeof event?.deliveryStreamArn === 'string' ? event.deliveryStreamArn : undefined;
  return {
    n,
    ids,
    datas,
    idLengths,
    arrivals,
    reserve,
    streamArn,
    stream: streamName(streamArn),
    region: typeof event?.region === 'string' ? event.region : 'unknown',
    accountId: accountOf(streamArn),
    recordAt: (index) => ({ recordId: ids[index], data: datas[index] }) as FirehoseTransformationEventRecord,
  };
}

function remainingMs(context: InvocationContext | undefined): number {
  try {
    const left = context?.getRemainingTimeInMillis();
    return typeof left === 'number' && Number.isFinite(left) ? left : DEFAULT_REMAINING_MS;
  } catch {
    return DEFAULT_REMAINING_MS;
  }
}

/** Without a Lambda context (the CLI, tests): the processor's own invocation limit, 5 minutes. */
const DEFAULT_REMAINING_MS = 300_000;
/** Of the time left, what enrichment must leave for writing and re-ingesting. */
const REINGEST_SHARE_MS = 5_000;

/**
 * Decoded bytes of records to re-ingest, cut from chunks kept across invocations: no allocation per
 * record, and none per invocation once warm. What `decode` returns is valid until the next `reset`.
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

/** gzip's magic bytes 1f 8b 08, in base64. */
function isGzipBase64(data: unknown): boolean {
  return typeof data === 'string' && data.startsWith('H4sI');
}

/** The bytes of text a decoded record holds (its lines and their newlines). */
function decodedSize(decoded: DecodedRecord): number {
  if (decoded.kind === 'cwl-control') return 0;
  let size = 0;
  const lines = decoded.lines;
  for (let i = 0; i < lines.length; i++) size += (lines[i] as string).length + 1;
  return size;
}

function tryDecode(data: string, options: { maxDecompressedBytes: number }): DecodedRecord | undefined {
  try {
    return decodeRecord(data, options);
  } catch {
    return undefined;
  }
}

function countFindings(
  counts: Record<string, number>,
  okFlowIndexes: readonly number[],
  enrichments: readonly (Enrichment | undefined)[],
  detections: readonly Detection[] | undefined,
): void {
  // Statuses and findings take few distinct values (detections are shared per combination of flags):
  // count per value first, then turn each into its metric once. Neighbouring flows mostly share their
  // status: a run of one is counted before it goes into the map.
  const statuses = new Map<string, number>();
  const findings = new Map<Detection, number>();
  let status: string | undefined;
  let run = 0;
  for (let k = 0; k < okFlowIndexes.length; k++) {
    const i = okFlowIndexes[k] as number;
    const next = enrichments[i]?.status;
    if (next !== status) {
      if (status) statuses.set(status, (statuses.get(status) ?? 0) + run);
      status = next;
      run = 0;
    }
    run++;
    const found = detections?.[i];
    if (found && found.flags.length > 0) findings.set(found, (findings.get(found) ?? 0) + 1);
  }
  if (status) statuses.set(status, (statuses.get(status) ?? 0) + run);
  statuses.forEach((n, status) => {
    bump(counts, METRIC.enrichment(status), n);
  });
  findings.forEach((n, found) => {
    bump(counts, METRIC.severity(found.severity), n);
    for (const flag of found.flags) bump(counts, METRIC.flag(flag), n);
  });
}

const NO_TAIL = -1;

/** A record's last 0–2 bytes `bytes[start, end)` as one number (`NO_TAIL` for none): `base64Tail`'s key. */
function tailKey(bytes: Buffer, start: number, end: number): number {
  if (end === start) return NO_TAIL;
  return end - start === 1
    ? (bytes[start] as number)
    : 256 + (((bytes[start] as number) << 8) | (bytes[start + 1] as number));
}

/** Base64 of a record's last 1–2 bytes (with padding): few distinct values (`}\n`, `"}\n`…), kept. */
function base64Tail(key: number): string {
  let tail = TAILS.get(key);
  if (tail === undefined) {
    tail = Buffer.from(key < 256 ? [key] : [(key - 256) >> 8, key & 0xff]).toString('base64');
    TAILS.set(key, tail);
  }
  return tail;
}

// Lines end in a few byte pairs (`}\n`, `"}\n`…): at most 65,792 keys, in practice a handful.
const TAILS = new Map<number, string>();

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

const UNREADABLE = Object.freeze({
  recordId: '',
  approximateArrivalTimestamp: 0,
  data: null as unknown as string,
}) as FirehoseTransformationEventRecord;

/**
 * Before any data is seen: output base64 bytes per decompressed input byte, above the default format's
 * measured expansion (README), to admit safely.
 */
const INITIAL_EXPANSION = 9;
/** Over the expansion last observed (a 10 % margin re-ingested ~1.7 % of a full 0.5 MB batch that fitted). */
const EXPANSION_MARGIN = 1.02;
const MAX_EXPANSION = 60;
/** Below this much room a record is not worth decoding: it would only be re-ingested. */
const MIN_USEFUL_ROOM = 1024;
/** What each piece of a split record is sized for: half a response, so pieces of two records share one. */
const SPLIT_TARGET = 2_900_000;

interface Pieces {
  readonly parts: Uint8Array[];
  readonly unsent: (accepted: readonly boolean[]) => string;
}

/**
 * Splits a record whose output could never fit one response into `count` records of the same kind (at
 * least two), as AWS's CloudWatch Logs processor blueprint does: an envelope's `logEvents`, each part its
 * own gzip envelope; plain lines, each part lines. A single line cannot be split: undefined.
 */
function trySplit(decoded: DecodedRecord | undefined, count: number): Pieces | undefined {
  try {
    return split(decoded, count);
  } catch {
    // Could not be re-encoded: the caller reads the record instead, and the writer decides.
    return undefined;
  }
}

function split(decoded: DecodedRecord | undefined, count: number): Pieces | undefined {
  if (!decoded || decoded.kind === 'cwl-control') return undefined;
  if (decoded.kind === 'cwl-data') {
    // Only messages with a line in them: a piece of blank ones alone would be re-ingested for nothing, and
    // once accepted, the record's failure would carry every line it came with.
    const events = decoded.envelope.logEvents.filter((event) => splitLines(event.message).length > 0);
    if (events.length < 2) return undefined;
    const groups = chunk(events, Math.min(Math.max(2, count), events.length));
    const envelope = (logEvents: typeof events) =>
      gzipSync(JSON.stringify({ ...decoded.envelope, logEvents } satisfies CloudWatchLogsEnvelope));
    return {
      parts: groups.map(envelope),
      unsent: (accepted) => envelope(groups.filter((_, i) => !accepted[i]).flat()).toString('base64'),
    };
  }
  const lines = decoded.lines;
  if (lines.length < 2) return undefined;
  const groups = chunk(lines, Math.min(Math.max(2, count), lines.length));
  const text = (group: readonly string[]) => Buffer.from(`${group.join('\n')}\n`);
  return {
    parts: groups.map(text),
    unsent: (accepted) => text(groups.filter((_, i) => !accepted[i]).flat()).toString('base64'),
  };
}

/** `items` in `count` consecutive groups of nearly equal length. */
function chunk<T>(items: readonly T[], count: number): T[][] {
  const groups: T[][] = [];
  for (let g = 0; g < count; g++) {
    groups.push(
      items.slice(Math.floor((g * items.length) / count), Math.floor(((g + 1) * items.length) / count)),
    );
  }
  return groups;
}

function tooLarge(recordId: string): CapacityError {
  return new CapacityError(
    'too_large',
    `record ${recordId}: a single flow line whose output cannot fit a 6 MB Lambda response`,
  );
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
function accountOf(arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  const account = arn.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

function streamName(arn: string | undefined): string {
  if (arn === undefined) return 'unknown';
  const slash = arn.lastIndexOf('/');
  return slash === -1 ? arn : arn.slice(slash + 1);
}
