/**
 * `flowlog-enrich run` leaves no staging folder under --out and no scratch folder in the temporary folder:
 * not when interrupted (SIGINT, SIGTERM), and what a killed run left is removed by the next.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCli } from '../helpers/built-cli.js';
import { runCli } from '../helpers/cli.js';
import { flowLine, flowLines } from '../helpers/flow-lines.js';

const base = mkdtempSync(join(tmpdir(), 'flowlog-run-cleanup-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('run leaves no staging or scratch folder behind', () => {
  let built: Awaited<ReturnType<typeof buildCli>>;
  beforeAll(async () => {
    built = await buildCli();
  });
  afterAll(() => built?.remove());
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /** The pid of a process that has ended. */
  function deadPid(): number {
    const child = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
    return child.pid as number;
  }

  it('removes what killed runs left (their pid is gone) and keeps a live run’s', async () => {
    // Prepare
    const scratch = mkdtempSync(join(base, 'tmp-'));
    vi.stubEnv('TMPDIR', scratch);
    const out = join(base, 'out-abandoned');
    const dead = deadPid();
    for (const name of [`.run-${dead}-AbC123`, '.run-XyZ789', `.run-${process.ppid}-live00`])
      mkdirSync(join(out, name, 'flowlogs'), { recursive: true });
    mkdirSync(join(scratch, `flowlog-enrich-run-${dead}-QwE456`));
    mkdirSync(join(scratch, `flowlog-enrich-run-${process.ppid}-live01`));
    const input = join(base, 'abandoned.log');
    writeFileSync(input, `${flowLines(0, 20).join('\n')}\n`);

    // Act
    const result = await runCli(['run', '--input', input, '--out', out, '--quiet']);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(out).sort()).toStrictEqual([`.run-${process.ppid}-live00`, 'flowlogs']);
    expect(readdirSync(scratch)).toStrictEqual([`flowlog-enrich-run-${process.ppid}-live01`]);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'interrupted by %s: removes both, dies of the signal',
    async (signal) => {
      // Prepare: enough input to be interrupted mid-way, a private temporary folder to look into.
      const scratch = mkdtempSync(join(base, `tmp-${signal}-`));
      const input = join(base, `signal-${signal}.log`);
      writeFileSync(input, `${Array.from({ length: 200_000 }, (_, n) => flowLine(n, n % 500)).join('\n')}\n`);
      const out = join(base, `out-${signal}`);
      const child = spawn(process.execPath, [built.path, 'run', '--input', input, '--out', out, '--quiet'], {
        env: { ...process.env, TMPDIR: scratch, ENRICHMENT: 'off' },
        stdio: 'ignore',
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, sig) => resolve({ code, signal: sig })),
      );
      // Both folders exist once the run is under way.
      for (let i = 0; i < 600; i++) {
        const staged = existsSync(out) && readdirSync(out).some((n) => n.startsWith('.run-'));
        if (staged && readdirSync(scratch).length > 0) break;
        await sleep(50);
      }
      expect(readdirSync(out).some((n) => n.startsWith('.run-'))).toBe(true);

      // Act
      child.kill(signal);
      const ended = await exited;

      // Assess
      expect(ended.signal).toBe(signal);
      expect(readdirSync(out)).toStrictEqual([]);
      expect(readdirSync(scratch)).toStrictEqual([]);
    },
  );
});
