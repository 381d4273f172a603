/**
 * `npm run bench`: measures the real transform on full Firehose batches against the floor of this
 * machine (the base64 decoding and encoding no implementation can avoid), plus output expansion, memory,
 * EC2 calls with a cold cache, cold start and bundle size. The last line is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { createEc2Inventory } from './aws/ec2-inventory.js';
import { loadConfig } from './config.js';
import type { InventoryDocument, RawNetworkInterface } from './enrich/ports.js';
import { createStaticInventory } from './enrich/static-inventory.js';
import type { Reingester } from './firehose/reingest.js';
import { ALL_FIELDS_FORMAT, DEFAULT_FORMAT } from './flowlog/fields.js';
import { parseFormat } from './flowlog/format.js';
import { createPipeline } from './pipeline.js';
import { renderLine } from './sample/generate.js';

const BATCH_BASE64_BYTES = 3_000_000;
const ENIS = 500;
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 60);
/**
 * Blocks of pairs per batch, each in a process of its own: the code V8 makes for a process, and where its
 * memory lands, move a batch's time by several per cent from one process to the next, so a figure is taken
 * over several of them.
 */
const BLOCKS = 5;
/** Unmeasured handler-and-floor pairs before a process's first measured one. */
const WARM_PAIRS = 30;
const root = fileURLToPath(new URL('..', import.meta.url));

/** A deterministic account with 500 interfaces over 10 subnets, and traffic between them and the internet. */
function fixture(seed: number) {
  let state = seed >>> 0;
  const rand = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const enis: RawNetworkInterface[] = [];
  for (let i = 0; i < ENIS; i++) {
    const subnet = i % 10;
    enis.push({
      NetworkInterfaceId: `eni-0${(0x100000 + i).toString(16).padStart(16, '0')}`,
      InterfaceType: i % 25 === 0 ? 'nat_gateway' : i % 17 === 0 ? 'lambda' : 'interface',
      Description: i % 13 === 0 ? 'ELB app/web/50dc6c495c0c9188' : 'Primary network interface',
      OwnerId: '123456789012',
      SubnetId: `subnet-0${subnet.toString(16).padStart(16, '0')}`,
      VpcId: 'vpc-0a1b2c3d4e5f60718',
      PrivateIpAddress: `10.0.${subnet}.${(i % 250) + 2}`,
      Groups: [{ GroupId: `sg-0${(i % 40).toString(16).padStart(16, '0')}` }],
      ...(i % 3 === 0 ? { Attachment: { InstanceId: `i-0${i.toString(16).padStart(16, '0')}` } } : {}),
      TagSet: [{ Key: 'Name', Value: `node-${i}` }],
    });
  }
  const inventory: InventoryDocument = {
    NetworkInterfaces: enis,
    Subnets: Array.from({ length: 10 }, (_, s) => ({
      SubnetId: `subnet-0${s.toString(16).padStart(16, '0')}`,
      VpcId: 'vpc-0a1b2c3d4e5f60718',
      AvailabilityZoneId: 'use1-az1',
      CidrBlock: `10.0.${s}.0/24`,
      Tags: [
        { Key: 'Name', Value: `subnet-${s}` },
        { Key: 'Tier', Value: ['web', 'app', 'database'][s % 3] as string },
      ],
    })),
    Vpcs: [
      { VpcId: 'vpc-0a1b2c3d4e5f60718', CidrBlock: '10.0.0.0/16', Tags: [{ Key: 'Name', Value: 'bench' }] },
    ],
    RouteTables: [],
    Reservations: [
      {
        Instances: enis
          .filter((e) => e.Attachment?.InstanceId)
          .map((e) => ({
            InstanceId: e.Attachment?.InstanceId as string,
            Tags: [
              { Key: 'Team', Value: 'bench' },
              { Key: 'Environment', Value: 'prod' },
            ],
          })),
      },
    ],
  };
  const publics = [
    '52.216.8.14',
    '54.231.192.40',
    '3.80.10.20',
    '13.32.4.5',
    '203.0.113.9',
    '198.51.100.7',
    '81.2.69.160',
    '2600:1f18::1',
  ];
  const flow = (n: number) => {
    const eni = enis[Math.floor(rand() * ENIS)] as RawNetworkInterface;
    const own = eni.PrivateIpAddress as string;
    const peer =
      rand() < 0.5
        ? `10.0.${Math.floor(rand() * 10)}.${2 + Math.floor(rand() * 250)}`
        : (publics[Math.floor(rand() * publics.length)] as string);
    const ingress = rand() < 0.5;
    const start = 1_795_420_800 + Math.floor(n / 50);
    const v6 = peer.includes(':');
    return {
      fields: {
        version: 5,
        'account-id': '123456789012',
        'interface-id': eni.NetworkInterfaceId as string,
        srcaddr: ingress ? peer : v6 ? '2600:1f18::10' : own,
        dstaddr: ingress ? (v6 ? '2600:1f18::10' : own) : peer,
        srcport: ingress ? 32768 + Math.floor(rand() * 28000) : 443,
        dstport: ingress
          ? ([443, 80, 22, 5432][Math.floor(rand() * 4)] as number)
          : 40000 + Math.floor(rand() * 20000),
        protocol: 6,
        packets: 1 + Math.floor(rand() * 200),
        bytes: 40 + Math.floor(rand() * 200000),
        start,
        end: start + 60,
        action: rand() < 0.9 ? 'ACCEPT' : 'REJECT',
        'log-status': 'OK',
        'vpc-id': eni.VpcId ?? null,
        'subnet-id': eni.SubnetId ?? null,
        'instance-id': eni.Attachment?.InstanceId ?? null,
        'tcp-flags': ingress ? 2 : 18,
        type: v6 ? 'IPv6' : 'IPv4',
        'pkt-srcaddr': ingress ? peer : own,
        'pkt-dstaddr': ingress ? own : peer,
        region: 'us-east-1',
        'az-id': 'use1-az1',
        'sublocation-type': null,
        'sublocation-id': null,
        'pkt-src-aws-service': null,
        'pkt-dst-aws-service': null,
        'flow-direction': ingress ? 'ingress' : 'egress',
        'traffic-path': ingress ? null : 1,
        'ecs-cluster-arn': null,
        'ecs-cluster-name': null,
        'ecs-container-instance-arn': null,
        'ecs-container-instance-id': null,
        'ecs-container-id': null,
        'ecs-second-container-id': null,
        'ecs-service-name': null,
        'ecs-task-definition-arn': null,
        'ecs-task-arn': null,
        'ecs-task-id': null,
        'reject-reason': null,
      },
    };
  };
  return { inventory, enis, flow };
}

function batch(
  format: string,
  seed: number,
  base64Bytes = BATCH_BASE64_BYTES,
): { event: FirehoseTransformationEvent; lines: number; inputBytes: number } {
  const { flow } = fixture(seed);
  const spec = parseFormat(format);
  const records: FirehoseTransformationEvent['records'] = [];
  let size = 0;
  let inputBytes = 0;
  for (let n = 0; size < base64Bytes; n++) {
    const line = `${renderLine(flow(n), spec)}\n`;
    const data = Buffer.from(line).toString('base64');
    records.push({
      recordId: `${String(n).padStart(56, '0')}`,
      approximateArrivalTimestamp: 1_795_420_860_000,
      data,
    });
    size += data.length;
    inputBytes += line.length;
  }
  const event: FirehoseTransformationEvent = {
    invocationId: 'bench',
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/bench',
    region: 'us-east-1',
    records,
  };
  return {
    // As the Lambda runtime hands it over: parsed from the invocation's JSON payload.
    event: JSON.parse(JSON.stringify(event)) as FirehoseTransformationEvent,
    lines: records.length,
    inputBytes,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** The batches measured: a full 3 MB batch of each format, and one of the template's 0.5 MB buffer. */
const BATCHES = {
  default: { name: 'default v2', format: DEFAULT_FORMAT, base64Bytes: BATCH_BASE64_BYTES },
  all: { name: 'all fields', format: ALL_FIELDS_FORMAT, base64Bytes: BATCH_BASE64_BYTES },
  // The template's default processor buffer (0.5 MB of data, ~0.67 MB of base64): everything fits one response.
  template: { name: 'default v2 @0.5 MB', format: DEFAULT_FORMAT, base64Bytes: 700_000 },
} as const;
type Which = keyof typeof BATCHES;

/** What measuring one batch gave, in one process: the pairs, and the facts of the batch and its answer. */
interface Measured {
  readonly name: string;
  readonly lines: number;
  readonly ok: number;
  readonly failed: number;
  readonly inputBase64Bytes: number;
  readonly inputBytes: number;
  readonly outputBytes: number;
  readonly okInputBytes: number;
  readonly responseBytes: number;
  readonly times: number[];
  readonly floors: number[];
  /** Each measured run's `context.phaseMs`. */
  readonly phaseRuns: Record<string, number>[];
  /** What the floor computed: kept, so that it cannot be optimized away. */
  readonly sink: number;
}

/**
 * One batch's pipeline and event, warmed up, with its floor prepared. `measure` runs handler and floor in
 * alternation; `measured` returns every pair measured so far.
 */
async function prepareFormat(which: Which) {
  const { name, format, base64Bytes } = BATCHES[which];
  const { inventory } = fixture(1);
  const config = loadConfig({
    FLOW_LOG_FORMAT: format,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  // Stands in for PutRecordBatch: what does not fit the response is re-ingested, as in Lambda.
  const reingester: Reingester = {
    reingest: async (_arn, records) => ({ accepted: records.map(() => true), calls: 1, retries: 0 }),
  };
  // Each measured run's summary says what its phases took (read after the runs, not during them).
  const summaries: string[] = [];
  let recording = false;
  const pipeline = await createPipeline({
    config,
    inventory: createStaticInventory(inventory),
    reingester,
    writeLine: (line) => {
      if (recording) summaries.push(line);
    },
  });
  const { event, lines, inputBytes } = batch(format, 7, base64Bytes);
  let response = await pipeline.transform(event); // warm-up: fills the cache, JIT
  // Enough runs for V8 to finish optimizing (the generated reader of a long format takes a while, on a
  // background thread that would otherwise compete with the first measured runs): a long-lived
  // container's steady state, which the measured runs are about.
  for (let i = 0; i < 15; i++) response = await pipeline.transform(event);
  // The floor: decode the input's base64 and encode output bytes exactly as large as the real output.
  const outputs = response.records.map((r) =>
    'data' in r && r.result === 'Ok' ? Buffer.from(r.data, 'base64') : Buffer.alloc(0),
  );
  const outputBytes = outputs.reduce((s, b) => s + b.length, 0);
  // Expansion over the records that came back Ok (the rest were re-ingested untouched).
  const okInputBytes = response.records.reduce(
    (sum, r, i) => sum + (r.result === 'Ok' ? Buffer.byteLength(event.records[i]?.data ?? '', 'base64') : 0),
    0,
  );
  const prepared = outputs.map((b) => Buffer.alloc(b.length, 0x61));
  let sink = 0;
  const floor = () => {
    for (const record of event.records) sink += Buffer.from(record.data, 'base64').length;
    for (const buffer of prepared) sink += buffer.toString('base64').length;
  };
  for (let i = 0; i < 3; i++) floor();
  const times: number[] = [];
  const floors: number[] = [];
  // Handler and floor alternate, so that both see the same state of a shared, noisy machine.
  let warm = false;
  async function measure(pairs: number) {
    // Unmeasured pairs first: in a new process the young generation has yet to grow to its size under
    // this load, and until it has, the floor's allocations (5 MB a run) collect more often and the floor
    // runs slower than it does in a container that has been running.
    for (let i = 0; i < (warm ? 2 : WARM_PAIRS); i++) {
      response = await pipeline.transform(event);
      floor();
    }
    warm = true;
    for (let i = 0; i < pairs; i++) {
      let t = performance.now();
      recording = true;
      response = await pipeline.transform(event);
      times.push(performance.now() - t);
      recording = false;
      t = performance.now();
      floor();
      floors.push(performance.now() - t);
    }
  }
  return { measure, measured };

  function measured(): Measured {
    return {
      name,
      lines,
      ok: response.records.filter((r) => r.result === 'Ok').length,
      failed: response.records.filter((r) => r.result === 'ProcessingFailed').length,
      inputBase64Bytes: event.records.reduce((s, r) => s + r.data.length, 0),
      inputBytes,
      outputBytes,
      okInputBytes,
      responseBytes: Buffer.byteLength(JSON.stringify(response)),
      times,
      floors,
      phaseRuns: phaseRuns(summaries),
      sink,
    };
  }
}

/** One batch's figures over every pair measured (in one process or several), printed as two lines. */
function summarize(parts: readonly Measured[]) {
  const last = parts[parts.length - 1] as Measured;
  const { name, lines, ok, outputBytes, okInputBytes } = last;
  if (last.failed > 0) console.error(`${name}: ${last.failed} valid records came back ProcessingFailed`);
  const times = parts.flatMap((part) => part.times);
  const floors = parts.flatMap((part) => part.floors);
  const batchMs = median(times);
  const floorMs = median(floors);
  const result = {
    ...last,
    batchMs,
    floorMs,
    // Each handler run is paired with the floor run right after it; the median of the pairs' ratios is
    // steadier than a ratio of medians when the machine's speed drifts during the run.
    ratio: median(times.map((t, i) => t / (floors[i] as number))),
    outputRatio: outputBytes / okInputBytes,
    // Each phase's median, ms.
    phases: phaseMedians(parts.flatMap((part) => part.phaseRuns)),
  };
  console.error(
    `${name.padEnd(12)} ${lines} lines, ${(result.inputBase64Bytes / 1e6).toFixed(2)} MB base64 in: ${batchMs.toFixed(1)} ms/batch (floor ${floorMs.toFixed(1)} ms, ×${result.ratio.toFixed(2)}), ` +
      `${Math.round(ok / (batchMs / 1000)).toLocaleString()} lines transformed/s, output ${result.outputRatio.toFixed(2)}× input, response ${(result.responseBytes / 1e6).toFixed(2)} MB (${ok} Ok, ${lines - ok} re-ingested)\n` +
      `${' '.repeat(12)} phases (median ms): ${Object.entries(result.phases)
        .map(([phase, ms]) => `${phase} ${ms.toFixed(2)}`)
        .join(', ')}`,
  );
  return result;
}

/** Each run's phase milliseconds, from its summary line. */
function phaseRuns(summaries: readonly string[]): Record<string, number>[] {
  return summaries.map(
    (line) => (JSON.parse(line) as { context: { phaseMs: Record<string, number> } }).context.phaseMs,
  );
}

/** Each phase's median milliseconds over the runs given. */
function phaseMedians(runs: readonly Record<string, number>[]): Record<string, number> {
  return Object.fromEntries(
    Object.keys(runs[0] ?? {}).map((phase) => [phase, median(runs.map((run) => run[phase] ?? 0))]),
  );
}

/**
 * Measures `pairs` pairs of one batch in a process of its own, as a Lambda container runs one
 * configuration: in one process with the other batches, the code they share (enrichment, detection, the
 * writer) would see the flow objects of both formats and run slower than any deployed function does.
 */
function measureInChild(which: Which, pairs: number): Measured {
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--measure', which, String(pairs)],
    {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (child.status !== 0) throw new Error(`measuring ${which} failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as Measured;
}

async function measureChild(which: string, pairs: number) {
  if (!(which in BATCHES)) throw new Error(`no batch ${which}`);
  const batch = await prepareFormat(which as Which);
  await batch.measure(pairs);
  process.stdout.write(JSON.stringify(batch.measured()));
}

/** EC2 calls with a cold cache: the real EC2 adapter over a stub client that answers from the fixture. */
async function coldCacheCalls() {
  const { inventory } = fixture(1);
  let calls = 0;
  const byFilter = (items: readonly object[], key: string, input: { Filters?: { Values?: string[] }[] }) => {
    const wanted = new Set(input.Filters?.[0]?.Values ?? []);
    return items.filter((item) => wanted.has((item as Record<string, string>)[key] as string));
  };
  const ec2 = {
    send: async (command: {
      constructor: { name: string };
      input: { Filters?: { Values?: string[] }[] };
    }) => {
      calls++;
      const name = command.constructor.name;
      if (name === 'DescribeNetworkInterfacesCommand')
        return {
          NetworkInterfaces: byFilter(inventory.NetworkInterfaces ?? [], 'NetworkInterfaceId', command.input),
        };
      if (name === 'DescribeSubnetsCommand')
        return { Subnets: byFilter(inventory.Subnets ?? [], 'SubnetId', command.input) };
      if (name === 'DescribeVpcsCommand')
        return { Vpcs: byFilter(inventory.Vpcs ?? [], 'VpcId', command.input) };
      if (name === 'DescribeRouteTablesCommand') return { RouteTables: [] };
      if (name === 'DescribeInstancesCommand')
        return {
          Reservations: [
            {
              Instances: byFilter(inventory.Reservations?.[0]?.Instances ?? [], 'InstanceId', command.input),
            },
          ],
        };
      throw new Error(`unexpected ${name}`);
    },
  };
  const sts = { send: async () => ({ Account: '123456789012' }) };
  const config = loadConfig({ FLOW_LOG_FORMAT: DEFAULT_FORMAT });
  const pipeline = await createPipeline({
    config,
    inventory: createEc2Inventory({ ec2: ec2 as never, sts: sts as never }),
    writeLine: () => {},
  });
  const { event } = batch(DEFAULT_FORMAT, 7);
  const distinct = new Set(event.records.map((r) => Buffer.from(r.data, 'base64').toString().split(' ')[2]))
    .size;
  await pipeline.transform(event);
  return { calls, distinctEnis: distinct };
}

/** Importing the bundled handler (indexes built, clients constructed, no network) vs an empty node. */
function coldStart() {
  const run = (args: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const child = spawnSync(process.execPath, args, {
        cwd: root,
        env: {
          ...process.env,
          AWS_REGION: 'us-east-1',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        encoding: 'utf8',
      });
      if (child.status !== 0) throw new Error(`cold start failed: ${child.stderr}`);
      times.push(performance.now() - t);
    }
    return median(times);
  };
  const empty = run(['-e', '']);
  const handler = run(['--input-type=module', '-e', "await import('./dist/handler.mjs')"]);
  return { emptyMs: empty, handlerMs: handler, importMs: handler - empty };
}

/**
 * Peak RSS of one process that builds the pipeline and transforms a full batch of one format (what a
 * Lambda container holds), measured in a child so the benchmark's own data does not count.
 */
function peakRss(format: 'default' | 'all'): number {
  // The same V8 flags as this process (npm run bench passes the template's NODE_OPTIONS).
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--rss', format],
    {
      cwd: root,
      env: {
        ...process.env,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      encoding: 'utf8',
    },
  );
  if (child.status !== 0) throw new Error(`rss child failed: ${child.stderr}`);
  return Number(child.stdout.trim());
}

async function rssChild(which: string) {
  const format = which === 'all' ? ALL_FIELDS_FORMAT : DEFAULT_FORMAT;
  const { inventory } = fixture(1);
  const reingester: Reingester = {
    reingest: async (_arn, records) => ({ accepted: records.map(() => true), calls: 1, retries: 0 }),
  };
  const pipeline = await createPipeline({
    config: loadConfig({ FLOW_LOG_FORMAT: format }),
    inventory: createStaticInventory(inventory),
    reingester,
    writeLine: () => {},
  });
  const { event } = batch(format, 7);
  for (let i = 0; i < 5; i++) await pipeline.transform(event);
  console.log(process.resourceUsage().maxRSS / 1024);
}

/**
 * Input of the `run` measurement: ~1 GB of default-format lines over 2,500 hours (env overrides). It takes
 * minutes; BENCH_RUN_MB=0 leaves it out.
 */
const RUN_INPUT_BYTES = Number(process.env.BENCH_RUN_MB ?? 1000) * 1e6;
const RUN_HOURS = Number(process.env.BENCH_RUN_HOURS ?? 2500);

/**
 * Peak RSS of `flowlog-enrich run` (the built CLI, as a user runs it) on a large input spread over many
 * hours, every hour's partition open at once: the lines take the hours in turn. Measured in a child whose
 * own `process.resourceUsage().maxRSS` is written at exit by a preloaded module (what /usr/bin/time
 * reports), so the benchmark's own memory does not count.
 */
function runPeakRss(): { inputMb: number; hours: number; lines: number; seconds: number; peakRssMb: number } {
  const scratch = mkdtempSync(join(tmpdir(), 'flowlog-bench-run-'));
  try {
    const { inventory, flow } = fixture(3);
    const spec = parseFormat(DEFAULT_FORMAT);
    const input = join(scratch, 'spread.log');
    const fd = openSync(input, 'w');
    const firstHour = 1_795_420_800;
    let bytes = 0;
    let lines = 0;
    let chunk: string[] = [];
    let chunkBytes = 0;
    while (bytes < RUN_INPUT_BYTES) {
      const generated = flow(lines);
      const start = firstHour + (lines % RUN_HOURS) * 3600 + (lines % 3000);
      const line = `${renderLine({ fields: { ...generated.fields, start, end: start + 60 } }, spec)}\n`;
      chunk.push(line);
      chunkBytes += line.length;
      bytes += line.length;
      lines++;
      if (chunkBytes >= 4 << 20) {
        writeSync(fd, chunk.join(''));
        chunk = [];
        chunkBytes = 0;
      }
    }
    writeSync(fd, chunk.join(''));
    closeSync(fd);
    writeFileSync(join(scratch, 'inventory.json'), JSON.stringify(inventory));
    const rssFile = join(scratch, 'maxrss');
    const preload = join(scratch, 'maxrss.mjs');
    writeFileSync(
      preload,
      `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`,
    );
    const started = performance.now();
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        preload,
        `${root}dist/cli.js`,
        'run',
        '--input',
        input,
        '--out',
        join(scratch, 'out'),
        '--inventory',
        join(scratch, 'inventory.json'),
        '--quiet',
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      },
    );
    const seconds = (performance.now() - started) / 1000;
    if (child.status !== 0) throw new Error(`run failed (${child.status ?? child.signal}): ${child.stderr}`);
    return {
      inputMb: bytes / 1e6,
      hours: RUN_HOURS,
      lines,
      seconds,
      peakRssMb: Number(readFileSync(rssFile, 'utf8')) / 1024,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function reportRun(run: ReturnType<typeof runPeakRss>): void {
  console.error(
    `run: ${run.inputMb.toFixed(0)} MB (${run.lines.toLocaleString()} lines) over ${run.hours} hours in ${run.seconds.toFixed(0)} s, peak RSS ${run.peakRssMb.toFixed(0)} MB`,
  );
}

async function main() {
  console.error(`node ${process.version}, ${process.arch}, ${REPETITIONS} repetitions, medians`);
  // BENCH_ONLY=run measures only the local run's peak RSS.
  if (process.env.BENCH_ONLY === 'run') {
    const run = runPeakRss();
    reportRun(run);
    console.log(
      JSON.stringify({ run_peak_rss_mb: Math.round(run.peakRssMb), run_input_mb: Math.round(run.inputMb) }),
    );
    return;
  }
  // BENCH_ONLY=default|all|template measures one batch, in this process (for profiling: node --cpu-prof).
  const only = process.env.BENCH_ONLY;
  if (only && !(only in BATCHES))
    throw new Error(`BENCH_ONLY must be run, ${Object.keys(BATCHES).join(', ')}`);
  const parts = new Map<Which, Measured[]>();
  if (only) {
    const batch = await prepareFormat(only as Which);
    for (let block = 0; block < BLOCKS; block++) await batch.measure(Math.ceil(REPETITIONS / BLOCKS));
    parts.set(only as Which, [batch.measured()]);
  } else {
    // Each batch in processes of its own (see measureInChild). The machine's speed drifts over seconds:
    // the batches take turns, a block of pairs at a time, so that a slow spell is shared by all of them
    // rather than falling on one batch's whole measurement.
    for (let block = 0; block < BLOCKS; block++) {
      for (const which of Object.keys(BATCHES) as Which[]) {
        parts.set(which, [
          ...(parts.get(which) ?? []),
          measureInChild(which, Math.ceil(REPETITIONS / BLOCKS)),
        ]);
      }
    }
  }
  const summarized = new Map([...parts].map(([which, measured]) => [which, summarize(measured)]));
  const formats = (['default', 'all'] as const).flatMap((which) => summarized.get(which) ?? []);
  const atTemplateBuffer = summarized.get('template');
  // BENCH_TRANSFORM_ONLY=1 stops here: a CPU profile of the transform alone (node --cpu-prof).
  if (process.env.BENCH_TRANSFORM_ONLY) return;
  const ec2 = await coldCacheCalls();
  console.error(
    `cold cache: ${ec2.calls} EC2 calls for a batch with ${ec2.distinctEnis} distinct interfaces`,
  );
  const cold = coldStart();
  const bundleKb = statSync(`${root}dist/handler.mjs`).size / 1024;
  console.error(
    `cold start: ${cold.handlerMs.toFixed(0)} ms to import the bundled handler vs ${cold.emptyMs.toFixed(0)} ms for node -e '' (+${cold.importMs.toFixed(0)} ms); bundle ${bundleKb.toFixed(0)} KiB`,
  );
  const peakRssMb = Math.max(peakRss('default'), peakRss('all'));
  console.error(`peak RSS of a process transforming full 3 MB batches: ${peakRssMb.toFixed(0)} MB`);
  const run = RUN_INPUT_BYTES > 0 ? runPeakRss() : undefined;
  if (run) reportRun(run);
  // Throughput counts the lines actually transformed (returned Ok), not those re-ingested untouched.
  const lines = formats.reduce((s, f) => s + f.ok, 0);
  const batchMs = formats.reduce((s, f) => s + f.batchMs, 0);
  const floorMs = formats.reduce((s, f) => s + f.floorMs, 0);
  const inputBase64 = formats.reduce((s, f) => s + f.inputBase64Bytes, 0);
  const summary = {
    lines_per_s: Math.round(lines / (batchMs / 1000)),
    mb_per_s: Number((inputBase64 / 1e6 / (batchMs / 1000)).toFixed(1)),
    // Both full batches together: each format's paired ratio, weighted by its floor.
    ratio_to_floor: Number((formats.reduce((s, f) => s + f.ratio * f.floorMs, 0) / floorMs).toFixed(2)),
    batch_ms: Number((batchMs / formats.length).toFixed(1)),
    peak_rss_mb: Math.round(peakRssMb),
    output_ratio: Number(
      (
        formats.reduce((s, f) => s + f.outputBytes, 0) / formats.reduce((s, f) => s + f.okInputBytes, 0)
      ).toFixed(2),
    ),
    output_ratio_default: Number((formats[0]?.outputRatio ?? 0).toFixed(2)),
    output_ratio_all_fields: Number((formats[1]?.outputRatio ?? 0).toFixed(2)),
    ratio_to_floor_default: Number((formats[0]?.ratio ?? 0).toFixed(2)),
    ratio_to_floor_all_fields: Number((formats[1]?.ratio ?? 0).toFixed(2)),
    ratio_to_floor_template_buffer: Number((atTemplateBuffer?.ratio ?? 0).toFixed(2)),
    ec2_calls_cold: ec2.calls,
    cold_start_ms: Math.round(cold.importMs),
    node_empty_ms: Math.round(cold.emptyMs),
    bundle_kb: Math.round(bundleKb),
    ...(run ? { run_peak_rss_mb: Math.round(run.peakRssMb), run_input_mb: Math.round(run.inputMb) } : {}),
  };
  console.log(JSON.stringify(summary));
}

if (process.argv[2] === '--rss') await rssChild(process.argv[3] ?? 'default');
else if (process.argv[2] === '--measure') await measureChild(process.argv[3] ?? '', Number(process.argv[4]));
else await main();
