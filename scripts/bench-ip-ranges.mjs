// Measures the ip-ranges snapshot: cold-start cost of the bundled compact form against AWS's JSON, and the
// time per lookup. Usage: node scripts/bench-ip-ranges.mjs [--original FILE(.json|.json.gz)] [--runs N]
// (default original: the test fixture of 2026-08-22). Figures go to stdout as one JSON object.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    original: { type: 'string', default: `${root}test/fixtures/aws-ip-ranges-2026-08-22.json.gz` },
    runs: { type: 'string', default: '15' },
  },
});
const runs = Number(values.runs);
const raw = readFileSync(values.original);
const originalText = (values.original.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
const compactPath = `${root}data/ip-ranges.json`;
const dir = mkdtempSync(join(tmpdir(), 'bench-ip-ranges-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

try {
  writeFileSync(join(dir, 'original.json'), originalText);
  // What a cold start pays: evaluating a bundle (minified, as the handler's) that holds the data and builds
  // the index, in a fresh process each time.
  const variants = {
    // The module and an empty index: what the others cost beyond it is the data's.
    noData: 'const data = { prefixes: [] };',
    compactBundled: `import data from ${JSON.stringify(compactPath)};`,
    originalBundled: `import data from ${JSON.stringify(join(dir, 'original.json'))};`,
    originalFileParsed: `import { readFileSync } from 'node:fs'; const data = JSON.parse(readFileSync(${JSON.stringify(join(dir, 'original.json'))}, 'utf8'));`,
  };
  const cold = {};
  for (const [name, load] of Object.entries(variants)) {
    const entry = join(dir, `${name}.ts`);
    writeFileSync(
      entry,
      `const t0 = performance.now();\n${load}\nimport { createServiceIndex } from ${JSON.stringify(`${root}src/enrich/ip-ranges.ts`)};\nconst t1 = performance.now();\nconst index = createServiceIndex(data);\nconst t2 = performance.now();\nexport const times = { load: t1 - t0, index: t2 - t1, prefixes: index.prefixCount };\n`,
    );
    await build({
      entryPoints: [entry],
      outfile: join(dir, `${name}.mjs`),
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
    });
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const out = execFileSync(process.execPath, [
        '--input-type=module',
        '-e',
        `const t0 = performance.now(); const { times } = await import(${JSON.stringify(join(dir, `${name}.mjs`))}); console.log(JSON.stringify({ ...times, total: performance.now() - t0 }));`,
      ]);
      samples.push(JSON.parse(out.toString()));
    }
    cold[name] = {
      bundleBytes: statSync(join(dir, `${name}.mjs`)).size,
      // import: parse and evaluate the whole bundle, data included; index: createServiceIndex alone.
      // load: reading and JSON.parse of a file (zero for data inlined in the bundle, which V8 parses with it).
      loadMs: round(median(samples.map((s) => s.load))),
      importMs: round(median(samples.map((s) => s.total))),
      importMsBest: round(Math.min(...samples.map((s) => s.total))),
      indexMs: round(median(samples.map((s) => s.index))),
      indexMsBest: round(Math.min(...samples.map((s) => s.index))),
      prefixes: samples[0]?.prefixes,
    };
  }

  // Lookups, in this process, over addresses drawn from AWS's prefixes and uniformly.
  const { outputFiles } = await build({
    entryPoints: [`${root}src/enrich/ip-ranges.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
  });
  const ipRanges = await import(
    `data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString('base64')}`
  );
  const index = ipRanges.createServiceIndex(JSON.parse(readFileSync(compactPath, 'utf8')));
  const document = JSON.parse(originalText);
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const v4 = (text) => {
    const [a, len] = text.split('/');
    const n = a.split('.').reduce((x, y) => x * 256 + Number(y), 0);
    return n + Math.floor(random() * 2 ** (32 - Number(len)));
  };
  const v6 = (text) => {
    const [a, len] = text.split('/');
    const [head, tail = ''] = a.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    const n = groups.reduce((x, g) => (x << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
    const host = 128 - Number(len);
    return (
      n + ((BigInt(Math.floor(random() * 2 ** 30)) << BigInt(Math.max(0, host - 30))) % (1n << BigInt(host)))
    );
  };
  const N = 1 << 16;
  const pick = (list) => list[Math.floor(random() * list.length)];
  const sets = {
    ipv4InAws: Array.from({ length: N }, () => ({ v: 4, n: v4(pick(document.prefixes).ip_prefix) })),
    ipv4Uniform: Array.from({ length: N }, () => ({ v: 4, n: Math.floor(random() * 2 ** 32) })),
    ipv6InAws: Array.from({ length: N }, () => ({ v: 6, n: v6(pick(document.ipv6_prefixes).ipv6_prefix) })),
    ipv6Uniform: Array.from({ length: N }, () => ({
      v: 6,
      n: (BigInt(Math.floor(random() * 2 ** 32)) << 96n) | BigInt(Math.floor(random() * 2 ** 32)),
    })),
  };
  const lookups = {};
  for (const [name, addresses] of Object.entries(sets)) {
    let hits = 0;
    const samples = [];
    for (let round_ = 0; round_ < 25; round_++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < addresses.length; i++) if (index.match(addresses[i]) !== undefined) hits++;
      samples.push(Number(process.hrtime.bigint() - t0) / addresses.length);
    }
    lookups[name] = {
      nsPerLookup: round(median(samples.slice(5)), 1),
      nsPerLookupBest: round(Math.min(...samples), 1),
      hitRate: round(hits / (25 * N), 3),
    };
  }

  const inProcess = {};
  const best = {};
  for (let i = 0, parse = [], compile = [], decode = []; i < runs; i++) {
    let t0 = performance.now();
    const parsed = JSON.parse(originalText);
    parse.push(performance.now() - t0);
    t0 = performance.now();
    ipRanges.compileIpRanges(parsed);
    compile.push(performance.now() - t0);
    t0 = performance.now();
    ipRanges.createServiceIndex(JSON.parse(readFileSync(compactPath, 'utf8')));
    decode.push(performance.now() - t0);
    Object.assign(inProcess, {
      jsonParseOriginalMs: round(median(parse)),
      compileOriginalMs: round(median(compile)),
      readParseDecodeCompactMs: round(median(decode)),
    });
    Object.assign(best, {
      jsonParseOriginalMs: round(Math.min(...parse)),
      compileOriginalMs: round(Math.min(...compile)),
      readParseDecodeCompactMs: round(Math.min(...decode)),
    });
  }

  console.log(
    JSON.stringify(
      {
        node: process.version,
        originalBytes: Buffer.byteLength(originalText),
        compactBytes: statSync(compactPath).size,
        coldStart: cold,
        warm: inProcess,
        warmBest: best,
        lookups,
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
