import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Reingester } from '../../src/firehose/reingest.js';
import { createTransformer } from '../../src/transform.js';
import { cwlEnvelope, firehoseEvent, firehoseRecord } from '../helpers/events.js';

// Memory is bounded by what a batch decompresses to, not by what it weighs on the wire. Vitest runs each
// test file in its own process, so the peak RSS this file sees is this test's (plus the runner's own).

const LINE =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

describe('highly compressible CloudWatch Logs envelopes', () => {
  it('thirteen small envelopes that unpack to 8 MB each stay far below the function memory', async () => {
    // Prepare: as the review's reproduction, envelopes just under the 8 MiB cap, thirteen in one batch.
    // Repetitive lines, as a busy interface's are: 8 MB of them compress to a few dozen KB.
    const lines = Array.from({ length: 49_900 }, (_, i) => LINE.replace('4249', String(4000 + (i % 7))));
    const envelope = cwlEnvelope(lines);
    expect(gunzipSync(envelope).length).toBeGreaterThan(7_800_000);
    expect(gunzipSync(envelope).length).toBeLessThan(8 * 1024 * 1024);
    const records = Array.from({ length: 13 }, () => firehoseRecord(envelope));
    let reingested = 0;
    const reingester: Reingester = {
      async reingest(_arn, parts) {
        reingested += parts.length;
        return { accepted: parts.map(() => true), calls: 1, retries: 0 };
      },
    };
    const transform = createTransformer({
      config: loadConfig({ ENRICHMENT: 'off' }),
      reingester,
      report: () => {},
    });
    global.gc?.();
    const before = process.memoryUsage().rss;

    // Act
    const response = await transform(firehoseEvent(records));

    // Assess: every record answered (split into pieces or waiting untouched), and the peak stays bounded.
    const peak = process.resourceUsage().maxRSS * 1024;
    expect(response.records.map((r) => r.result)).toStrictEqual(Array(13).fill('Dropped'));
    expect(reingested).toBeGreaterThan(13);
    // Before: 894 MB RSS for this batch, and 199 MiB over the baseline with the admission this test was made
    // for. Now 132–147 MiB run alone, and up to 160.5 MiB in a full CI run on a busy machine (GC runs later
    // there): the bound sits between the two. The function has 1,024 MB by default; the target is 256 MB in all.
    expect(peak - before).toBeLessThan(176 * 1024 * 1024);
  }, 120_000);
});
