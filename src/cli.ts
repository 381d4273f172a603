import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AwsCallError } from './aws/timeouts.js';
import { type CliContext, CommandError, UsageError } from './cli/context.js';
import { ConfigError } from './errors.js';

// Each command's module is loaded when that command runs (DuckDB and the AWS SDK take a second to load):
// `--help` and `--version` answer at once.
const commands = {
  invoke: () => import('./cli/invoke.js'),
  run: () => import('./cli/run.js'),
  query: () => import('./cli/query.js'),
  redrive: () => import('./cli/redrive.js'),
  inventory: () => import('./cli/inventory.js'),
  generate: () => import('./cli/generate.js'),
  demo: () => import('./cli/demo.js'),
  report: () => import('./cli/report.js'),
};

const USAGE = `flowlog-enrich — enrich and flag AWS VPC Flow Logs (the Firehose transformation Lambda, run locally)

Usage:
  flowlog-enrich invoke --event FILE [--format STR] [--inventory FILE] [--ip-ranges FILE]
                        [--region R] [--endpoint-url URL] [--reingest-file FILE] [--decode]
      Run the real handler on a Firehose event (as sam local invoke -e would); the response goes to stdout,
      or with --decode the JSON lines of the Ok records, one per line (jq-ready).
  flowlog-enrich run --input PATH… [--out DIR] [--append] [--format STR] [--inventory FILE] [--ip-ranges FILE]
                     [--parquet] [--buffer-mb N] [--per-day GB] [--region R] [--endpoint-url URL]
      The whole pipeline locally: flow-log files (plain, .gz, S3 delivery files with their header, Parquet),
      directories, s3://bucket/prefix, - for stdin, or a tree of Firehose error records to replay; writes
      partitioned GZIP JSON Lines (or Parquet) like Firehose, failed records under errors/. Replaces what
      an earlier run wrote under --out (--append adds to it instead). With --out s3://bucket/prefix (and
      s3:// inputs): the backfill worker, writing the objects it writes.
  flowlog-enrich query [NAME | --sql SQL] [--out DIR] [--today YYYY-MM-DD] [--since 15m [--until ISO]] [--json]
      Run a named Athena query (or SQL) with DuckDB over what run wrote; without NAME, list the queries.
  flowlog-enrich report [--out DIR] [--file report.html] [--from TIME] [--to TIME]
      One self-contained HTML page (opens from disk, no network) of charts and tables over what run wrote:
      traffic over time, tier matrix, top talkers, flagged flows, AWS services and peers, the run's health.
      TIME is YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC); the page is DIR/report.html unless --file says.
  flowlog-enrich redrive --bucket B --prefix P --stream S [--dry-run] [--delete-sent] [--region R] [--endpoint-url URL]
      Put the original data of Firehose error records (s3://B/P…) back into stream S (after fixing the format).
  flowlog-enrich inventory --out FILE [--region R] [--endpoint-url URL]
      Dump the account's interfaces, subnets, VPCs, route tables and instances for --inventory (offline runs).
  flowlog-enrich generate [--minutes N] [--seed S] [--format STR] [--out FILE] [--inventory-out FILE]
                          [--event-out FILE] [--rate N] [--scenario three-tier|tgw]
      Deterministic synthetic traffic for a three-tier VPC with injected attacks (or, with --scenario tgw,
      Transit Gateway flow logs of a hub-and-spoke network), and its inventory file.
  flowlog-enrich demo [--out DIR] [--append]
      What npm start runs: generate an hour of sample traffic, run the local pipeline, answer three queries,
      write the report (its path is the last line). Replaces what an earlier run wrote under --out
      (--append adds to it instead).

Configuration comes from the same environment variables as the Lambda (FLOW_LOG_FORMAT, …; see README).
`;

const COMMON = {
  format: { type: 'string' },
  inventory: { type: 'string' },
  'ip-ranges': { type: 'string' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function main(argv: readonly string[], ctx: CliContext): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'invoke': {
        const { values } = parseArgs({
          args: rest,
          options: {
            ...COMMON,
            event: { type: 'string', short: 'e' },
            'reingest-file': { type: 'string' },
            decode: { type: 'boolean' },
          },
          strict: true,
        });
        if (values.help) return help(ctx, command);
        if (!values.event) throw new UsageError('invoke needs --event FILE');
        const { invoke } = await commands.invoke();
        await invoke(
          {
            event: values.event,
            ...common(values),
            ...(values['reingest-file'] ? { reingestFile: values['reingest-file'] } : {}),
            ...(values.decode ? { decode: true } : {}),
          },
          ctx,
        );
        return 0;
      }
      case 'run': {
        const { values } = parseArgs({
          args: rest,
          options: {
            ...COMMON,
            input: { type: 'string', short: 'i', multiple: true },
            out: { type: 'string', default: 'out' },
            parquet: { type: 'boolean' },
            'buffer-mb': { type: 'string' },
            'per-day': { type: 'string' },
            quiet: { type: 'boolean', short: 'q' },
            append: { type: 'boolean' },
          },
          allowPositionals: true,
          strict: true,
        });
        if (values.help) return help(ctx, command);
        const { run } = await commands.run();
        const result = await run(
          {
            inputs: [...(values.input ?? [])],
            out: values.out,
            ...common(values),
            ...(values.parquet ? { parquet: true } : {}),
            ...(values['buffer-mb'] ? { bufferMb: positiveNumber(values['buffer-mb'], '--buffer-mb') } : {}),
            ...(values['per-day'] ? { perDayGb: positiveNumber(values['per-day'], '--per-day') } : {}),
            ...(values.quiet ? { quiet: true } : {}),
            ...(values.append ? { append: true } : {}),
          },
          ctx,
        );
        // Damaged inputs were read up to the damage and listed in the summary; the run did not see them whole.
        return result.damaged.length > 0 || result.unreadable ? 1 : 0;
      }
      case 'query': {
        const { values, positionals } = parseArgs({
          args: rest,
          options: {
            sql: { type: 'string' },
            out: { type: 'string', default: 'out' },
            today: { type: 'string' },
            json: { type: 'boolean' },
            since: { type: 'string' },
            until: { type: 'string' },
            help: { type: 'boolean', short: 'h' },
          },
          allowPositionals: true,
          strict: true,
        });
        if (values.help) return help(ctx, command);
        if (values.today && !/^\d{4}-\d{2}-\d{2}$/.test(values.today))
          throw new UsageError('--today must be YYYY-MM-DD');
        const { query } = await commands.query();
        await query(
          {
            out: values.out,
            ...(positionals[0] ? { name: positionals[0] } : {}),
            ...(values.sql ? { sql: values.sql } : {}),
            ...(values.today ? { today: values.today } : {}),
            ...(values.since ? { since: values.since } : {}),
            ...(values.until ? { until: values.until } : {}),
            ...(values.json ? { json: true } : {}),
          },
          ctx,
        );
        return 0;
      }
      case 'report': {
        const { values } = parseArgs({
          args: rest,
          options: {
            out: { type: 'string', default: 'out' },
            file: { type: 'string' },
            from: { type: 'string' },
            to: { type: 'string' },
            help: { type: 'boolean', short: 'h' },
          },
          strict: true,
        });
        if (values.help) return help(ctx, command);
        const { report } = await commands.report();
        await report(
          {
            out: values.out,
            ...(values.file ? { file: values.file } : {}),
            ...(values.from ? { from: values.from } : {}),
            ...(values.to ? { to: values.to } : {}),
          },
          ctx,
        );
        return 0;
      }
      case 'redrive': {
        const { values } = parseArgs({
          args: rest,
          options: {
            bucket: { type: 'string' },
            prefix: { type: 'string', default: 'errors/' },
            stream: { type: 'string' },
            'dry-run': { type: 'boolean' },
            'delete-sent': { type: 'boolean' },
            region: { type: 'string' },
            'endpoint-url': { type: 'string' },
            help: { type: 'boolean', short: 'h' },
          },
          strict: true,
        });
        if (values.help) return help(ctx, command);
        if (!values.bucket || !values.stream) throw new UsageError('redrive needs --bucket B and --stream S');
        const { redrive } = await commands.redrive();
        const result = await redrive(
          {
            bucket: values.bucket,
            prefix: values.prefix,
            stream: values.stream,
            ...(values['dry-run'] ? { dryRun: true } : {}),
            ...(values['delete-sent'] ? { deleteSent: true } : {}),
            ...common(values),
          },
          ctx,
        );
        return result.failed > 0 || result.damaged > 0 ? 1 : 0;
      }
      case 'inventory': {
        const { values } = parseArgs({
          args: rest,
          options: {
            out: { type: 'string' },
            region: { type: 'string' },
            'endpoint-url': { type: 'string' },
            help: { type: 'boolean', short: 'h' },
          },
          strict: true,
        });
        if (values.help) return help(ctx, command);
        if (!values.out) throw new UsageError('inventory needs --out FILE');
        const { dumpInventory } = await commands.inventory();
        await dumpInventory({ out: values.out, ...common(values) }, ctx);
        return 0;
      }
      case 'generate': {
        const { values } = parseArgs({
          args: rest,
          options: {
            minutes: { type: 'string', default: '60' },
            seed: { type: 'string', default: '1' },
            format: { type: 'string' },
            out: { type: 'string' },
            'inventory-out': { type: 'string' },
            'event-out': { type: 'string' },
            rate: { type: 'string' },
            scenario: { type: 'string', default: 'three-tier' },
            help: { type: 'boolean', short: 'h' },
          },
          strict: true,
        });
        if (values.help) return help(ctx, command);
        if (values.scenario !== 'three-tier' && values.scenario !== 'tgw') {
          throw new UsageError(
            `--scenario must be three-tier or tgw, not ${JSON.stringify(values.scenario)}`,
          );
        }
        const { generate } = await commands.generate();
        generate(
          {
            minutes: positiveInt(values.minutes, '--minutes'),
            seed: positiveInt(values.seed, '--seed'),
            ...(values.format ? { format: values.format } : {}),
            ...(values.out ? { out: values.out } : {}),
            ...(values['inventory-out'] ? { inventoryOut: values['inventory-out'] } : {}),
            ...(values['event-out'] ? { eventOut: values['event-out'] } : {}),
            ...(values.rate ? { requestsPerMinute: positiveInt(values.rate, '--rate') } : {}),
            scenario: values.scenario,
          },
          ctx,
        );
        return 0;
      }
      case 'demo': {
        const { values } = parseArgs({
          args: rest,
          options: { ...COMMON, out: { type: 'string', default: 'out' }, append: { type: 'boolean' } },
          strict: true,
        });
        if (values.help) return help(ctx, command);
        const { demo } = await commands.demo();
        await demo({ ...common(values), out: values.out, ...(values.append ? { append: true } : {}) }, ctx);
        return 0;
      }
      case undefined:
      case '--help':
      case '-h':
        return help(ctx);
      case 'help':
        return help(ctx, rest[0]);
      case '--version':
      case '-v':
        ctx.stdout(`flowlog-enrich ${version()}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof CommandError) {
      ctx.stderr(`flowlog-enrich: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof UsageError || isParseArgsError(error)) {
      // A usage error: the one line, then the usage of that command (all of them for an unknown one).
      const usage = command && command in SECTIONS ? usageOf(command) : USAGE;
      ctx.stderr(`flowlog-enrich: ${(error as Error).message}\n\n${usage}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      ctx.stderr(`flowlog-enrich: ${error.message}\n`);
      return 2;
    }
    if (error instanceof AwsCallError) {
      // An AWS endpoint that failed or did not answer: its one-line account, not a stack trace.
      ctx.stderr(`flowlog-enrich: ${error.message}\n`);
      return 1;
    }
    ctx.stderr(`flowlog-enrich: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}

function common(values: {
  format?: string | undefined;
  inventory?: string | undefined;
  'ip-ranges'?: string | undefined;
  region?: string | undefined;
  'endpoint-url'?: string | undefined;
}) {
  return {
    ...(values.format ? { format: values.format } : {}),
    ...(values.inventory ? { inventory: values.inventory } : {}),
    ...(values['ip-ranges'] ? { ipRanges: values['ip-ranges'] } : {}),
    ...(values.region ? { region: values.region } : {}),
    ...(values['endpoint-url'] ? { endpointUrl: values['endpoint-url'] } : {}),
  };
}

function positiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number`);
  return n;
}

function positiveInt(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`${flag} must be a positive whole number`);
  return Number(value);
}

function help(ctx: CliContext, command?: string): number {
  ctx.stdout(command && command in SECTIONS ? usageOf(command) : USAGE);
  return 0;
}

/** One command's lines of the usage, and an example. */
function usageOf(command: string): string {
  const lines = USAGE.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`  flowlog-enrich ${command}`));
  let end = start + 1;
  while (end < lines.length && lines[end]?.startsWith('   ') && !lines[end]?.startsWith('  flowlog-enrich'))
    end++;
  const example = SECTIONS[command as keyof typeof SECTIONS];
  return `Usage:\n${lines.slice(start, end).join('\n')}\n\nExample:\n  ${example}\n`;
}

const SECTIONS = {
  invoke: 'flowlog-enrich invoke --event events/direct-default-format.json --inventory events/inventory.json',
  run: 'flowlog-enrich run --input ~/flowlogs/ --out out --inventory inventory.json',
  query:
    'flowlog-enrich query --sql "select srcaddr, dstport, count(*) from flow_logs_v group by 1, 2 limit 10"',
  report: 'flowlog-enrich report --out out --from 2026-11-23T10:00 --to 2026-11-23T11:00',
  redrive:
    'flowlog-enrich redrive --bucket my-flowlogs --prefix errors/processing-failed/ --stream flowlog-enrich',
  inventory: 'flowlog-enrich inventory --out inventory.json --region us-east-1',
  generate: 'flowlog-enrich generate --minutes 10 --out sample.log --inventory-out inventory.json',
  demo: 'flowlog-enrich demo --out out',
} as const;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

// Run when executed (bin/flowlog-enrich.js or node dist/cli.js), not when imported by tests.
const entry = process.argv[1] ?? '';
if (/(?:cli\.js|flowlog-enrich(?:\.js)?)$/.test(entry)) {
  // The SDK warns on Node 20 that future releases need 22; that noise would hide real messages.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const code = await main(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
  // Exit once output is flushed: a hung AWS socket (an unreachable endpoint) must not keep the CLI alive.
  process.stdout.write('', () => process.exit(code));
}
