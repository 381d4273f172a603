import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import type { CliContext } from './context.js';
import { buildPipeline, type PipelineFlags } from './setup.js';

/** The project root, whether running from src/ (tests) or dist/ (the bundled CLI). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      readFileSync(join(dir, 'package.json'));
      return dir;
    } catch {
      dir = dirname(dir);
    }
  }
  return process.cwd();
}

/**
 * `flowlog-enrich demo`: runs every bundled sample event through the real transform and prints, per event,
 * the records by result and a few decoded output lines.
 */
export async function demo(flags: PipelineFlags, ctx: CliContext): Promise<void> {
  const dir = join(projectRoot(), 'events');
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
  for (const file of files) {
    const event = JSON.parse(readFileSync(join(dir, file), 'utf8')) as FirehoseTransformationEvent & {
      _format?: string;
    };
    const errors: string[] = [];
    const quiet = { ...ctx, stderr: () => {} };
    const pipeline = await buildPipeline(
      { ...flags, ...(event._format ? { format: event._format } : {}) },
      quiet,
      {
        onRecordError: (index, error) => errors.push(`record ${index}: ${error.message}`),
      },
    );
    const response = await pipeline.transform(event);
    const counts = new Map<string, number>();
    for (const record of response.records) counts.set(record.result, (counts.get(record.result) ?? 0) + 1);
    ctx.stdout(
      `\n== ${file}: ${response.records.length} records → ${[...counts].map(([r, n]) => `${n} ${r}`).join(', ')}\n`,
    );
    let shown = 0;
    for (const record of response.records) {
      if (record.result !== 'Ok' || shown >= 3) continue;
      const lines = Buffer.from(record.data, 'base64').toString('utf8').trimEnd().split('\n');
      for (const line of lines.slice(0, 3 - shown)) {
        ctx.stdout(`   ${line}\n`);
        shown++;
      }
    }
    for (const error of errors.slice(0, 5)) ctx.stdout(`   ✗ ${error}\n`);
  }
}
