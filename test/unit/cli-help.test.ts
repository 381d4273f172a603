import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('flowlog-enrich help and version', () => {
  it.each(['invoke', 'run', 'query', 'report', 'redrive', 'inventory', 'generate', 'demo'])(
    '%s --help shows that command, its flags and an example, nothing else',
    async (command) => {
      // Act
      const { code, stdout } = await runCli([command, '--help']);

      // Assess
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage:\\n  flowlog-enrich ${command}\\b`));
      expect(stdout).toContain(`Example:\n  flowlog-enrich ${command}`);
      const commandsShown = stdout.match(/^ {2}flowlog-enrich \w+/gm) ?? [];
      expect(new Set(commandsShown.map((line) => line.trim()))).toStrictEqual(
        new Set([`flowlog-enrich ${command}`]),
      );
    },
  );

  it('help COMMAND is the same as COMMAND --help', async () => {
    expect((await runCli(['help', 'query'])).stdout).toBe((await runCli(['query', '--help'])).stdout);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toStrictEqual({
      code: 0,
      stdout: `flowlog-enrich ${version}\n`,
      stderr: '',
    });
  });

  it("a usage error prints one line and that command's usage, not all of them", async () => {
    const { code, stderr } = await runCli(['query', '--bogus']);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toMatch(/^flowlog-enrich: Unknown option '--bogus'/);
    expect(stderr).toContain('flowlog-enrich query');
    expect(stderr).not.toContain('flowlog-enrich run');
  });

  it('a configuration error is one line, without the usage', async () => {
    const { code, stderr } = await runCli(
      ['invoke', '--event', join(root, 'events', 'direct-default-format.json')],
      {
        MAX_LINE_LENGTH: 'many',
      },
    );
    expect(code).toBe(2);
    expect(stderr).toBe('flowlog-enrich: MAX_LINE_LENGTH: "many" is not a whole number\n');
  });

  it('the built CLI loads neither DuckDB nor the AWS SDK until a command needs them', () => {
    // Static imports of the entry and of the chunks it imports statically (dynamic import() chunks load later).
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
        const spec = match[1] as string;
        expect(spec, `${file} imports ${spec} statically`).not.toMatch(/^@duckdb\/|^@aws-sdk\//);
        if (spec.startsWith('.')) visit(join(dirname(file), spec));
      }
    };
    visit(join(root, 'dist', 'cli.js'));
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe('flowlog-enrich invoke output', () => {
  const sample = join(root, 'events', 'direct-default-format.json');

  it('--decode prints the JSON lines of the Ok records, one per line', async () => {
    // Act
    const plain = await runCli(['invoke', '--event', sample]);
    const decoded = await runCli(['invoke', '--event', sample, '--decode']);

    // Assess: the same lines as decoding the response by hand.
    const response = JSON.parse(plain.stdout) as { records: { result: string; data: string }[] };
    const expected = response.records
      .filter((r) => r.result === 'Ok')
      .flatMap((r) => Buffer.from(r.data, 'base64').toString('utf8').split('\n').filter(Boolean));
    expect(decoded.stdout.split('\n').filter(Boolean)).toStrictEqual(expected);
    for (const line of decoded.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('says when interfaces could not be looked up, why, and what to do', async () => {
    // Prepare: enrichment on, no inventory, no region and no credentials reachable.
    const env = { ENRICHMENT: 'ec2', AWS_REGION: '', AWS_DEFAULT_REGION: '', AWS_ACCESS_KEY_ID: '' };

    // Act
    const { stderr } = await runCli(['invoke', '--event', sample], env);

    // Assess
    expect(stderr).toMatch(
      /^enrichment: 0 enriched, 7 unavailable \(RegionMissing\), 0 not found, 0 skipped$/m,
    );
    expect(stderr).toContain('pass --inventory FILE');
    expect(stderr).toContain('pass --region R or set AWS_REGION');
  });

  it('says nothing about enrichment that was switched off', async () => {
    const { stderr } = await runCli(['invoke', '--event', sample]);
    expect(stderr).not.toContain('enrichment:');
  });
});
