import { createBackfillWorker, type ObjectResult } from '../backfill/worker.js';
import type { InputProblem } from '../local/inputs.js';
import { LOCAL_LAMBDA_ARN, LOCAL_STREAM_ARN, type LocalRunStats } from '../local/local-firehose.js';
import { type CliContext, UsageError } from './context.js';
import type { RunFlags, RunResult } from './run.js';
import { s3Objects } from './s3-objects.js';
import { cliConfig, cliInventory, localPipelineFor } from './setup.js';

/** `s3://bucket/some/prefix` → bucket and prefix (a prefix that names a folder keeps its `/`). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  return slash === -1
    ? { bucket: rest, prefix: '' }
    : { bucket: rest.slice(0, slash), prefix: rest.slice(slash + 1) };
}

/**
 * `flowlog-enrich run --input s3://… --out s3://bucket/prefix`: every object under the inputs, one at a
 * time, through the backfill worker, the code the Step Functions worker Lambda runs. The objects land
 * under `<prefix>flowlogs/…` and `<prefix>errors/…` with the keys the worker gives them, so running it
 * again overwrites them.
 */
export async function runToS3(flags: RunFlags, ctx: CliContext): Promise<RunResult> {
  const local = flags.inputs.filter((input) => !input.startsWith('s3://'));
  if (local.length > 0)
    throw new UsageError(
      `run --out s3://… reads s3:// inputs only (the backfill worker's keys name the source object): ${local.join(', ')}`,
    );
  const target = parseS3Url(flags.out);
  if (target.bucket === '') throw new UsageError('--out s3:// needs a bucket name');
  const prefix = target.prefix === '' || target.prefix.endsWith('/') ? target.prefix : `${target.prefix}/`;
  const started = performance.now();
  const store = await s3Objects(flags, ctx.env);
  const baseConfig = cliConfig(flags, ctx.env);
  const inventory =
    baseConfig.enrichment.mode === 'off' ? undefined : cliInventory(flags, baseConfig, ctx.env);
  const worker = createBackfillWorker({
    store,
    region: flags.region ?? 'us-east-1',
    bufferBytes: Math.round((flags.bufferMb ?? 0.5) * 1024 * 1024),
    streamArn: LOCAL_STREAM_ARN,
    lambdaArn: LOCAL_LAMBDA_ARN,
    pipelineFor: localPipelineFor(flags, ctx.env, inventory),
  });
  const results: ObjectResult[] = [];
  for (const input of flags.inputs) {
    const source = parseS3Url(input);
    for (const object of await store.listDetailed(source.bucket, source.prefix)) {
      // Parquet too goes through the worker's own reader (hyparquet, ranged GETs), as in Lambda.
      const result = await worker.backfill(
        { bucket: source.bucket, key: object.key, lastModifiedMs: object.lastModifiedMs, size: object.size },
        { bucket: target.bucket, prefix },
      );
      results.push(result);
      for (const problem of result.damaged)
        ctx.stderr(`flowlog-enrich: ${problem.source}: ${problem.message}\n`);
    }
  }
  const result = summarize(results, `${prefix}flowlogs/`);
  if (!flags.quiet) {
    const seconds = (performance.now() - started) / 1000;
    ctx.stdout(
      `${result.linesIn.toLocaleString('en-US')} lines in ${results.length} objects → ${result.ok} Ok, ${result.failed} ProcessingFailed, ${result.dropped} Dropped in ${seconds.toFixed(1)} s\n` +
        `output: ${result.objectsWritten} GZIP JSON Lines objects under s3://${target.bucket}/${prefix}flowlogs/` +
        `${result.errorObjects ? `; failed records under s3://${target.bucket}/${prefix}errors/` : ''}\n`,
    );
  }
  return result;
}

/** The worker's per-object results as the RunResult `run` returns (the counts the CLI's exit status reads). */
function summarize(results: readonly ObjectResult[], dataPrefix: string): RunResult {
  const sum = (pick: (result: ObjectResult) => number) => results.reduce((n, r) => n + pick(r), 0);
  const written = results.flatMap((result) => result.written);
  const data = written.filter((key) => key.startsWith(dataPrefix));
  const damaged: InputProblem[] = results.flatMap((result) => result.damaged);
  const stats: LocalRunStats = {
    linesIn: sum((r) => r.lines),
    records: sum((r) => r.ok + r.dropped + r.failed),
    ok: sum((r) => r.ok),
    dropped: sum((r) => r.dropped),
    failed: sum((r) => r.failed),
    reingested: sum((r) => r.reingested),
    invocations: sum((r) => r.invocations),
    transformMs: 0,
    inputBytes: 0,
    outputBytes: 0,
    flowsOut: sum((r) => r.flows),
    bySeverity: {},
    byFlag: {},
    flaggedSources: new Map(),
    failures: [],
    objectsWritten: data.length,
    hours: 0,
    sample: [],
    storedBytes: 0,
    partitions: new Set(data.map((key) => key.slice(0, key.lastIndexOf('/')))).size,
    errorObjects: written.length - data.length,
    peakHeldBytes: 0,
    spilledBytes: 0,
    invocationTimes: [],
  };
  // Keys derive from the source objects: a re-run overwrites what an earlier one wrote for them.
  return {
    ...stats,
    damaged,
    skipped: [],
    unreadable: stats.failed > 0 && stats.ok <= stats.failed / 9,
    outputMode: 'replaced',
  };
}
