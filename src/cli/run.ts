import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { estimateMonthlyCost, PRICES, steadyMsPerLine } from '../local/cost.js';
import { writeParquet as ndjsonToParquet } from '../local/duckdb.js';
import { describeProblem, type InputProblem, readInputs } from '../local/inputs.js';
import { LocalFirehose, type LocalRunStats } from '../local/local-firehose.js';
import { type CliContext, UsageError } from './context.js';
import { checkInputFile } from './input-files.js';
import { projectRoot } from './project-root.js';
import { s3Objects } from './s3-objects.js';
import { checkFlagFiles, cliConfig, cliInventory, localPipelineFor, type PipelineFlags } from './setup.js';
import { count, formatTable, formatNumber as n } from './table.js';

/** The template's default ProcessorBufferSizeMB: input per invocation. */
export const DEFAULT_BUFFER_MB = 0.5;

export interface RunFlags extends PipelineFlags {
  readonly inputs: readonly string[];
  readonly out: string;
  readonly parquet?: boolean;
  readonly bufferMb?: number;
  /** GB of flow logs per day for the cost estimate (default: this run's input as a day's traffic). */
  readonly perDayGb?: number;
  readonly memoryMb?: number;
  readonly quiet?: boolean;
  /** Add to what earlier runs wrote under `out` instead of replacing it. */
  readonly append?: boolean;
}

/**
 * What became of the output an earlier run left under `--out`: nothing was there (`new`), this run's output
 * took its place (`replaced`), or was added to it (`appended`, also when replaying `<out>/errors`).
 */
export type OutputMode = 'new' | 'replaced' | 'appended';

/** What `run` did: the local Firehose's counts, and the inputs it could not read whole or left out. */
export interface RunResult extends LocalRunStats {
  /** Inputs damaged part-way (read up to the damage) and lines of error-record files that are not records. */
  readonly damaged: readonly InputProblem[];
  /** Paths in input directories left out on purpose (broken links, links to what is read anyway). */
  readonly skipped: readonly { path: string; reason: string }[];
  /** Nothing, or almost nothing, could be read (a wrong format, most likely): the run failed. */
  readonly unreadable: boolean;
  readonly outputMode: OutputMode;
}

/** Rows per row group of the Parquet objects `run --parquet` writes (DuckDB's default, 122,880, buffers more). */
const PARQUET_ROW_GROUP = 20_000;

/** The staging folder's prefix under `--out`; its name carries the pid of the run that owns it. */
const STAGE_PREFIX = '.run-';
/** The scratch folder's prefix under the system's temporary folder, also followed by the pid. */
const SCRATCH_PREFIX = 'flowlog-enrich-run-';

/** `flowlog-enrich run`: the whole pipeline on one machine. */
export async function run(flags: RunFlags, ctx: CliContext): Promise<RunResult> {
  // To S3: the backfill worker's code path and keys (src/backfill/worker.ts), not the local tree below.
  if (flags.out.startsWith('s3://')) return (await import('./run-s3.js')).runToS3(flags, ctx);
  if (flags.inputs.length === 0)
    throw new UsageError('run needs at least one --input PATH (a file, directory, s3://bucket/prefix or -)');
  for (const input of flags.inputs) {
    if (input !== '-' && !input.startsWith('s3://') && !existsSync(input)) {
      throw new UsageError(`input ${input} does not exist`);
    }
  }
  // A file that is not flow logs at all (package.json, a picture) is named before anything is written.
  for (const input of flags.inputs) checkInputFile(input);
  // Configuration and the files the flags name are checked before anything is written under --out.
  const baseConfig = cliConfig(flags, ctx.env);
  checkFlagFiles(flags);
  const inventory =
    baseConfig.enrichment.mode === 'off' ? undefined : cliInventory(flags, baseConfig, ctx.env);
  const started = performance.now();
  // Written into a staging folder and swapped in at the end: the output tree is then exactly what this run
  // wrote, an earlier tree survives a failed run, and replaying `<out>/errors` cannot delete its own input.
  mkdirSync(flags.out, { recursive: true });
  // What a run that was killed (SIGKILL, a crash, power) left behind goes first.
  removeAbandoned(flags.out, STAGE_PREFIX);
  removeAbandoned(tmpdir(), SCRATCH_PREFIX);
  const stage = mkdtempSync(join(flags.out, `${STAGE_PREFIX}${process.pid}-`));
  const schemaPath = join(projectRoot(), 'schemas', 'emitted-record.json');
  const scratch = mkdtempSync(join(tmpdir(), `${SCRATCH_PREFIX}${process.pid}-`));
  const removeTemporary = () => {
    rmSync(stage, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  };
  // Interrupted (Ctrl-C, SIGTERM): remove both folders, then die of the same signal as without us.
  const interrupted = (signal: NodeJS.Signals) => {
    stopWatching();
    removeTemporary();
    process.kill(process.pid, signal);
  };
  const stopWatching = () => {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    process.off('exit', removeTemporary);
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  process.on('exit', removeTemporary);
  const damaged: InputProblem[] = [];
  const skipped: { path: string; reason: string }[] = [];
  let duck: Awaited<ReturnType<typeof openDuck>> | undefined;
  const getDuck = async () => {
    duck ??= await openDuck(join(scratch, 'duckdb'));
    return duck;
  };
  let tempCounter = 0;
  let ratios = { gzip: 0, parquet: 0 };
  let outputMode: OutputMode = 'new';

  const firehose = new LocalFirehose({
    outDir: stage,
    spillDir: join(stage, '.spill'),
    // Unique per run (time plus the staging folder's pid and random suffix), so merged objects never collide.
    runId: `${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}-${basename(stage).slice(STAGE_PREFIX.length)}`,
    bufferBytes: Math.round((flags.bufferMb ?? DEFAULT_BUFFER_MB) * 1024 * 1024),
    region: flags.region ?? 'us-east-1',
    pipelineFor: localPipelineFor(flags, ctx.env, inventory),
    ...(flags.parquet
      ? {
          writeParquet: async (path: string, ndjson: string) => {
            const { connection } = await getDuck();
            await ndjsonToParquet(connection, ndjson, path, schemaPath, { rowGroupSize: PARQUET_ROW_GROUP });
          },
        }
      : {}),
    onProgress: progress(ctx, flags.quiet === true),
  });

  try {
    const inputs = readInputs(flags.inputs, {
      objects: () => s3Objects(flags, ctx.env),
      // Streamed a chunk of rows at a time: a Parquet input of any size is never held whole.
      readParquet: async (path) => {
        // A connection of its own: a query on the connection that writes Parquet objects would end this
        // stream early, silently.
        const connection = await (await getDuck()).instance.connect();
        const result = await connection.stream(`SELECT * FROM read_parquet('${path.replaceAll("'", "''")}')`);
        async function* batches() {
          try {
            yield* result.yieldRowObjectJson() as AsyncIterable<Record<string, unknown>[]>;
          } finally {
            connection.closeSync();
          }
        }
        return { columns: result.columnNames(), batches: batches() };
      },
      tempFile: (extension) => join(scratch, `object-${tempCounter++}${extension}`),
      // A damaged input is reported and the others are read on; the run exits non-zero at the end.
      onDamaged: (problem) => {
        damaged.push(problem);
        if (!flags.quiet) ctx.stderr(`flowlog-enrich: ${describeProblem(problem)}\n`);
      },
      onSkipped: (path, reason) => skipped.push({ path, reason }),
    });
    for await (const record of inputs) await firehose.put(record);
    await firehose.close();
    // Replaying `<out>/errors` adds the repaired records to the output already there (object names are unique
    // per run) and leaves only what still fails in errors/; `--append` adds both trees to what is there; any
    // other run replaces them. Only `<out>/errors` counts as a replay: `demo` keeps its sample input under
    // `--out` too, and merging it made every re-run double the counts.
    const replaying = flags.inputs.some((input) => isInside(resolve(input), resolve(flags.out, 'errors')));
    const previous = ['flowlogs', 'errors'].some((tree) => existsSync(join(flags.out, tree)));
    outputMode = !previous ? 'new' : flags.append || replaying ? 'appended' : 'replaced';
    swapIn(stage, flags.out, 'flowlogs', flags.append || replaying ? 'merge' : 'replace');
    swapIn(stage, flags.out, 'errors', flags.append ? 'merge' : 'replace');
    // Only for the cost estimate: a sample DuckDB cannot read must not fail a run whose output is written.
    ratios = await compressionRatios(firehose.stats.sample, schemaPath, scratch).catch(() => ratios);
  } finally {
    stopWatching();
    duck?.connection.closeSync();
    duck?.instance.closeSync();
    removeTemporary();
  }
  if (!flags.quiet && process.stderr.isTTY) ctx.stderr('\r\x1b[K');
  const stats = firehose.stats;
  // Nine lines in ten failing is not a few bad lines: it is the wrong format (or not flow logs at all).
  const unreadable = stats.failed > 0 && stats.ok <= stats.failed / 9;
  const result: RunResult = Object.assign(stats, { damaged, skipped, unreadable, outputMode });
  summarize(
    result,
    flags,
    ctx,
    (performance.now() - started) / 1000,
    ratios,
    baseConfig.format.fields.length,
  );
  return result;
}

/**
 * Removes the folders `prefix<pid>-…` under `dir` whose run is no longer alive, and staging folders of the
 * form `.run-XXXXXX` that older versions left (they carried no pid). A live run's folders are left alone.
 */
function removeAbandoned(dir: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)-/.exec(name.slice(prefix.length))?.[1];
    const legacy = prefix === STAGE_PREFIX && /^[A-Za-z0-9]{6}$/.test(name.slice(prefix.length));
    if (legacy || (pid !== undefined && !isAlive(Number(pid))))
      rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as { code?: string }).code === 'EPERM';
  }
}

function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Puts the staged `tree` in place under `out`: merged into what is there, or instead of it. */
function swapIn(stage: string, out: string, tree: string, how: 'merge' | 'replace'): void {
  if (how === 'merge') {
    mergeTree(join(stage, tree), join(out, tree));
    return;
  }
  rmSync(join(out, tree), { recursive: true, force: true });
  if (existsSync(join(stage, tree))) renameSync(join(stage, tree), join(out, tree));
}

/** Moves every file of `from` into the same place under `to`. */
function mergeTree(from: string, to: string): void {
  if (!existsSync(from)) return;
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const source = join(entry.parentPath, entry.name);
    const target = join(to, relative(from, source));
    mkdirSync(dirname(target), { recursive: true });
    renameSync(source, target);
  }
}

/**
 * DuckDB for Parquet in and out. One thread, a memory limit (spilling to `tempDirectory`) and row groups of
 * `PARQUET_ROW_GROUP` rows keep its share of the run's memory small: converting one 64 MiB object took
 * ~250 MB with the defaults, ~90 MB so.
 */
async function openDuck(tempDirectory?: string) {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '1',
    memory_limit: '128MB',
    ...(tempDirectory ? { temp_directory: tempDirectory } : {}),
  });
  const connection = await instance.connect();
  return { instance, connection };
}

/** A one-line progress display on stderr, for terminals only (CI logs and pipes stay clean). */
function progress(ctx: CliContext, quiet: boolean) {
  const start = performance.now();
  let last = 0;
  return (stats: LocalRunStats) => {
    if (quiet || !process.stderr.isTTY) return;
    const now = performance.now();
    if (now - last < 200) return;
    last = now;
    const rate = stats.linesIn / ((now - start) / 1000);
    ctx.stderr(
      `\r\x1b[K  ${n(stats.linesIn)} lines read, ${n(stats.records)} records done, ${n(Math.round(rate))} lines/s`,
    );
  };
}

const SEVERITIES = ['critical', 'warning', 'info'];

/** GZIP JSON Lines and Parquet bytes per uncompressed byte, measured on a sample of the run's output. */
async function compressionRatios(
  sample: readonly string[],
  schemaPath: string,
  scratch: string,
): Promise<{ gzip: number; parquet: number }> {
  if (sample.length === 0) return { gzip: 0, parquet: 0 };
  const text = `${sample.join('\n')}\n`;
  const bytes = Buffer.byteLength(text);
  const dir = mkdtempSync(join(scratch, 'ratio-'));
  try {
    writeFileSync(join(dir, 'sample.json'), text);
    const { instance, connection } = await openDuck();
    try {
      await ndjsonToParquet(connection, join(dir, 'sample.json'), join(dir, 'sample.parquet'), schemaPath);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    return {
      gzip: gzipSync(text).length / bytes,
      parquet: statSync(join(dir, 'sample.parquet')).size / bytes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const OUTPUT_MODE: Record<OutputMode, (dir: string) => string> = {
  new: (dir) => `new in ${dir}`,
  replaced: (dir) => `replaced previous output in ${dir} (--append adds to it instead)`,
  appended: (dir) => `appended to ${dir}`,
};

function summarize(
  stats: RunResult,
  flags: RunFlags,
  ctx: CliContext,
  seconds: number,
  ratios: { gzip: number; parquet: number },
  formatFields: number,
): void {
  const out: string[] = [];
  out.push(
    `${n(stats.linesIn)} lines in (${(stats.inputBytes / 1024 / 1024).toFixed(2)} MB) → ` +
      `${n(stats.records)} records: ${n(stats.ok)} Ok, ${n(stats.dropped - stats.reingested)} Dropped, ` +
      `${n(stats.failed)} ProcessingFailed${stats.reingested ? `, ${n(stats.reingested)} re-ingested and processed again` : ''} ` +
      `in ${n(stats.invocations)} invocations, ${seconds.toFixed(1)} s`,
  );
  const flagged = SEVERITIES.map((s) => `${n(stats.bySeverity[s] ?? 0)} ${s}`).join(', ');
  out.push(
    `flagged flows: ${flagged}${
      Object.keys(stats.byFlag).length
        ? ` (${Object.entries(stats.byFlag)
            .map(([flag, flows]) => `${flag} ${n(flows)}`)
            .join(', ')})`
        : ''
    }`,
  );
  const top = [...stats.flaggedSources]
    .sort((a, b) => rank(b[1].severity) - rank(a[1].severity) || b[1].flows - a[1].flows)
    .slice(0, 5);
  if (top.length) {
    out.push('top flagged sources:');
    out.push(
      formatTable(
        ['source', 'severity', 'flows', 'flags'],
        top.map(([source, entry]) => [source, entry.severity, entry.flows, [...entry.flags].join(', ')]),
        { indent: '  ', footer: false, maxWidth: 80 },
      ).trimEnd(),
    );
  }
  for (const failure of stats.failures.slice(0, 10))
    out.push(`  ✗ ${failure.source}:${failure.line}: ${failure.message}`);
  if (stats.failures.length > 10) out.push(`  … ${n(stats.failed - 10)} more failed records`);
  out.push(
    `output: ${count(stats.objectsWritten, `${flags.parquet ? 'Parquet' : 'GZIP JSON Lines'} object`)} in ${count(stats.partitions, 'partition')} under ${join(flags.out, 'flowlogs')}/` +
      (stats.errorObjects ? `; failed records under ${join(flags.out, 'errors')}/` : ''),
  );
  out.push(`output: ${OUTPUT_MODE[stats.outputMode](flags.out)}`);
  if (stats.unreadable) out.push(...unreadableHint(stats, formatFields));
  else if (stats.linesIn > 0) out.push(...costSummary(stats, flags, ratios));
  if (stats.skipped.length > 0) {
    out.push(`skipped in input folders: ${stats.skipped.length}`);
    for (const { path, reason } of stats.skipped.slice(0, 10)) out.push(`  - ${path}: ${reason}`);
    if (stats.skipped.length > 10) out.push(`  … ${stats.skipped.length - 10} more`);
  }
  if (stats.damaged.length > 0) {
    const sources = new Set(stats.damaged.map((problem) => problem.source));
    out.push(
      `damaged inputs: ${sources.size} (everything before the damage and around it was read; exit status 1):`,
    );
    for (const problem of stats.damaged.slice(0, 10)) out.push(`  ✗ ${describeProblem(problem)}`);
    if (stats.damaged.length > 10) out.push(`  … ${stats.damaged.length - 10} more`);
  }
  ctx.stdout(`${out.join('\n')}\n`);
}

/** What to do when (almost) nothing could be read, from what the failures say. */
function unreadableHint(stats: RunResult, formatFields: number): string[] {
  const found = new Map<number, number>();
  for (const failure of stats.failures) {
    const count = /found (\d+)/.exec(failure.message)?.[1];
    if (count) found.set(Number(count), (found.get(Number(count)) ?? 0) + 1);
  }
  const common = [...found].sort((a, b) => b[1] - a[1])[0]?.[0];
  const out = [
    `nothing could be read: ${n(stats.failed)} of ${n(stats.records)} records failed (exit status 1; no cost estimate).`,
  ];
  if (common !== undefined && common !== formatFields) {
    out.push(
      `  lines have ${common} fields, the format has ${formatFields}: pass --format (the flow log's LogFormat) or use a file with its header line`,
    );
  } else {
    out.push("  check --format (the flow log's LogFormat) against the lines, or read the failures above");
  }
  return out;
}

function costSummary(
  stats: LocalRunStats,
  flags: RunFlags,
  ratios: { gzip: number; parquet: number },
): string[] {
  const perDayBytes = flags.perDayGb ? flags.perDayGb * 1024 ** 3 : stats.inputBytes;
  const storedRatio = stats.outputBytes ? stats.storedBytes / stats.outputBytes : 0;
  const costs = estimateMonthlyCost({
    inputBytesPerDay: perDayBytes,
    linesPerDay: stats.linesIn * (perDayBytes / stats.inputBytes),
    expansion: stats.inputBytes ? stats.outputBytes / stats.inputBytes : 1,
    storedRatio,
    format: flags.parquet ? 'parquet' : 'json',
    jsonGzipRatio: ratios.gzip,
    parquetRatio: ratios.parquet,
    msPerLine: steadyMsPerLine(stats.invocationTimes),
    memoryMb: flags.memoryMb ?? 1024,
    processorBufferMb: flags.bufferMb ?? DEFAULT_BUFFER_MB,
    // The template's defaults (ProcessorBufferIntervalSeconds, DeliveryBufferSizeMB and …IntervalSeconds).
    processorIntervalSeconds: 60,
    activePartitions: Math.max(1, Math.round(stats.partitions / Math.max(1, stats.hours))),
    deliveryBufferMb: 128,
    deliveryIntervalSeconds: 300,
    lifecycle: [30, 90, 365, 2555],
  });
  const total = costs.filter((c) => c.recurring).reduce((sum, c) => sum + c.monthlyUsd, 0);
  const out = [
    `cost per month on AWS if ${flags.perDayGb ? `${flags.perDayGb} GB` : 'this input'} were a day's traffic (${PRICES.region} prices as of ${PRICES.asOf}, sources in README):`,
  ];
  const usd = (value: number) =>
    `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  out.push(
    formatTable(
      ['item', 'per month', 'basis'],
      [
        ...costs.map((cost) => [cost.item, usd(cost.monthlyUsd), cost.basis]),
        ['total per month, first month of storage', usd(total), ''],
      ],
      { indent: '  ', header: false, footer: false, maxWidth: 120, align: ['left', 'right', 'left'] },
    ).trimEnd(),
  );
  return out;
}

function rank(severity: string): number {
  return ['none', 'info', 'warning', 'critical'].indexOf(severity);
}
