/**
 * `npm run bench:peer`: what the peer data costs. Cold start (a process that loads the file and answers one
 * lookup, against an empty `node`), the load alone, RSS, nanoseconds per lookup. Run after `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPeerDatabase } from '../src/enrich/peer.js';
import { parseIPv4 } from '../src/net/ip.js';

const file = fileURLToPath(new URL('./peer-data.bin', import.meta.url));

/** What a child reports when it is done, its CPU time and RSS since it started: the empty node's script. */
const REPORT =
  'const u = process.cpuUsage(); process.stdout.write(JSON.stringify({ cpu: (u.user + u.system) / 1000, ' +
  'rss: process.memoryUsage().rss }));';
const report = () => {
  const u = process.cpuUsage();
  process.stdout.write(JSON.stringify({ cpu: (u.user + u.system) / 1000, rss: process.memoryUsage().rss }));
};

if (process.argv[2] === '--load-only') {
  // The child measured for cold start: import, load, one answer.
  const peers = await loadPeerDatabase(file);
  if (peers.lookup('8.8.8.8')?.asn !== 15169) process.exit(1);
  report();
  process.exit(0);
}
if (process.argv[2] === '--every-row') {
  // The worst case for memory: every range looked up once, so every answer object exists.
  const gc = (globalThis as { gc?: () => void }).gc as () => void;
  const peers = await loadPeerDatabase(file);
  gc();
  const before = process.memoryUsage().rss;
  const bytes = readFileSync(file);
  const header = JSON.parse(bytes.toString('utf8', 16, 16 + bytes.readUInt32LE(12)));
  const view = <T>(name: string, Type: new (b: ArrayBufferLike, o: number, n: number) => T): T => {
    const [offset, count] = header.sections[name];
    return new Type(bytes.buffer, bytes.byteOffset + offset, count);
  };
  // Every range's start, rebuilt from the buckets (IPv6: every /64 entry; the finer /64s' insides aside).
  const v4Index = view('v4Index', Uint32Array);
  const v4Low = view('v4Low', Uint16Array);
  const v6Index = view('v6Index', Uint32Array);
  const v6Mid = view('v6Mid', Uint16Array);
  const v6Word1 = view('v6Word1', Uint32Array);
  let found = 0;
  for (let h = 0; h < 65536; h++) {
    for (let i = v4Index[h] as number; i < (v4Index[h + 1] as number); i++) {
      if (peers.lookupV4(h * 65536 + (v4Low[i] as number))) found++;
    }
    for (let i = v6Index[h] as number; i < (v6Index[h + 1] as number); i++) {
      const w1 = v6Word1[i] as number;
      const text = [h, v6Mid[i] as number, w1 >>> 16, w1 & 0xffff].map((g) => g.toString(16)).join(':');
      if (peers.lookup(`${text}::`)) found++;
    }
  }
  gc();
  process.stdout.write(
    JSON.stringify({ answered: found, rssAdded: process.memoryUsage().rss - before - bytes.length }),
  );
  process.exit(0);
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

// Cold start: alternate the two kinds of process so a busy spell of the machine hits both. Wall time as the
// parent sees it; CPU time and RSS as each child reports them (CPU time is what a busy machine disturbs least).
const runs = Number(process.env.RUNS ?? 15);
const samples = { empty: [] as Sample[], withPeers: [] as Sample[] };
interface Sample {
  wall: number;
  cpu: number;
  rss: number;
}
for (let i = 0; i < runs; i++) {
  for (const [args, into] of [
    [['-e', REPORT], samples.empty],
    [[fileURLToPath(import.meta.url), '--load-only'], samples.withPeers],
  ] as const) {
    const started = performance.now();
    const child = spawnSync(process.execPath, args, { encoding: 'utf8' });
    const wall = performance.now() - started;
    if (child.status !== 0) throw new Error(`${args.join(' ')} exited ${child.status}: ${child.stderr}`);
    into.push({ wall, ...(JSON.parse(child.stdout) as { cpu: number; rss: number }) });
  }
}
const coldStart = (key: keyof Sample) => {
  const empty = median(samples.empty.map((s) => s[key]));
  const withPeers = median(samples.withPeers.map((s) => s[key]));
  return key === 'rss'
    ? { emptyNode: mib(empty), withPeerData: mib(withPeers), added: mib(withPeers - empty) }
    : {
        emptyNode: Math.round(empty),
        withPeerData: Math.round(withPeers),
        added: Math.round(withPeers - empty),
      };
};
const everyRow = JSON.parse(
  spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--every-row'], {
    encoding: 'utf8',
  }).stdout,
) as { answered: number; rssAdded: number };

// The load alone, in this process.
const rssBefore = process.memoryUsage().rss;
const wall0 = performance.now();
const cpu0 = cpuMs();
const peers = await loadPeerDatabase(file);
const loadWall = performance.now() - wall0;
const loadCpu = cpuMs() - cpu0;
const rssLoaded = process.memoryUsage().rss;

// Lookups: random public-looking addresses, as text and as uint32.
const count = 1_000_000;
const v4 = new Uint32Array(count);
for (let i = 0; i < count; i++) v4[i] = (Math.random() * 2 ** 32) >>> 0;
const dotted = Array.from(v4.subarray(0, 200_000), (n) =>
  [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'),
);
const hex = (bits: number) => Math.floor(Math.random() * 2 ** bits).toString(16);
// Allocated IPv6 space: 2000::/4, random below.
const v6 = Array.from(
  { length: 200_000 },
  () => `2${hex(12).padStart(3, '0')}:${hex(16)}:${hex(16)}:${hex(16)}::${hex(16)}`,
);
const time = (n: number, body: () => number) => {
  const started = performance.now();
  const hits = body();
  return { ns: ((performance.now() - started) * 1e6) / n, hits };
};
const rounds: Record<string, number[]> = {
  lookupV4: [],
  'lookup(IPv4 text)': [],
  'parseIPv4 alone': [],
  'lookup(IPv6 text)': [],
};
for (let round = 0; round < 5; round++) {
  rounds.lookupV4?.push(
    time(count, () => {
      let hits = 0;
      for (let i = 0; i < count; i++) if (peers.lookupV4(v4[i] as number)) hits++;
      return hits;
    }).ns,
  );
  rounds['lookup(IPv4 text)']?.push(
    time(dotted.length, () => {
      let hits = 0;
      for (const text of dotted) if (peers.lookup(text)) hits++;
      return hits;
    }).ns,
  );
  rounds['parseIPv4 alone']?.push(
    time(dotted.length, () => {
      let hits = 0;
      for (const text of dotted) if (parseIPv4(text) >= 0) hits++;
      return hits;
    }).ns,
  );
  rounds['lookup(IPv6 text)']?.push(
    time(v6.length, () => {
      let hits = 0;
      for (const text of v6) if (peers.lookup(text)) hits++;
      return hits;
    }).ns,
  );
}
const rssTouched = process.memoryUsage().rss;

const noticeFile = file.replace(/\.bin$/, '.NOTICE.txt');
console.log(
  JSON.stringify(
    {
      file: { bytes: statSync(file).size, size: mib(statSync(file).size), notice: statSync(noticeFile).size },
      counts: peers.counts,
      data: { asn: peers.asnDate, country: peers.countryDate },
      coldStart: { runs, wallMs: coldStart('wall'), cpuMs: coldStart('cpu'), rss: coldStart('rss') },
      loadMs: { wall: Number(loadWall.toFixed(1)), cpu: Number(loadCpu.toFixed(1)) },
      rss: {
        addedByLoad: mib(rssLoaded - rssBefore),
        answersOfEveryRow: mib(everyRow.rssAdded),
        afterTheseLookups: mib(rssTouched - rssBefore),
      },
      nsPerLookup: Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, Math.round(median(v))])),
      headerBytes: readFileSync(file).readUInt32LE(12),
    },
    null,
    2,
  ),
);
