import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ALL_FIELDS_FORMAT, DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { ALL_FIELDS_LINE } from '../fixtures/aws-v5-example.js';
import { runCli } from '../helpers/cli.js';
import { decodeLines, firehoseEvent, firehoseRecord } from '../helpers/events.js';

const event = (name: string) => join(import.meta.dirname, '../../events', name);

describe('flowlog-enrich invoke', () => {
  it('prints only the Firehose response on stdout, as one line of JSON', async () => {
    const { code, stdout, stderr } = await runCli(['invoke', '--event', event('direct-default-format.json')]);
    expect(code).toBe(0);
    expect(stdout.endsWith('\n')).toBe(true);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    const response = JSON.parse(stdout) as { records: { result: string }[] };
    expect(response.records.map((r) => r.result)).toStrictEqual(Array(7).fill('Ok'));
    expect(stderr).toContain('7 records: 7 Ok');
    expect(stderr).toContain('"_aws"');
  });

  it('exits 0 with failures reported on stderr for a malformed mix', async () => {
    const { code, stdout, stderr } = await runCli(['invoke', '--event', event('malformed-mix.json')]);
    expect(code).toBe(0);
    const results = (JSON.parse(stdout) as { records: { result: string }[] }).records.map((r) => r.result);
    expect(results).toStrictEqual([
      'Ok',
      'Dropped',
      'ProcessingFailed',
      'ProcessingFailed',
      'ProcessingFailed',
      'ProcessingFailed',
      'ProcessingFailed',
      'ProcessingFailed',
      'ProcessingFailed',
      'Dropped',
      'Ok',
    ]);
    expect(stderr).toContain('field dstport (position 7): "80x" is not a non-negative integer');
  });

  it('takes the format from the event file when none is given', async () => {
    const { code, stdout, stderr } = await runCli(['invoke', '--event', event('direct-custom-format.json')]);
    expect(code).toBe(0);
    expect(stderr).toContain('using the log format given in the event file (_format)');
    expect(
      (JSON.parse(stdout) as { records: { result: string }[] }).records.map((r) => r.result),
    ).toStrictEqual(['Ok', 'Ok', 'Ok']);
  });

  it('applies --format', async () => {
    const format = (
      JSON.parse(readFileSync(event('direct-custom-format.json'), 'utf8')) as { _format: string }
    )._format;
    const { stdout } = await runCli([
      'invoke',
      '--event',
      event('direct-custom-format.json'),
      '--format',
      format,
    ]);
    expect(
      (JSON.parse(stdout) as { records: { result: string }[] }).records.map((r) => r.result),
    ).toStrictEqual(['Ok', 'Ok', 'Ok']);
  });

  it('writes records that do not fit the response to --reingest-file, as PutRecordBatch records', async () => {
    // Prepare: 60 records against a 10 kB response limit.
    const line = (i: number) =>
      `2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 ${20000 + i} 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n`;
    const eventFile = join(tmpdir(), `event-${process.pid}-${Date.now()}.json`);
    const lines = Array.from({ length: 60 }, (_, i) => line(i));
    writeFileSync(eventFile, JSON.stringify(firehoseEvent(lines.map((l) => firehoseRecord(l)))));
    const file = join(tmpdir(), `reingest-${process.pid}-${Date.now()}.jsonl`);

    // Act
    const { code, stdout, stderr } = await runCli(['invoke', '--event', eventFile, '--reingest-file', file], {
      RESPONSE_LIMIT_BYTES: '10000',
    });

    // Assess: every line is either in the response or in the file, once.
    expect(code).toBe(0);
    const records = (JSON.parse(stdout) as { records: { result: string; data?: string }[] }).records;
    const reingested = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { Data: string });
    expect(reingested.length).toBe(records.filter((r) => r.result === 'Dropped').length);
    expect(reingested.length).toBeGreaterThan(0);
    expect(stderr).toContain(`${reingested.length} records re-ingested to ${file}`);
    const okPorts = records
      .filter((r) => r.result === 'Ok')
      .map((r) => decodeLines(r.data ?? '')[0]?.srcport);
    const reingestedPorts = reingested.map((r) =>
      Number(Buffer.from(r.Data, 'base64').toString().split(' ')[5]),
    );
    expect([...okPorts, ...reingestedPorts].sort()).toStrictEqual(lines.map((_, i) => 20000 + i).sort());
  });

  it.each([
    { name: 'no --event', argv: ['invoke'], message: /invoke needs --event FILE/ },
    {
      name: 'a missing file',
      argv: ['invoke', '--event', '/nonexistent.json'],
      message: /^flowlog-enrich: --event \/nonexistent.json: does not exist\n$/,
    },
    { name: 'an unknown flag', argv: ['invoke', '--bogus'], message: /Unknown option '--bogus'/ },
    { name: 'an unknown command', argv: ['frobnicate'], message: /unknown command "frobnicate"/ },
    {
      name: 'a bad format',
      argv: ['invoke', '--event', event('direct-default-format.json'), '--format', 'nope'],
      message: /--format: token 1/,
    },
  ])('exits 2 for $name', async ({ argv, message }) => {
    const { code, stdout, stderr } = await runCli(argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });
});

describe('CLI errors a user can act on', () => {
  it.each([
    {
      name: 'in a folder that does not exist',
      file: '/nonexistent/x.jsonl',
      reason: 'the folder /nonexistent does not exist',
    },
    { name: 'that is a folder', file: tmpdir(), reason: 'is a folder, not a file' },
  ])(
    '--reingest-file $name: refused before any record is transformed, in one line (exit 2)',
    async ({ file, reason }) => {
      // Prepare: 60 records against a 10 kB response, so that most would be re-ingested.
      const line = (i: number) =>
        `2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 ${20000 + i} 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n`;
      const eventFile = join(tmpdir(), `event-missing-${process.pid}-${Date.now()}.json`);
      writeFileSync(
        eventFile,
        JSON.stringify(firehoseEvent(Array.from({ length: 60 }, (_, i) => firehoseRecord(line(i))))),
      );

      // Act
      const { code, stdout, stderr } = await runCli(
        ['invoke', '--event', eventFile, '--reingest-file', file],
        {
          RESPONSE_LIMIT_BYTES: '10000',
        },
      );

      // Assess
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(`flowlog-enrich: --reingest-file ${file}: ${reason}\n`);
    },
  );

  it.each([
    {
      name: 'a missing --ip-ranges file',
      argv: ['invoke', '--event', 'events/direct-default-format.json', '--ip-ranges', '/nonexistent.json'],
      message: /--ip-ranges \/nonexistent.json does not exist/,
    },
    {
      name: 'a bad --format, named as the flag',
      argv: ['invoke', '--event', 'events/direct-default-format.json', '--format', '${version} nope'],
      message: /^flowlog-enrich: --format: token 2 "nope"/,
    },
  ])('$name: exit 2, no stack trace', async ({ argv, message }) => {
    const { code, stderr } = await runCli(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('--format with several formats', () => {
  const V2_LINE =
    '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
  const BOTH = `${DEFAULT_FORMAT},${ALL_FIELDS_FORMAT}`;
  const fieldsOf = (line: Record<string, unknown>) => [
    line.version,
    line.srcaddr,
    line.dstport,
    line.tcp_flags,
  ];

  it('invoke reads lines of either format', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-formats-'));
    const file = join(dir, 'event.json');
    writeFileSync(
      file,
      JSON.stringify(
        firehoseEvent([
          firehoseRecord(`${V2_LINE}\n${ALL_FIELDS_LINE}\n`),
          firehoseRecord(`${ALL_FIELDS_LINE}\n`),
        ]),
      ),
    );

    // Act
    const { code, stdout } = await runCli(['invoke', '--event', file, '--format', BOTH]);

    // Assess
    expect(code).toBe(0);
    const records = (JSON.parse(stdout) as { records: { result: string; data: string }[] }).records;
    expect(records.map((record) => record.result)).toStrictEqual(['Ok', 'Ok']);
    expect(records.map((record) => decodeLines(record.data).map(fieldsOf))).toStrictEqual([
      [
        [2, '172.31.16.139', 22, undefined],
        [5, '52.95.128.179', 34210, 19],
      ],
      [[5, '52.95.128.179', 34210, 19]],
    ]);
  });

  it('run reads a file mixing both formats', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-formats-'));
    const input = join(dir, 'mixed.log');
    const out = join(dir, 'out');
    writeFileSync(input, `${V2_LINE}\n${ALL_FIELDS_LINE}\n${V2_LINE}\n`);

    // Act
    const { code, stderr } = await runCli([
      'run',
      '--input',
      input,
      '--format',
      BOTH,
      '--out',
      out,
      '--quiet',
    ]);

    // Assess
    expect(code, stderr).toBe(0);
    const lines = readdirSync(join(out, 'flowlogs'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.gz'))
      .flatMap((entry) =>
        gunzipSync(readFileSync(join(entry.parentPath, entry.name)))
          .toString()
          .trimEnd()
          .split('\n'),
      )
      .map((line) => fieldsOf(JSON.parse(line) as Record<string, unknown>));
    expect(lines.sort()).toStrictEqual(
      [
        [2, '172.31.16.139', 22, undefined],
        [2, '172.31.16.139', 22, undefined],
        [5, '52.95.128.179', 34210, 19],
      ].sort(),
    );
  });

  it('refuses two formats with the same field count, named as the flag', async () => {
    // Act
    const { code, stderr } = await runCli([
      'invoke',
      '--event',
      event('direct-default-format.json'),
      '--format',
      `${DEFAULT_FORMAT},${DEFAULT_FORMAT.replace('${log-status}', '${flow-direction}')}`,
    ]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /^flowlog-enrich: --format: formats 1 and 2 both have 14 fields; a line could not tell them apart/,
    );
  });
});

describe('flowlog-enrich run with the wrong format', () => {
  it('exits 1 without a cost estimate, and says what the lines have and what to pass', async () => {
    // Prepare: 18-field lines (a custom format) without their header, read with the default format.
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-wrong-format-'));
    const input = join(dir, 'noheader.log');
    const line =
      '3 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK vpc-0a1b2c3d subnet-0a1b2c3d i-0a1b2c3d4e5f60718 2';
    writeFileSync(input, `${Array(50).fill(line).join('\n')}\n`);

    // Act
    const { code, stdout } = await runCli(['run', '--input', input, '--out', join(dir, 'out')]);

    // Assess
    expect(code).toBe(1);
    expect(stdout).toContain('nothing could be read: 50 of 50 records failed');
    expect(stdout).toContain(
      "lines have 18 fields, the format has 14: pass --format (the flow log's LogFormat) or use a file with its header line",
    );
    expect(stdout).not.toContain('total per month');
  });
});
