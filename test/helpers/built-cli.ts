import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '../..');

/**
 * The CLI bundled from the current sources, for tests that must run it as its own process (signals, peak
 * memory). Written under dist/ (ignored by git) so that node_modules and the project root resolve as for
 * the real bundle; `remove` deletes it.
 */
export async function buildCli(): Promise<{ readonly path: string; remove(): void }> {
  mkdirSync(join(root, 'dist'), { recursive: true });
  const dir = mkdtempSync(join(root, 'dist', 'test-cli-'));
  await build({
    entryPoints: [join(root, 'src/cli.ts')],
    outfile: join(dir, 'cli.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return { path: join(dir, 'cli.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
