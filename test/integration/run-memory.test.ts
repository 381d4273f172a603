/**
 * `flowlog-enrich run` holds a bounded amount of output in memory however many partitions are open, and
 * writes the same objects as when it held everything.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { LocalFirehose } from '../../src/local/local-firehose.js';
import { createPipeline } from '../../src/pipeline.js';
import { buildCli } from '../helpers/built-cli.js';
import { runCli } from '../helpers/cli.js';
import { filesUnder, flowLine } from '../helpers/flow-lines.js';

const base = mkdtempSync(join(tmpdir(), 'flowlog-run-memory-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('run holds a bounded amount of output in memory', () => {
  const pipelineFor = (_format: unknown, reingester: never, onRecordError: never) =>
    createPipeline({
      config: loadConfig({ ENRICHMENT: 'off' }),
      reingester,
      onRecordError,
      writeLine: () => {},
    });

  /** Every object written under `out`, by path, with its lines. */
  function objectsUnder(out: string): Record<string, string[]> {
    return Object.fromEntries(
      filesUnder(out)
        .sort()
        .map((f) => [relative(out, f), gunzipSync(readFileSync(f)).toString().split('\n')]),
    );
  }

  it('writes the same objects, with the same lines in the same order, when it spills to disk', async () => {
    // Prepare: 6,000 lines over 300 hours, a line in 50 failing; small objects so that partitions fill several.
    const input = Array.from({ length: 6000 }, (_, n) =>
      n % 50 === 7 ? `not a flow log line ${n}` : flowLine(n, (n * 7) % 300),
    );
    async function runWith(memoryBytes: number) {
      const out = mkdtempSync(join(base, 'spill-'));
      const firehose = new LocalFirehose({
        outDir: out,
        bufferBytes: 20_000,
        objectBytes: 2_000,
        memoryBytes,
        region: 'us-east-1',
        runId: 'same',
        now: () => 1_795_392_000_000,
        pipelineFor: pipelineFor as never,
      });
      for (const [i, line] of input.entries())
        await firehose.put({ data: Buffer.from(`${line}\n`), source: 'spread.log', line: i + 1 });
      await firehose.close();
      return { objects: objectsUnder(out), stats: firehose.stats, out };
    }

    // Act: everything in memory (as before the bound), then at most 4 KiB in memory.
    const unbounded = await runWith(Number.POSITIVE_INFINITY);
    const bounded = await runWith(4096);

    // Assess
    expect(Object.keys(unbounded.objects).length).toBeGreaterThan(800);
    expect(Object.keys(unbounded.objects).some((k) => k.startsWith('errors/'))).toBe(true);
    expect(bounded.objects).toStrictEqual(unbounded.objects);
    expect(unbounded.stats.spilledBytes).toBe(0);
    expect(bounded.stats.spilledBytes).toBeGreaterThan(1_000_000);
    expect(bounded.stats.peakHeldBytes).toBeLessThanOrEqual(4096 + 1000);
    expect(readdirSync(bounded.out).sort()).toStrictEqual(['errors', 'flowlogs']);
  });

  it('keeps the peak RSS of a run over hundreds of open partitions bounded (a heap too small for its output)', async () => {
    // Prepare: ~30 MB of lines over 500 hours (~100 MB of JSON output, every partition open at once), run
    // with a 96 MiB heap: holding every partition's output in memory cannot fit; 32 MiB of it and the rest
    // in spill files does.
    const built = await buildCli();
    const dir = mkdtempSync(join(base, 'rss-'));
    try {
      const input = join(dir, 'spread.log');
      const chunk: string[] = [];
      for (let n = 0; n < 280_000; n++) chunk.push(flowLine(n, n % 500));
      writeFileSync(input, `${chunk.join('\n')}\n`);
      const rssFile = join(dir, 'maxrss');
      const preload = join(dir, 'maxrss.mjs');
      writeFileSync(
        preload,
        `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`,
      );

      // Act
      const child = spawnSync(
        process.execPath,
        [
          '--max-old-space-size=96',
          '--import',
          preload,
          built.path,
          'run',
          '--input',
          input,
          '--out',
          join(dir, 'out'),
          '--quiet',
        ],
        { env: { ...process.env, ENRICHMENT: 'off', TMPDIR: dir }, encoding: 'utf8' },
      );

      // Assess
      expect(child.status, child.stderr.slice(-2000)).toBe(0);
      expect(child.stdout).toContain('280,000 lines in');
      expect(Number(readFileSync(rssFile, 'utf8')) / 1024).toBeLessThan(512);
    } finally {
      built.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('streams a Parquet input while it writes Parquet objects, and every row arrives', async () => {
    // Prepare: 220,000 rows in one hour, so a 64 MiB object is written while the input is still being read
    // (a query on the connection that streams the input used to end that stream early, silently).
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const dir = mkdtempSync(join(base, 'parquet-'));
    const input = join(dir, 'flowlogs.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT 2 AS version, '123456789012' AS account_id, 'eni-1235b8ca123456789' AS interface_id,
         '10.0.' || (i % 7) || '.' || (i % 250) AS srcaddr, '52.94.1.1' AS dstaddr, 1024 + i % 60000 AS srcport,
         443 AS dstport, 6 AS protocol, 1 + i % 50 AS packets, 40 + i AS bytes, 1795392000 + i % 3000 AS start,
         1795392060 + i % 3000 AS "end", 'ACCEPT' AS action, 'OK' AS log_status
       FROM range(220000) t(i)) TO '${input}' (FORMAT parquet)`,
    );
    const out = join(dir, 'out');

    // Act
    const result = await runCli(['run', '--input', input, '--out', out, '--parquet', '--quiet']);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('220,000 lines in');
    const objects = filesUnder(join(out, 'flowlogs'));
    expect(objects.length).toBeGreaterThan(1);
    const reader = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT bytes)::INTEGER AS d FROM read_parquet('${join(out, 'flowlogs')}/**/*.parquet')`,
    );
    expect(reader.getRowObjectsJson()).toStrictEqual([{ n: 220_000, d: 220_000 }]);
    connection.closeSync();
    instance.closeSync();
  }, 120_000);
});
