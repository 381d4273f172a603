import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
      message: /cannot read event file/,
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
