/**
 * The fleet-wide detections' SQL (queries/fleet-*.sql) in DuckDB over what two separate `run`s wrote: two
 * containers, each seeing half of a port scan and half of a brute force, both under their in-stream
 * thresholds. The fleet query, over both containers' objects in one table, finds them.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { filesUnder } from '../helpers/flow-lines.js';

/** 2026-11-23T10:00:00Z, and the scan's last flow ends ten minutes later. */
const T = 1_795_392_000 + 10 * 3600;
const SCANNER = '203.0.113.9';
const GUESSER = '198.51.100.77';

const flow = (src: string, dst: string, srcport: number, dstport: number, at: number, action = 'REJECT') =>
  `2 123456789012 eni-1235b8ca123456789 ${src} ${dst} ${srcport} ${dstport} 6 1 40 ${at} ${at + 30} ${action} OK`;

/** One container's share: 12 distinct ports scanned, 6 rejected SSH attempts, and ordinary traffic. */
const share = (ports: readonly number[], offset: number) => [
  ...ports.map((port, i) => flow(SCANNER, '10.0.1.5', 40_000 + i, port, T + offset + i * 10)),
  ...Array.from({ length: 6 }, (_, i) => flow(GUESSER, '10.0.1.6', 50_000 + i, 22, T + offset + i * 20)),
  ...Array.from({ length: 40 }, (_, i) =>
    flow('10.0.2.7', '52.94.0.9', 33_000 + i, 443, T + i * 5, 'ACCEPT'),
  ),
];

describe('fleet-wide detections over two containers', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'fleet-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const containers = ['a', 'b'].map((name) => join(scratch, name));
  const lake = join(scratch, 'lake');

  const flagsOf = (out: string) =>
    filesUnder(join(out, 'flowlogs'))
      .flatMap((file) => gunzipSync(readFileSync(file)).toString().trimEnd().split('\n'))
      .map((line) => JSON.parse(line) as { srcaddr: string; flags?: string[] })
      .filter((record) => record.srcaddr === SCANNER || record.srcaddr === GUESSER)
      .flatMap((record) => record.flags ?? []);

  const fleet = async (name: string, out: string, extra: string[] = []) => {
    const result = await runCli(['query', name, '--since', '15m', '--out', out, '--json', ...extra]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as Record<string, unknown>[];
  };

  it("misses the split scan in each container's in-stream flags", async () => {
    // Prepare
    const ports = Array.from(
      { length: 24 },
      (_, i) =>
        ([21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443][i % 12] as number) +
        Math.floor(i / 12) * 1000,
    );
    const halves = [ports.slice(0, 12), ports.slice(12)];
    // Act
    for (const [i, out] of containers.entries()) {
      const input = join(scratch, `container-${i}.log`);
      writeFileSync(input, `${share(halves[i] as number[], i * 5).join('\n')}\n`);
      const result = await runCli(['run', '--input', input, '--out', out, '--quiet']);
      expect(result.code).toBe(0);
    }
    const whole = join(scratch, 'one-container');
    const input = join(scratch, 'whole.log');
    writeFileSync(
      input,
      `${[...share(halves[0] as number[], 0), ...share(halves[1] as number[], 5)].join('\n')}\n`,
    );
    expect((await runCli(['run', '--input', input, '--out', whole, '--quiet'])).code).toBe(0);
    // Assess
    for (const out of containers) {
      expect(flagsOf(out)).not.toContain('port_scan');
      expect(flagsOf(out)).not.toContain('brute_force');
    }
    // The control: one container seeing all of it flags both (the halves are what keeps them unflagged).
    expect(flagsOf(whole)).toContain('port_scan');
    expect(flagsOf(whole)).toContain('brute_force');
  }, 120_000);

  it('finds nothing in either container alone (each half is under the threshold)', async () => {
    for (const out of containers) {
      expect(await fleet('fleet-port-scans', out)).toStrictEqual([]);
      expect(await fleet('fleet-brute-force', out)).toStrictEqual([]);
    }
  }, 60_000);

  it("finds the scan and the brute force across both containers' objects, with source, targets and counts", async () => {
    // Prepare: both containers deliver into one bucket (object names are unique per run).
    for (const out of containers)
      for (const file of filesUnder(join(out, 'flowlogs'))) {
        const target = join(lake, 'flowlogs', relative(join(out, 'flowlogs'), file));
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(file, target);
      }
    // Act
    const scans = await fleet('fleet-port-scans', lake);
    const guesses = await fleet('fleet-brute-force', lake);
    // Assess
    expect(scans).toStrictEqual([
      expect.objectContaining({ source: SCANNER, targets: 1, distinct_ports: 24, flows: 24 }),
    ]);
    expect(guesses).toStrictEqual([
      expect.objectContaining({ source: GUESSER, targets: 1, attempts: 12, distinct_ports: 1 }),
    ]);
  }, 60_000);

  it('looks only at its window: the same flows two hours before its end are not found', async () => {
    // Act
    const later = new Date((T + 2 * 3600) * 1000).toISOString();
    // Assess
    expect(await fleet('fleet-port-scans', lake, ['--until', later])).toStrictEqual([]);
    expect(await fleet('fleet-brute-force', lake, ['--until', later])).toStrictEqual([]);
  }, 60_000);
});
