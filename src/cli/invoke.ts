import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import type { TransformResponse } from '../firehose/result.js';
import type { CliContext } from './context.js';
import { createFileReingester } from './file-reingester.js';
import { InputFileError, readJsonFile } from './input-files.js';
import { buildPipeline, type PipelineFlags } from './setup.js';
import { formatNumber } from './table.js';

export interface InvokeFlags extends PipelineFlags {
  readonly event: string;
  readonly reingestFile?: string;
  /** Print the decoded JSON lines of the `Ok` records (jq-ready) instead of the Firehose response. */
  readonly decode?: boolean;
}

export interface InvokeResult {
  readonly response: TransformResponse;
  readonly reingestFile?: string;
  readonly reingested: number;
}

/**
 * `flowlog-enrich invoke`: runs the real handler code on a Firehose event file, as `sam local invoke -e`
 * would. Only the response goes to stdout (one line of compact JSON); logs and the summary go to stderr.
 */
export async function invoke(given: InvokeFlags, ctx: CliContext): Promise<InvokeResult> {
  let flags = given;
  const event = readEvent(flags.event);
  // Sample events may name their log format in `_format` (Firehose never sends it; the deployed function
  // reads FLOW_LOG_FORMAT). --format and FLOW_LOG_FORMAT still win.
  const hinted = (event as { _format?: unknown })._format;
  if (!flags.format && !ctx.env.FLOW_LOG_FORMAT && typeof hinted === 'string') {
    flags = { ...flags, format: hinted };
    ctx.stderr('using the log format given in the event file (_format)\n');
  }
  const reingestFile =
    flags.reingestFile ??
    (flags.endpointUrl
      ? undefined
      : join(tmpdir(), `flowlog-enrich-reingest-${process.pid}-${Date.now()}.jsonl`));
  const fileReingester = reingestFile ? createFileReingester(reingestFile) : undefined;
  const errors: string[] = [];
  // The summary line says which AWS errors made enrichment unavailable: kept for the enrichment line.
  let awsErrors: Record<string, number> = {};
  const watched: CliContext = {
    ...ctx,
    stderr: (text) => {
      if (text.includes('"flowlog-enrich invocation summary"')) {
        try {
          awsErrors =
            (JSON.parse(text) as { context?: { awsErrors?: Record<string, number> } }).context?.awsErrors ??
            {};
        } catch {
          // Not one JSON line: nothing to learn from it.
        }
      }
      ctx.stderr(text);
    },
  };
  const pipeline = await buildPipeline(flags, watched, {
    ...(fileReingester ? { reingester: fileReingester } : {}),
    onRecordError: (index, error) => {
      errors.push(
        `record ${index} (${event.records[index]?.recordId ?? '?'}): ${error.reason}: ${error.message}`,
      );
    },
  });
  const response = await pipeline.transform(event);
  const lines: string[] = [];
  for (const record of response.records) {
    if (record.result !== 'Ok') continue;
    const text = Buffer.from(record.data, 'base64').toString('utf8');
    for (const line of text.split('\n')) if (line !== '') lines.push(line);
  }
  ctx.stdout(flags.decode ? lines.map((line) => `${line}\n`).join('') : `${JSON.stringify(response)}\n`);

  const byResult = new Map<string, number>();
  for (const record of response.records) byResult.set(record.result, (byResult.get(record.result) ?? 0) + 1);
  const reingested = fileReingester?.written() ?? 0;
  ctx.stderr(
    `${response.records.length} records: ${[...byResult].map(([result, n]) => `${n} ${result}`).join(', ')}\n`,
  );
  const enrichment = enrichmentLine(lines, awsErrors);
  if (enrichment) ctx.stderr(enrichment);
  for (const line of errors.slice(0, 20)) ctx.stderr(`  ${line}\n`);
  if (errors.length > 20) ctx.stderr(`  … and ${errors.length - 20} more failures\n`);
  if (reingested > 0) {
    ctx.stderr(`${reingested} records re-ingested to ${reingestFile} (a split envelope counts as two)\n`);
  }
  return { response, reingested, ...(reingestFile && reingested > 0 ? { reingestFile } : {}) };
}

/**
 * How enrichment went, in one line (and a hint when interfaces could not be looked up): without it, a run
 * without credentials reports every record Ok while every flow is `unavailable` and tier rules are blind.
 */
export function enrichmentLine(
  lines: readonly string[],
  awsErrors: Readonly<Record<string, number>>,
): string {
  const statuses = new Map<string, number>();
  for (const line of lines) {
    const status = /"enrichment_status":"([a-z_]+)"/.exec(line)?.[1] ?? 'none';
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  if (lines.length === 0 || (statuses.size === 1 && statuses.has('none'))) return '';
  const n = (status: string) => formatNumber(statuses.get(status) ?? 0);
  const reasons = Object.keys(awsErrors);
  const why = reasons.length > 0 ? ` (${reasons.join(', ')})` : '';
  let text = `enrichment: ${n('ok')} enriched, ${n('unavailable')} unavailable${why}, ${n('not_found')} not found, ${n('skipped')} skipped\n`;
  if ((statuses.get('unavailable') ?? 0) > 0) {
    if (reasons.includes('RegionMissing')) text += '  no AWS region: pass --region R or set AWS_REGION\n';
    text +=
      '  interfaces could not be looked up: pass --inventory FILE, or dump one where you have credentials with `flowlog-enrich inventory --out FILE`\n';
  }
  return text;
}

function readEvent(path: string): FirehoseTransformationEvent {
  const event = readJsonFile('--event', path);
  const problem = eventProblem(event);
  if (problem) throw new InputFileError('--event', path, problem);
  return event as FirehoseTransformationEvent;
}

/**
 * What keeps a parsed file from being a Firehose transformation event, or undefined: an object with a
 * `records` array of `{ recordId, data }` strings (data that is not base64 fails its record, as in Lambda).
 *
 * @example eventProblem({ Records: [] }) // 'not a Firehose transformation event (no records array)'
 */
export function eventProblem(value: unknown): string | undefined {
  const records = (value as { records?: unknown } | null)?.records;
  if (typeof value !== 'object' || value === null || !Array.isArray(records))
    return 'not a Firehose transformation event (no records array)';
  for (const [index, record] of records.entries()) {
    const { recordId, data } = (record ?? {}) as { recordId?: unknown; data?: unknown };
    if (typeof recordId !== 'string') return `records[${index}] has no recordId string`;
    if (typeof data !== 'string') return `records[${index}] (${recordId}) has no data string`;
  }
  return undefined;
}
