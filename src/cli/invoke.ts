import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import type { TransformResponse } from '../firehose/result.js';
import { type CliContext, UsageError } from './context.js';
import { createFileReingester } from './file-reingester.js';
import { buildPipeline, type PipelineFlags } from './setup.js';

export interface InvokeFlags extends PipelineFlags {
  readonly event: string;
  readonly reingestFile?: string;
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
  const pipeline = await buildPipeline(flags, ctx, {
    ...(fileReingester ? { reingester: fileReingester } : {}),
    onRecordError: (index, error) => {
      errors.push(
        `record ${index} (${event.records[index]?.recordId ?? '?'}): ${error.reason}: ${error.message}`,
      );
    },
  });
  const response = await pipeline.transform(event);
  ctx.stdout(`${JSON.stringify(response)}\n`);

  const byResult = new Map<string, number>();
  for (const record of response.records) byResult.set(record.result, (byResult.get(record.result) ?? 0) + 1);
  const reingested = fileReingester?.written() ?? 0;
  ctx.stderr(
    `${response.records.length} records: ${[...byResult].map(([result, n]) => `${n} ${result}`).join(', ')}\n`,
  );
  for (const line of errors.slice(0, 20)) ctx.stderr(`  ${line}\n`);
  if (errors.length > 20) ctx.stderr(`  … and ${errors.length - 20} more failures\n`);
  if (reingested > 0) {
    ctx.stderr(`${reingested} records re-ingested to ${reingestFile} (a split envelope counts as two)\n`);
  }
  return { response, reingested, ...(reingestFile && reingested > 0 ? { reingestFile } : {}) };
}

function readEvent(path: string): FirehoseTransformationEvent {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read event file ${path}: ${(error as Error).message}`);
  }
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`event file ${path} is not JSON: ${(error as Error).message}`);
  }
  if (
    typeof event !== 'object' ||
    event === null ||
    !Array.isArray((event as { records?: unknown }).records)
  ) {
    throw new UsageError(`event file ${path} is not a Firehose transformation event (no "records" array)`);
  }
  return event as FirehoseTransformationEvent;
}
