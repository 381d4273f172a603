// Bundles the Lambda handler and the CLI with esbuild.
// The handler's options are the ones template.yaml's `Metadata: BuildMethod: esbuild` block gives
// `sam build` (test/unit/template.test.ts checks they agree).
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

// An ESM bundle that pulls CommonJS code (parts of the AWS SDK) needs `require`.
const REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export const HANDLER_OPTIONS = {
  entryPoints: ['src/handler.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  sourcemap: true,
  // module-first resolution roughly halves the SDK's import time.
  mainFields: ['module', 'main'],
  outExtension: { '.js': '.mjs' },
  banner: { js: REQUIRE_BANNER },
};

async function main() {
  mkdirSync(`${root}dist`, { recursive: true });
  await build({ ...HANDLER_OPTIONS, absWorkingDir: root, outdir: `${root}dist`, logLevel: 'warning' });
  // The CLI and the benchmark keep node_modules external: DuckDB is native and the S3 client stays out
  // of the Lambda bundle.
  await build({
    entryPoints: ['src/cli.ts', ...(existsSync(`${root}src/bench.ts`) ? ['src/bench.ts'] : [])],
    absWorkingDir: root,
    outdir: `${root}dist`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
