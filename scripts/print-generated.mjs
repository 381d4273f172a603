// Prints the code this project generates for a log format (the byte reader, the line scanner, the field
// writer) and for the detector's rule table (flow-rules, window-rules), as `new Function` receives it: to read it, diff it between formats, or step through it.
// Usage: npm run print-generated [-- --format '${version} ${srcaddr} …'] [--only byte-reader]
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function generatedFor(format) {
  const entry = `
    import { generatedSources } from './src/codegen.ts';
    import { DEFAULT_FORMAT } from './src/flowlog/fields.ts';
    import { parseFormat } from './src/flowlog/format.ts';
    import { createLineParser } from './src/flowlog/parse.ts';
    import { createRecordParser } from './src/flowlog/record.ts';
    import { createFlowWriter } from './src/output/jsonl.ts';
    import { loadConfig } from './src/config.ts';
    import { createDetector } from './src/detect/detector.ts';
    export function generate(source) {
      const spec = parseFormat(source ?? DEFAULT_FORMAT);
      createLineParser(spec, { maxLineLength: 8192 });
      createRecordParser(spec, { maxLineLength: 8192, maxDecompressedBytes: 1 << 20 });
      createFlowWriter(spec);
      createDetector(loadConfig({}).detection);
      return generatedSources();
    }`;
  const bundle = await build({
    stdin: { contents: entry, resolveDir: root, loader: 'ts', sourcefile: 'print-generated-entry.ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'error',
  });
  const module = await import(
    `data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`
  );
  return module.generate(format);
}

async function main() {
  const args = process.argv.slice(2);
  const at = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const only = at('--only');
  for (const { name, source } of await generatedFor(at('--format'))) {
    if (only && !name.startsWith(only)) continue;
    process.stdout.write(`// ── ${name} ──\n${source.replaceAll('; ', ';\n  ')}\n\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
