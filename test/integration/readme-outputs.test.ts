import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBlocks, mask, regenerate } from '../../scripts/readme-outputs.mjs';
import { buildCli } from '../helpers/built-cli.js';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
let cli: Awaited<ReturnType<typeof buildCli>>;
beforeAll(async () => {
  cli = await buildCli();
}, 60_000);
afterAll(() => cli?.remove());

describe("README's command outputs", () => {
  it('name their commands: the quick start, two own queries, named queries, a decoded record', () => {
    const commands = findBlocks(readme).flatMap((block) => block.commands);
    expect(commands[0]).toBe('npm start');
    expect(commands.filter((c) => c.includes('--sql'))).toHaveLength(2);
    expect(commands.some((c) => c.includes('invoke') && c.includes('--decode'))).toBe(true);
  });

  it('are what the current code prints (npm run readme-outputs rewrites them)', () => {
    // Act: every command again, in one scratch folder, in README order.
    const fresh = regenerate(readme, cli.path);

    // Assess: equal but for durations, rates and what follows from them.
    expect(mask(fresh)).toBe(mask(readme));
  }, 180_000);

  it('masks only what varies between runs', () => {
    expect(
      mask('25,244 lines in (2.64 MB), 1.7 s; Lambda $0.01  10 GB-s at 12.9 µs/line, 43,200 invocations'),
    ).toBe('25,244 lines in (2.64 MB), # unit; Lambda $#  # unit at # unit, # invocations');
  });
});
