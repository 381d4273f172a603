// Nanoseconds (CPU time) per communityId() call over a mix of flow-log tuples, beside the floor of SHA-1
// itself through node:crypto.
// Usage: node scripts/bench-community-id.mjs [calls]
import { createHash, hash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundled = await build({
  entryPoints: ['src/flowlog/community-id.ts'],
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  write: false,
});
const { communityId } = await import(
  `data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`
);

const CALLS = Number(process.argv[2] ?? 1_000_000);
/** As many connections as the memo has slots: their strings stay in cache, as a just-parsed record's do. */
const CONNECTIONS = 4096;

/** A deterministic mix of a VPC's TCP and UDP connections: 80% IPv4 (half of them internal), 20% IPv6. */
function connections() {
  let state = 7;
  const rand = (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state >>> 8) % n;
  };
  // Flat strings, as the record parser makes them (a template literal makes a rope, slower to read).
  const flat = (text) => Buffer.from(text, 'latin1').toString('latin1');
  const v4 = () => `10.${rand(4)}.${rand(256)}.${rand(256)}`;
  const ext = () => `${1 + rand(223)}.${rand(256)}.${rand(256)}.${rand(256)}`;
  const v6 = () =>
    `2600:1f18:${rand(65536).toString(16)}:${rand(65536).toString(16)}::${rand(65536).toString(16)}`;
  const out = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const internal = rand(2) === 0;
    const conn = (rand(5) ? [v4(), internal ? v4() : ext()] : [v6(), v6()]).map(flat);
    out.push({
      src: conn[0],
      dst: conn[1],
      protocol: rand(4) ? 6 : 17,
      client: rand(64000),
      server: 443,
      internal,
    });
  }
  return out;
}

/**
 * Records as flow logs have them: per connection one record each way, and for a connection between two
 * of the VPC's interfaces both interfaces log both ways (four records); within a batch they come close
 * together (here: 64 connections' requests, then their responses, then the other interfaces' records).
 */
function records(conns) {
  const out = [];
  for (let block = 0; block < conns.length; block += 64) {
    const group = conns.slice(block, block + 64);
    const internal = group.filter((c) => c.internal);
    for (const [list, reversed] of [
      [group, false],
      [group, true],
      [internal, false],
      [internal, true],
    ])
      for (const conn of list) out.push({ conn, reversed });
  }
  return out;
}

/** The client port moves on every pass over the data, so that a pass finds nothing the last one left. */
const clientPort = (conn, pass) => 1024 + ((conn.client + pass * 7919) % 64000);

/**
 * Best of five rounds, in CPU time (user + system) as well as wall time: on a shared machine the wall
 * time counts the moments another process had the core.
 */
function measure(name, fn) {
  for (let i = 0; i < 200_000; i++) fn(i); // warm up
  let wall = Number.POSITIVE_INFINITY;
  let cpu = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let round = 0; round < 5; round++) {
    const startCpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) sink += fn(i).length;
    wall = Math.min(wall, Number(process.hrtime.bigint() - start) / CALLS);
    const used = process.cpuUsage(startCpu);
    cpu = Math.min(cpu, ((used.user + used.system) * 1000) / CALLS);
  }
  console.log(
    `${name.padEnd(50)} ${cpu.toFixed(0).padStart(5)} ns/call CPU, ${wall.toFixed(0).padStart(5)} wall${sink ? '' : '!'}`,
  );
  return cpu;
}

const conns = connections();
const flowLog = records(conns);
const sixteen = Buffer.alloc(16, 7);
const results = {
  distinct: measure('communityId, every tuple new (no memo hits)', (i) => {
    const c = conns[i & (CONNECTIONS - 1)];
    return communityId(c.src, c.dst, c.protocol, clientPort(c, i >>> 12), c.server);
  }),
  flowLog: measure(
    `communityId, records as a VPC logs them (${(flowLog.length / CONNECTIONS).toFixed(2)} per tuple)`,
    (i) => {
      const { conn: c, reversed } = flowLog[i % flowLog.length];
      const port = clientPort(c, Math.floor(i / flowLog.length));
      return reversed
        ? communityId(c.dst, c.src, c.protocol, c.server, port)
        : communityId(c.src, c.dst, c.protocol, port, c.server);
    },
  ),
  sha1OneShot: measure('floor: crypto.hash sha1 of 16 bytes, base64', () => hash('sha1', sixteen, 'base64')),
  sha1CreateHash: measure('floor: createHash sha1 of 16 bytes, base64', () =>
    createHash('sha1').update(sixteen).digest('base64'),
  ),
};
console.log(JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v)]))));
