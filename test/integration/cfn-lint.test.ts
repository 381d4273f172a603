import { spawnSync } from 'node:child_process';
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

// One cfn-lint process per configuration (each costs seconds of Python start-up): `--include-checks I` adds the
// informational checks (DeletionPolicy/UpdateReplacePolicy on stateful resources) to the errors and warnings.
describe.skipIf(!available)('cfn-lint', () => {
  it('passes template.yaml, SAM transform included, with no informational finding either', () => {
    // Exit status 8 would mean informational findings only; their text is the message.
    const run = spawnSync('cfn-lint', ['-t', 'template.yaml', '--include-checks', 'I'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 90_000); // cfn-lint takes ~4 s of CPU, several times that on a busy machine

  it('passes with every optional part on (backfill, fleet-wide detections, the Transit Gateway flow log)', () => {
    // cfn-lint resolves conditions from these values, so the optional resources are checked as deployed.
    const run = spawnSync(
      'cfn-lint',
      ['-t', 'template.yaml', '--include-checks', 'I', '--parameters', ...OPTIONAL_PARTS_ON],
      { cwd: root, encoding: 'utf8' },
    );
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 90_000);

  it('sees the optional parts when their parameters are on (the run above is not vacuous)', () => {
    // A resource under the TGW condition with a property cfn-lint rejects fails only when the condition holds.
    const text = readFileSync(join(root, 'template.yaml'), 'utf8');
    const broken = text.replace(/(\n {6}ResourceType: TransitGateway\n)/, '$1      NotAProperty: 1\n');
    expect(broken).not.toBe(text);
    const dir = mkdtempSync(join(tmpdir(), 'cfn-lint-tgw-'));
    const path = join(dir, 'template.yaml');
    writeFileSync(path, broken);
    const run = spawnSync('cfn-lint', ['-t', path, '--parameters', ...OPTIONAL_PARTS_ON], {
      encoding: 'utf8',
    });
    rmSync(dir, { recursive: true, force: true });
    expect(run.stdout).toContain('NotAProperty');
  }, 90_000);
});
