import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const events = (name: string) => join(import.meta.dirname, '../../events', name);
const dir = mkdtempSync(join(tmpdir(), 'flowlog-sample-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const formatOf = (name: string) =>
  (JSON.parse(readFileSync(events(name), 'utf8')) as { _format: string })._format;

// The README says which command made each generated sample event: it must make exactly that file.
describe('the committed generated events are what the README commands write', () => {
  it.each([
    {
      event: 'three-tier-attacks.json',
      inventory: 'inventory.json',
      args: () => [
        '--seed',
        '7',
        '--minutes',
        '10',
        '--rate',
        '3',
        '--format',
        formatOf('three-tier-attacks.json'),
      ],
    },
    {
      event: 'tgw-hub-and-spoke.json',
      inventory: 'tgw-inventory.json',
      args: () => ['--scenario', 'tgw', '--minutes', '2', '--seed', '1', '--rate', '5'],
    },
  ])('$event and $inventory', async ({ event, inventory, args }) => {
    // Act
    const result = await runCli([
      'generate',
      ...args(),
      '--event-out',
      join(dir, event),
      '--inventory-out',
      join(dir, inventory),
    ]);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(dir, event), 'utf8')).toBe(readFileSync(events(event), 'utf8'));
    expect(readFileSync(join(dir, inventory), 'utf8')).toBe(readFileSync(events(inventory), 'utf8'));
  });
});
