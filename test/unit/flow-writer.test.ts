import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/bytes/byte-writer.js';
import { NO_FINDINGS } from '../../src/detect/types.js';
import type { EniView } from '../../src/enrich/types.js';
import { DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { parseFormat } from '../../src/flowlog/format.js';
import { createLineParser } from '../../src/flowlog/parse.js';
import { createFlowWriter } from '../../src/output/jsonl.js';
import { enrichment } from '../helpers/enrichment.js';

const format = parseFormat(DEFAULT_FORMAT);
// https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html
const flow = createLineParser(format, { maxLineLength: 8192 })(
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
);

const view = (serial: number | undefined, tier: string): EniView => ({
  info: { interfaceId: 'eni-1235b8ca123456789', subnetTier: tier, eniType: 'interface' },
  ...(serial === undefined ? {} : { serial }),
});

function line(writer: ReturnType<typeof createFlowWriter>, eni: EniView): Record<string, unknown> {
  const out = new ByteWriter(64);
  writer(out, flow, enrichment({ status: 'ok', eni }), NO_FINDINGS, undefined);
  return JSON.parse(out.toString()) as Record<string, unknown>;
}

describe('the flow writer', () => {
  it.each([
    { name: 'views whose serials share a slot', serials: [1, 4097, 1 + 2 * 4096] },
    { name: 'views with no serial', serials: [undefined, undefined, undefined] },
    { name: 'one serial on views made apart', serials: [7, 7, 7] },
  ])("writes each interface's own members for $name", ({ serials }) => {
    const writer = createFlowWriter(format);
    const views = serials.map((serial, i) => view(serial, ['web', 'app', 'database'][i] as string));
    // Alternating, so that each view finds the slot last filled by another.
    for (let round = 0; round < 3; round++) {
      for (const [i, eni] of views.entries()) {
        expect(line(writer, eni)).toMatchObject({
          subnet_tier: ['web', 'app', 'database'][i],
          enrichment_status: 'ok',
        });
      }
    }
  });
});
