import { readFileSync } from 'node:fs';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { createEc2Inventory } from '../aws/ec2-inventory.js';
import { createFirehoseReingester } from '../aws/firehose-reingester.js';
import { type Config, type Env, loadConfig } from '../config.js';
import type { Inventory } from '../enrich/ports.js';
import { createStaticInventory, parseInventoryDocument } from '../enrich/static-inventory.js';
import type { Reingester } from '../firehose/reingest.js';
import { createPipeline, type Pipeline, type PipelineOptions } from '../pipeline.js';
import { type CliContext, UsageError } from './context.js';

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
  const inventory = config.enrichment.mode === 'off' ? undefined : cliInventory(flags, config);
  return createPipeline({
    config,
    env,
    reingester,
    ...(inventory ? { inventory } : {}),
    writeLine: (line) => ctx.stderr(`${line}\n`),
    ...(extras.onRecordError ? { onRecordError: extras.onRecordError } : {}),
    ...(extras.now ? { now: extras.now } : {}),
  });
}

/** `--inventory FILE` answers offline; without it, the EC2 API with the default credential chain. */
export function cliInventory(flags: PipelineFlags, config: Config): Inventory {
  if (flags.inventory) {
    let text: string;
    try {
      text = readFileSync(flags.inventory, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read inventory file ${flags.inventory}: ${(error as Error).message}`);
    }
    try {
      return createStaticInventory(parseInventoryDocument(text, flags.inventory));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return createEc2Inventory({
    clientConfig: awsClientConfig(flags),
    roles: config.enrichment.crossAccountRoles,
  });
}
