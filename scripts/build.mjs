// Bundles the Lambda handler and the CLI with esbuild.
// `sam build` runs it too: template.yaml's `BuildMethod: makefile` runs the Makefile, whose `npm ci` runs
// `prepare` (this script) with HANDLER_TARGET set to the function's runtime (test/unit/template.test.ts
// checks the Makefile against the template's Runtime).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { sdkSchemaKeys } from './sdk-schema-keys.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

// An ESM bundle that pulls CommonJS code (parts of the AWS SDK) needs `require`.
const REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * The handler bundle's esbuild target: HANDLER_TARGET (`nodeNN`) when given — the Makefile gives the Lambda
 * runtime's, `node22` for `nodejs22.x` — else `node20`, so that the local bundle runs on this machine's Node.
 */
export function handlerTarget(env = process.env) {
  const target = env.HANDLER_TARGET ?? 'node20';
  if (!/^node\d+$/.test(target))
    throw new Error(`HANDLER_TARGET must be nodeNN (node22), not ${JSON.stringify(target)}`);
  return target;
}

export const HANDLER_OPTIONS = {
  entryPoints: ['src/handler.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: handlerTarget(),
  minify: true,
  sourcemap: true,
  // module-first resolution roughly halves the SDK's import time.
  mainFields: ['module', 'main'],
  outExtension: { '.js': '.mjs' },
  banner: { js: REQUIRE_BANNER },
  // Without it the bundle keeps every EC2 shape (see the plugin): +545 KiB and about +150 ms of cold start.
  plugins: [sdkSchemaKeys],
  // Lambda gives credentials in the environment: the rest of the SDK's default chain stays out of the bundle.
  alias: { '@aws-sdk/credential-provider-node': './src/aws/lambda-credentials.ts' },
};

/** Where the build writes the peer data (ASN, organisation, country): beside the handler's bundle. */
export const PEER_DATA_FILE = 'dist/peer-data.bin';

/**
 * Compiles the ip-location-db packages (devDependencies) into PEER_DATA_FILE, unless it is current.
 * scripts/peer-data.ts is TypeScript and shares its layout with src/enrich/peer-format.ts: bundle it, run it.
 */
export async function buildPeerDataFile() {
  const scratch = mkdtempSync(join(tmpdir(), 'peer-data-'));
  try {
    const outfile = join(scratch, 'peer-data.mjs');
    await build({
      entryPoints: [`${root}scripts/peer-data.ts`],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'warning',
    });
    const { buildPeerData } = await import(pathToFileURL(outfile).href);
    const result = buildPeerData(root, `${root}${PEER_DATA_FILE}`);
    if (result.written) {
      const mb = (result.bytes / 2 ** 20).toFixed(1);
      process.stderr.write(`${PEER_DATA_FILE}: ${mb} MiB, compiled in ${(result.ms / 1000).toFixed(1)} s\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main() {
  mkdirSync(`${root}dist`, { recursive: true });
  await build({ ...HANDLER_OPTIONS, absWorkingDir: root, outdir: `${root}dist`, logLevel: 'warning' });
  // The backfill worker: the same options, its own entry (it bundles the S3 client; the transform does not).
  await build({
    ...HANDLER_OPTIONS,
    entryPoints: ['src/backfill-handler.ts'],
    absWorkingDir: root,
    outdir: `${root}dist`,
    logLevel: 'warning',
  });
  await buildPeerDataFile();
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
    // Each command in its own chunk, loaded when it runs: `--help` does not load DuckDB or the AWS SDK.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
