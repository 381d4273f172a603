import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const available = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
if (!available && process.env.CI === 'true')
  throw new Error('cfn-lint is not installed: CI requires it (pip install cfn-lint)');
if (!available) console.warn('cfn-lint not found on PATH: skipping the template lint (CI would fail here)');

/** Parameter values that turn every optional part of the stack on. */
const OPTIONAL_PARTS_ON = [
  'EnableBackfill=true',
  'BackfillSourceBucket=my-flow-log-archive',
  'EnableFleetDetections=true',
  'TransitGatewayId=tgw-0123456789abcdef0',
];

describe.skipIf(!available)('cfn-lint', () => {
  it('passes template.yaml, SAM transform included', () => {
    const run = () => execFileSync('cfn-lint', ['template.yaml'], { cwd: root, encoding: 'utf8' });
    expect(run).not.toThrow();
  }, 90_000);

  it('passes with the optional parts on (backfill state machine and worker, fleet-wide detections)', () => {
    // cfn-lint resolves conditions from these values, so the optional resources are checked as deployed.
    const run = spawnSync(
      'cfn-lint',
      ['-t', 'template.yaml', '--include-checks', 'I', '--parameters', ...OPTIONAL_PARTS_ON],
      { cwd: root, encoding: 'utf8' },
    );
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 90_000);

  it('passes with the Transit Gateway flow log enabled (TransitGatewayId given)', () => {
    // Prepare: the template with a transit gateway id as the parameter's default, so every condition
    // that depends on it holds.
    const text = readFileSync(join(root, 'template.yaml'), 'utf8');
    const enabled = text.replace(
      /(\n {2}TransitGatewayId:\n {4}Type: String\n {4}Default: )''/,
      '$1tgw-0123456789abcdef0',
    );
    expect(enabled).not.toBe(text);
    const dir = mkdtempSync(join(tmpdir(), 'cfn-lint-tgw-'));
    const path = join(dir, 'template.yaml');
    writeFileSync(path, enabled);

    // Act
    const run = spawnSync('cfn-lint', [path], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });

    // Assess
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 90_000);

  it('has no informational finding either (DeletionPolicy/UpdateReplacePolicy on stateful resources)', () => {
    // Exit status 8 means informational findings only; their text is the message.
    const run = spawnSync('cfn-lint', ['-t', 'template.yaml', '--include-checks', 'I'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 90_000); // cfn-lint takes ~4 s of CPU, several times that on a busy machine
});
