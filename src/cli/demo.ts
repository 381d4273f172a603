import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext } from './context.js';
import { generate } from './generate.js';
import { query } from './query.js';
import { report } from './report.js';
import { run } from './run.js';
import type { PipelineFlags } from './setup.js';

/**
 * `flowlog-enrich demo` (what `npm start` runs): generates an hour of three-tier traffic with attacks and
 * its inventory, runs the whole local pipeline over it, answers three of the stack's named queries, and
 * writes the HTML report (its path the last line of the output).
 */
export async function demo(flags: PipelineFlags & { out?: string }, ctx: CliContext): Promise<void> {
  const out = flags.out ?? 'out';
  const sampleDir = join(out, 'sample');
  mkdirSync(sampleDir, { recursive: true });
  const logFile = join(sampleDir, 'flowlogs.log.gz');
  const inventoryFile = join(sampleDir, 'inventory.json');
  ctx.stdout(
    '# 1. generate: one hour of a three-tier VPC (ALB, NAT, web/app/database, Lambda) with injected attacks\n',
  );
  generate(
    { minutes: 60, seed: 1, out: logFile, inventoryOut: inventoryFile },
    { ...ctx, stderr: (t) => ctx.stdout(`   ${t}`) },
  );
  ctx.stdout(`\n# 2. run: flowlog-enrich run --input ${logFile} --inventory ${inventoryFile} --out ${out}\n`);
  await run(
    { ...flags, inputs: [logFile], inventory: flags.inventory ?? inventoryFile, out, quiet: true },
    ctx,
  );
  for (const name of ['port-scans', 'flagged-flows', 'tier-matrix']) {
    ctx.stdout(`\n# 3. query: flowlog-enrich query ${name} --out ${out}\n`);
    await query({ name, out }, ctx);
  }
  ctx.stdout(
    `\nNext: \`npx flowlog-enrich query --out ${out}\` lists every named query; ` +
      '`npx flowlog-enrich invoke --event events/three-tier-attacks.json --inventory events/inventory.json` runs one Firehose event.\n',
  );
  // Last, so that the page's path is the last line of the output.
  ctx.stdout(`\n# 4. report: flowlog-enrich report --out ${out}\n`);
  await report({ out }, ctx);
}
