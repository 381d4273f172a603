import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { DEFAULT_FORMAT, TGW_DEFAULT_FORMAT } from '../flowlog/fields.js';
import { parseFormat } from '../flowlog/format.js';
import { ACCOUNT, generateSample, REGION, renderLine } from '../sample/generate.js';
import { generateTgwSample, TGW_HUB_ACCOUNT, TGW_REGION } from '../sample/tgw.js';
import type { CliContext } from './context.js';

export interface GenerateFlags {
  readonly minutes: number;
  readonly seed: number;
  readonly format?: string;
  /** Flow-log file (as flow logs deliver to S3: a header line, then one record per line); `-` or absent: stdout. */
  readonly out?: string;
  readonly inventoryOut?: string;
  /** Also (or instead) write a Firehose transformation event, one line per record. */
  readonly eventOut?: string;
  readonly requestsPerMinute?: number;
  /** `three-tier` (default): VPC flow logs of one VPC; `tgw`: Transit Gateway flow logs of a hub and spokes. */
  readonly scenario?: 'three-tier' | 'tgw';
}

/**
 * `flowlog-enrich generate`: deterministic synthetic traffic for a three-tier VPC with injected attacks,
 * and the matching `--inventory` file.
 */
export function generate(flags: GenerateFlags, ctx: CliContext): { lines: number } {
  const tgw = flags.scenario === 'tgw';
  const format = parseFormat(flags.format ?? (tgw ? TGW_DEFAULT_FORMAT : DEFAULT_FORMAT));
  const sample = tgw
    ? generateTgwSample({
        minutes: flags.minutes,
        seed: flags.seed,
        ...(flags.requestsPerMinute ? { connectionsPerMinute: flags.requestsPerMinute } : {}),
      })
    : generateSample({
        minutes: flags.minutes,
        seed: flags.seed,
        ...(flags.requestsPerMinute ? { requestsPerMinute: flags.requestsPerMinute } : {}),
      });
  const [account, region] = tgw ? [TGW_HUB_ACCOUNT, TGW_REGION] : [ACCOUNT, REGION];
  const lines = sample.flows.map((flow) => renderLine(flow, format));
  const header = format.fields.map((field) => field.name).join(' ');
  const text = `${header}\n${lines.join('\n')}\n`;
  if (!flags.out || flags.out === '-') {
    if (!flags.eventOut) ctx.stdout(text);
  } else {
    writeFileSync(flags.out, flags.out.endsWith('.gz') ? gzipSync(text) : text);
  }
  if (flags.inventoryOut) writeFileSync(flags.inventoryOut, `${JSON.stringify(sample.inventory, null, 2)}\n`);
  if (flags.eventOut) {
    const event = {
      invocationId: `generated-${flags.seed}`,
      deliveryStreamArn: `arn:aws:firehose:${region}:${account}:deliverystream/flowlog-enrich`,
      region,
      ...(flags.format || tgw ? { _format: format.source } : {}),
      records: lines.map((line, index) => ({
        recordId: `${String(flags.seed).padStart(8, '0')}${String(index).padStart(12, '0')}`,
        approximateArrivalTimestamp:
          ((sample.flows[index]?.fields.end as number | null) ?? 0) * 1000 + 30_000,
        data: Buffer.from(`${line}\n`).toString('base64'),
      })),
    };
    writeFileSync(flags.eventOut, `${JSON.stringify(event, null, 1)}\n`);
  }
  const attacks = sample.flows.filter((flow) => flow.attack).length;
  ctx.stderr(
    `generated ${lines.length} flow-log lines (${attacks} from attacks) over ${flags.minutes} minutes` +
      `${flags.out && flags.out !== '-' ? ` → ${flags.out}` : ''}` +
      `${flags.inventoryOut ? `, inventory → ${flags.inventoryOut}` : ''}` +
      `${flags.eventOut ? `, Firehose event → ${flags.eventOut}` : ''}\n`,
  );
  return { lines: lines.length };
}
