import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type Env, loadConfig } from '../../src/config.js';
import { createDetector } from '../../src/detect/detector.js';
import type { Detector } from '../../src/detect/types.js';
import type { Enricher } from '../../src/enrich/types.js';
import type { Reingester } from '../../src/firehose/reingest.js';
import type { TransformResponse } from '../../src/firehose/result.js';
import { communityHash } from '../../src/flowlog/community-id.js';
import { createFlowWriter } from '../../src/output/jsonl.js';
import { partitionKeys } from '../../src/output/partition.js';
import type { InvocationSummary } from '../../src/telemetry.js';
import { createTransformer, type TransformDeps } from '../../src/transform.js';
import { cwlEnvelope, decodeLines, firehoseEvent, firehoseRecord } from '../helpers/events.js';

// Fault injection: each phase of the transform throws in turn (a bug, not bad data). Whatever throws,
// every recordId comes back once, in order, and nothing is lost: flows go out without that stage's work,
// or the one record being written fails with its original bytes.

const LINE =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
const records = () => [
  firehoseRecord(`${LINE}\n`),
  firehoseRecord(`${LINE}\n${LINE}\n`),
  firehoseRecord(`${LINE}\n`),
];

function run(overrides: Partial<TransformDeps>, env: Env = {}) {
  const summaries: InvocationSummary[] = [];
  const config = loadConfig({ ENRICHMENT: 'off', ...env });
  const transform = createTransformer({
    config,
    detector: createDetector(config.detection),
    report: (summary) => summaries.push(summary),
    ...overrides,
  });
  return { transform, summaries };
}

function expectAllAnswered(inputs: ReturnType<typeof records>, response: TransformResponse) {
  expect(response.records.map((r) => r.recordId)).toStrictEqual(inputs.map((r) => r.recordId));
}

const boom = () => {
  throw new Error('injected fault');
};

describe('a phase that throws', () => {
  it.each([
    {
      phase: 'enrich',
      name: 'an enricher whose prepare rejects',
      deps: { enricher: { prepare: async () => boom() } as unknown as Enricher },
    },
    {
      phase: 'enrich',
      name: 'an enrichment batch whose enrichAll throws',
      deps: {
        enricher: {
          prepare: async () => ({ enrich: boom, enrichAll: boom, stats: {} }),
        } as unknown as Enricher,
      },
    },
    {
      phase: 'detect',
      name: 'a detector whose evaluate throws',
      deps: { detector: { evaluate: boom } as unknown as Detector },
    },
    {
      phase: 'commit',
      name: 'a detection batch whose commit throws',
      deps: {
        detector: {
          evaluate: (flows: unknown[]) => ({
            detections: flows.map(() => ({ flags: [], severity: 'none' })),
            suppressed: {},
            commit: boom,
          }),
        } as unknown as Detector,
      },
    },
  ])('$name: every flow still goes out Ok, and PhaseErrors_$phase counts it', async ({ phase, deps }) => {
    // Prepare
    const { transform, summaries } = run(deps);
    const inputs = records();

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess
    expectAllAnswered(inputs, response);
    expect(response.records.map((r) => r.result)).toStrictEqual(['Ok', 'Ok', 'Ok']);
    const lines = response.records.flatMap((r) => decodeLines(r.data));
    expect(lines.map((l) => l.srcport)).toStrictEqual([20641, 20641, 20641, 20641]);
    expect(summaries[0]?.counts[`PhaseErrors_${phase}`]).toBe(1);
  });

  it('a writer that throws on one record fails that record only, with its original bytes', async () => {
    // Prepare: the real writer, throwing for the flows of the second record (two lines with bytes 4249).
    const config = loadConfig({ ENRICHMENT: 'off' });
    const real = createFlowWriter(config.format, config.maxLineLength);
    let calls = 0;
    const { transform, summaries } = run({
      stages: {
        writeFlow: (...args) => {
          calls++;
          if (calls === 2) throw new Error('injected fault');
          return real(...args);
        },
      },
    });
    const inputs = records();

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess
    expectAllAnswered(inputs, response);
    expect(response.records.map((r) => r.result)).toStrictEqual(['Ok', 'ProcessingFailed', 'Ok']);
    expect(response.records[1]?.data).toBe(inputs[1]?.data);
    expect(decodeLines(response.records[0]?.data as string)).toHaveLength(1);
    expect(summaries[0]?.counts).toMatchObject({ RecordsOk: 2, RecordsFailed: 1, Failed_internal: 1 });
  });

  it('a Community ID hash that throws for one flow fails that flow’s record only', async () => {
    // Prepare: the real hash, throwing for the second record's flow (srcport 40000). The batch's pass
    // meets it first; then each record's write hashes its own flows again.
    const { transform, summaries } = run({
      stages: {
        communityHash: (srcaddr, dstaddr, protocol, srcport, dstport) => {
          if (srcport === 40000) throw new Error('injected fault');
          return communityHash(srcaddr, dstaddr, protocol, srcport, dstport);
        },
      },
    });
    const inputs = [
      firehoseRecord(`${LINE}\n`),
      firehoseRecord(`${LINE.replace('20641', '40000')}\n`),
      firehoseRecord(`${LINE}\n`),
    ];

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess
    expectAllAnswered(inputs, response);
    expect(response.records.map((r) => r.result)).toStrictEqual(['Ok', 'ProcessingFailed', 'Ok']);
    expect(response.records[1]?.data).toBe(inputs[1]?.data);
    for (const i of [0, 2]) {
      expect(decodeLines(response.records[i]?.data as string)[0]?.community_id).toBe(
        '1:78twGw5/iHs2/5/1899dIS6GfPc=',
      );
    }
    expect(summaries[0]?.counts).toMatchObject({ RecordsOk: 2, RecordsFailed: 1, Failed_internal: 1 });
  });

  it('partition keys that throw for one record fail that record only', async () => {
    // Prepare
    let calls = 0;
    const { transform } = run({
      stages: {
        partitionKeys: (...args) => {
          calls++;
          if (calls === 3) throw new Error('injected fault');
          return partitionKeys(...args);
        },
      },
    });
    const inputs = records();

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess
    expectAllAnswered(inputs, response);
    expect(response.records.map((r) => r.result)).toStrictEqual(['Ok', 'Ok', 'ProcessingFailed']);
    expect(response.records[2]?.data).toBe(inputs[2]?.data);
  });

  it('a re-ingester that throws leaves the deferred records ProcessingFailed, counted', async () => {
    // Prepare: a response limit that holds one record; the others must be re-ingested.
    const { transform, summaries } = run(
      { reingester: { reingest: async () => boom() } as unknown as Reingester },
      { RESPONSE_LIMIT_BYTES: '10000' },
    );
    const inputs = Array.from({ length: 30 }, () => firehoseRecord(`${LINE}\n`));

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess
    expect(response.records.map((r) => r.recordId)).toStrictEqual(inputs.map((r) => r.recordId));
    const results = response.records.map((r) => r.result);
    expect(results).toContain('Ok');
    expect(results).toContain('ProcessingFailed');
    expect(results).not.toContain('Dropped');
    expect(summaries[0]?.counts.PhaseErrors_reingest).toBe(1);
  });

  it('a report that throws still returns the response', async () => {
    // Prepare
    const { transform } = run({ report: boom });
    const inputs = records();

    // Act
    const response = await transform(firehoseEvent(inputs));

    // Assess
    expectAllAnswered(inputs, response);
    expect(response.records.map((r) => r.result)).toStrictEqual(['Ok', 'Ok', 'Ok']);
  });
});

describe('budgets from the time the invocation has left', () => {
  it('gives enrichment and re-ingestion deadlines inside the Lambda remaining time', async () => {
    // Prepare: 8 s left; the configured budgets (5 s, 20 s) would together exceed it.
    const deadlines: Record<string, number> = {};
    const started = 1_000_000;
    const { transform } = run(
      {
        now: () => started,
        enricher: {
          prepare: async (_flows: unknown, deadline: number) => {
            deadlines.enrich = deadline;
            return { enrich: () => undefined, enrichAll: () => [], stats: {} };
          },
        } as unknown as Enricher,
        reingester: {
          reingest: async (_arn: string, parts: readonly Uint8Array[], deadline: number) => {
            deadlines.reingest = deadline;
            return { accepted: parts.map(() => true), calls: 1, retries: 0 };
          },
        },
      },
      { RESPONSE_LIMIT_BYTES: '10000' },
    );
    const inputs = Array.from({ length: 30 }, () => firehoseRecord(`${LINE}\n`));

    // Act
    await transform(firehoseEvent(inputs), { getRemainingTimeInMillis: () => 8_000 });

    // Assess: both end before the invocation would time out, with a margin to answer.
    expect(deadlines.enrich).toBeLessThanOrEqual(started + 8_000 - 2_000);
    expect(deadlines.reingest).toBeLessThanOrEqual(started + 8_000 - 2_000);
    expect(deadlines.enrich).toBeLessThan(deadlines.reingest as number);
  });
});

describe('a split envelope only partly re-ingested', () => {
  it('fails with only the lines the stream did not accept, so a redrive sends nothing twice', async () => {
    // Prepare: an envelope too large for any response; the stream refuses its last piece.
    const lines = Array.from({ length: 40_000 }, (_, i) =>
      LINE.replace('20641', String(1024 + (i % 60_000))),
    );
    const input = firehoseRecord(cwlEnvelope(lines));
    const accepted: Buffer[] = [];
    const { transform } = run({
      reingester: {
        reingest: async (_arn: string, parts: readonly Uint8Array[]) => {
          const verdicts = parts.map((_, i) => i < parts.length - 1);
          parts.forEach((part, i) => {
            if (verdicts[i]) accepted.push(Buffer.from(part));
          });
          return { accepted: verdicts, calls: 1, retries: 0 };
        },
      },
    });

    // Act
    const response = await transform(firehoseEvent([input]));

    // Assess: the accepted pieces plus the failure's lines are every line, once.
    expect(response.records.map((r) => r.result)).toStrictEqual(['ProcessingFailed']);
    const messages = (data: Buffer) =>
      (JSON.parse(gunzipSync(data).toString()) as { logEvents: { message: string }[] }).logEvents.map(
        (e) => e.message,
      );
    const sent = accepted.flatMap(messages);
    const left = messages(Buffer.from(response.records[0]?.data as string, 'base64'));
    expect(sent.length).toBeGreaterThan(0);
    expect(left.length).toBeGreaterThan(0);
    expect([...sent, ...left]).toStrictEqual(lines);
  });
});
