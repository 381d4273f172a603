import type { Config, Env } from './config.js';
import type { Reingester } from './firehose/reingest.js';
import { formatSummary } from './telemetry.js';
import { createTransformer, type Transform } from './transform.js';

export interface PipelineOptions {
  readonly config: Config;
  readonly env: Env;
  readonly reingester?: Reingester;
  /** Where the summary (EMF) and start-up lines go: stdout in Lambda, stderr in the CLI. */
  readonly writeLine: (line: string) => void;
  readonly onRecordError?: Parameters<typeof createTransformer>[0]['onRecordError'];
  readonly now?: () => number;
}

export interface Pipeline {
  readonly transform: Transform;
}

/**
 * Wires the transform from configuration and injected edges; shared by the Lambda handler and the CLI so
 * that both run exactly the same code.
 */
export async function createPipeline(options: PipelineOptions): Promise<Pipeline> {
  const { config, writeLine } = options;
  const now = options.now ?? Date.now;
  if (config.format.unknown.length > 0) {
    // A field AWS added after this release must never break a running pipeline: pass it through, say so once.
    writeLine(
      JSON.stringify({
        level: 'WARN',
        message: 'log format has fields this version does not know; they pass through as strings',
        fields: config.format.unknown,
      }),
    );
  }
  const transform = createTransformer({
    config,
    ...(options.reingester ? { reingester: options.reingester } : {}),
    ...(options.onRecordError ? { onRecordError: options.onRecordError } : {}),
    now,
    report: (summary) => writeLine(formatSummary(config.metricsNamespace, summary, now())),
  });
  return { transform };
}
