import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { createEc2Inventory } from '../aws/ec2-inventory.js';
import { createFirehoseReingester } from '../aws/firehose-reingester.js';
import { AWS_REQUEST_HANDLER } from '../aws/timeouts.js';
import { type Config, type Env, loadConfig } from '../config.js';
import type { Inventory, InventoryDocument } from '../enrich/ports.js';
import { createStaticInventory } from '../enrich/static-inventory.js';
import { ConfigError } from '../errors.js';
import type { Reingester } from '../firehose/reingest.js';
import { createPipeline, type Pipeline, type PipelineOptions } from '../pipeline.js';
import { type CliContext, UsageError } from './context.js';
import { checkInventoryFile, checkIpRangesFile } from './input-files.js';
import { projectRoot } from './project-root.js';

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

/**
 * The files the flags name, checked for their shape once before any work (cliConfig runs once per format);
 * the inventory is read when the transform is built.
 */
export function checkFlagFiles(flags: PipelineFlags): void {
  if (flags.ipRanges && (flags.ipRanges.startsWith('https://') || existsSync(flags.ipRanges)))
    checkIpRangesFile(flags.ipRanges);
}

export function cliConfig(flags: PipelineFlags, env: Env): Config {
  if (flags.ipRanges && !flags.ipRanges.startsWith('https://') && !existsSync(flags.ipRanges)) {
    throw new UsageError(`--ip-ranges ${flags.ipRanges} does not exist`);
  }
  try {
    return loadConfig(cliEnv(flags, env));
  } catch (error) {
    // Name the flag the user typed rather than the variable it stands for.
    if (error instanceof ConfigError && error.variable === 'FLOW_LOG_FORMAT' && flags.format) {
      throw new UsageError(`--format: ${error.message.replace(/^FLOW_LOG_FORMAT: /, '')}`);
    }
    throw error;
  }
}

/**
 * AWS client settings from --region / --endpoint-url, applied to every client alike. Credentials and
 * `AWS_MAX_ATTEMPTS` given in the command's environment are passed on explicitly (the SDK would otherwise
 * read only process.env).
 */
export function awsClientConfig(
  flags: PipelineFlags,
  env: Env = {},
): {
  requestHandler: typeof AWS_REQUEST_HANDLER;
  region?: string;
  endpoint?: string;
  maxAttempts?: number;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
} {
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const maxAttempts = Number(env.AWS_MAX_ATTEMPTS);
  return {
    requestHandler: AWS_REQUEST_HANDLER,
    ...(region ? { region } : {}),
    ...(Number.isInteger(maxAttempts) && maxAttempts >= 1 ? { maxAttempts } : {}),
    ...(flags.endpointUrl ? { endpoint: flags.endpointUrl } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
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
  const config = cliConfig(flags, ctx.env);
  checkFlagFiles(flags);
  const reingester =
    extras.reingester ?? createFirehoseReingester(new FirehoseClient({ ...awsClientConfig(flags, ctx.env) }));
  const inventory = config.enrichment.mode === 'off' ? undefined : cliInventory(flags, config, ctx.env);
  return createPipeline({
    config,
    reingester,
    ...(inventory ? { inventory } : {}),
    writeLine: (line) => ctx.stderr(`${line}\n`),
    // `npm run build` compiles it; a checkout that was never built runs without the peer columns.
    ...(existsSync(PEER_DATA) ? { peerDataPath: PEER_DATA } : {}),
    ...(extras.onRecordError ? { onRecordError: extras.onRecordError } : {}),
    ...(extras.now ? { now: extras.now } : {}),
  });
}

/** `--inventory FILE` answers offline; without it, the EC2 API with the default credential chain. */
const PEER_DATA = join(projectRoot(), 'dist', 'peer-data.bin');

export function cliInventory(flags: PipelineFlags, config: Config, env: Env = {}): Inventory {
  if (flags.inventory) return createStaticInventory(checkInventoryFile(flags.inventory) as InventoryDocument);
  return createEc2Inventory({
    clientConfig: awsClientConfig(flags, env),
    roles: config.enrichment.crossAccountRoles,
  });
}

/**
 * The pipeline a local run builds for each input's format (`run`, and `run --out s3://` as the backfill worker
 * does): a file's own header (or Parquet columns) is its format unless --format says otherwise; no summary
 * lines (the run prints its own).
 */
export function localPipelineFor(flags: PipelineFlags, env: Env, inventory: Inventory | undefined) {
  return (
    format: string | undefined,
    reingester: Reingester,
    onRecordError: NonNullable<PipelineOptions['onRecordError']>,
  ): Promise<Pipeline> =>
    createPipeline({
      config: cliConfig({ ...flags, ...(format && !flags.format ? { format } : {}) }, env),
      ...(inventory ? { inventory } : {}),
      reingester,
      onRecordError,
      writeLine: () => {},
    });
}
