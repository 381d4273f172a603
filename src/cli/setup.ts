import { FirehoseClient } from '@aws-sdk/client-firehose';
import { createFirehoseReingester } from '../aws/firehose-reingester.js';
import { type Config, type Env, loadConfig } from '../config.js';
import type { Reingester } from '../firehose/reingest.js';
import { createPipeline, type Pipeline, type PipelineOptions } from '../pipeline.js';
import type { CliContext } from './context.js';

/** Flags shared by every command that runs the transform. */
export interface PipelineFlags {
  readonly format?: string;
  readonly inventory?: string;
  readonly ipRanges?: string;
  readonly region?: string;
  readonly endpointUrl?: string;
}

/** The environment the handler would see, with the CLI's flags applied on top. */
export function cliEnv(flags: PipelineFlags, env: Env): Env {
  return {
    ...env,
    ...(flags.format ? { FLOW_LOG_FORMAT: flags.format } : {}),
    ...(flags.ipRanges ? { IP_RANGES_SOURCE: flags.ipRanges } : {}),
  };
}

export function cliConfig(flags: PipelineFlags, env: Env): Config {
  return loadConfig(cliEnv(flags, env));
}

/** AWS client settings from --region / --endpoint-url, applied to every client alike. */
export function awsClientConfig(flags: PipelineFlags): {
  region?: string;
  endpoint?: string;
} {
  return {
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.endpointUrl ? { endpoint: flags.endpointUrl } : {}),
  };
}

export async function buildPipeline(
  flags: PipelineFlags,
  ctx: CliContext,
  extras: {
    reingester?: Reingester;
    onRecordError?: PipelineOptions['onRecordError'];
    now?: () => number;
  } = {},
): Promise<Pipeline> {
  const env = cliEnv(flags, ctx.env);
  const config = loadConfig(env);
  const reingester =
    extras.reingester ?? createFirehoseReingester(new FirehoseClient({ ...awsClientConfig(flags) }));
  return createPipeline({
    config,
    env,
    reingester,
    writeLine: (line) => ctx.stderr(`${line}\n`),
    ...(extras.onRecordError ? { onRecordError: extras.onRecordError } : {}),
    ...(extras.now ? { now: extras.now } : {}),
  });
}
