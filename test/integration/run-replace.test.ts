import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** The flagged-flows query's flows per severity and source, as `query --json` prints them. */
async function flaggedFlows(out: string): Promise<Record<string, number>> {
  const { code, stdout } = await runCli(['query', 'flagged-flows', '--out', out, '--json']);
  expect(code).toBe(0);
  const rows = JSON.parse(stdout) as { severity: string; srcaddr: string; flows: number | string }[];
  return Object.fromEntries(rows.map((row) => [`${row.severity} ${row.srcaddr}`, Number(row.flows)]));
}

function doubled(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([key, n]) => [key, n * 2]));
}

describe('run and demo over an --out written before', () => {
  it('run replaces the previous output by default, and says so', async () => {
    // Prepare: ten minutes of sample traffic with attacks, its inventory, and a first run.
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-rerun-'));
    const input = join(dir, 'sample.log.gz');
    const inventory = join(dir, 'inventory.json');
    const out = join(dir, 'out');
    expect(
      (await runCli(['generate', '--minutes', '10', '--out', input, '--inventory-out', inventory])).code,
    ).toBe(0);
    const first = await runCli(['run', '--input', input, '--inventory', inventory, '--out', out, '-q']);
    expect(first.code).toBe(0);
    const once = await flaggedFlows(out);
    expect(Object.keys(once).length).toBeGreaterThan(0);

    // Act
    const second = await runCli(['run', '--input', input, '--inventory', inventory, '--out', out, '-q']);

    // Assess
    expect(second.code).toBe(0);
    expect(first.stdout).toContain(`output: new in ${out}`);
    expect(second.stdout).toContain(`output: replaced previous output in ${out}`);
    expect(await flaggedFlows(out)).toStrictEqual(once);
  });

  it('run --append adds to the previous output, and says so', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-append-'));
    const input = join(dir, 'sample.log.gz');
    const inventory = join(dir, 'inventory.json');
    const out = join(dir, 'out');
    await runCli(['generate', '--minutes', '10', '--out', input, '--inventory-out', inventory]);
    await runCli(['run', '--input', input, '--inventory', inventory, '--out', out, '-q']);
    const once = await flaggedFlows(out);

    // Act
    const second = await runCli([
      'run',
      '--input',
      input,
      '--inventory',
      inventory,
      '--out',
      out,
      '-q',
      '--append',
    ]);

    // Assess
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`output: appended to ${out}`);
    expect(await flaggedFlows(out)).toStrictEqual(doubled(once));
  });

  // One demo folder through three runs (each demo costs seconds): again, then again with --append.
  describe('demo, whose sample lives under --out', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'flowlog-demo-rerun-')), 'out');
    let once: Record<string, number>;

    it('twice shows the same counts as once', async () => {
      // Prepare
      expect((await runCli(['demo', '--out', out])).code).toBe(0);
      once = await flaggedFlows(out);
      expect(Object.keys(once).length).toBeGreaterThan(0);

      // Act
      const second = await runCli(['demo', '--out', out]);

      // Assess
      expect(second.code).toBe(0);
      expect(second.stdout).toContain(`replaced previous output in ${out}`);
      expect(await flaggedFlows(out)).toStrictEqual(once);
    });

    it('with --append adds a second copy of the sample to the previous output', async () => {
      // Act
      const third = await runCli(['demo', '--out', out, '--append']);

      // Assess
      expect(third.code).toBe(0);
      expect(third.stdout).toContain(`appended to ${out}`);
      expect(await flaggedFlows(out)).toStrictEqual(doubled(once));
    });
  });
});

describe('query prints a table', () => {
  it('with numbers in one format, and says how many rows were left out and how to see them', async () => {
    // Prepare: a run's output to query.
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-query-table-'));
    const input = join(dir, 'sample.log.gz');
    await runCli(['generate', '--minutes', '5', '--out', input]);
    await runCli(['run', '--input', input, '--out', join(dir, 'out'), '-q']);

    // Act
    const { code, stdout } = await runCli([
      'query',
      '--out',
      join(dir, 'out'),
      '--sql',
      'SELECT i AS n, i * 1000 AS bytes FROM range(25) t(i)',
    ]);

    // Assess
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toStrictEqual([' n   bytes', '--  ------', ' 0       0']);
    expect(lines[21]).toBe('19  19,000');
    expect(lines.at(-1)).toBe('… 5 more rows (20 of 25 shown; --json for all rows)');
  });
});
