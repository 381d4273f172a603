import { writeFileSync } from 'node:fs';
import { createEc2Inventory } from '../aws/ec2-inventory.js';
import type { CliContext } from './context.js';
import { awsClientConfig, type PipelineFlags } from './setup.js';

/**
 * `flowlog-enrich inventory --out FILE`: every interface, subnet, VPC, route table and instance of the
 * account and region (all pages), in the `--inventory` shape, so a user can dump once and run offline.
 */
export async function dumpInventory(
  flags: Pick<PipelineFlags, 'region' | 'endpointUrl'> & { out: string },
  ctx: CliContext,
): Promise<void> {
  const inventory = createEc2Inventory({ clientConfig: awsClientConfig(flags, ctx.env) });
  const document = await inventory.dump();
  writeFileSync(flags.out, `${JSON.stringify(document, null, 2)}\n`);
  const instances = (document.Reservations ?? []).reduce((n, r) => n + (r.Instances?.length ?? 0), 0);
  ctx.stderr(
    `wrote ${flags.out}: ${document.NetworkInterfaces?.length ?? 0} interfaces, ${document.Subnets?.length ?? 0} subnets, ` +
      `${document.Vpcs?.length ?? 0} VPCs, ${document.RouteTables?.length ?? 0} route tables, ${instances} instances\n`,
  );
}
