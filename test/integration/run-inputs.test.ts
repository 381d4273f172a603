/**
 * `flowlog-enrich run` on inputs that are not what they should be: damaged gzip, corrupt error records,
 * symbolic links.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { flowLines, keysOf, outputKeys } from '../helpers/flow-lines.js';

const base = mkdtempSync(join(tmpdir(), 'flowlog-run-inputs-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('run on damaged inputs', () => {
  it('a truncated .gz is named, the lines before the damage count, the other files are read, exit 1', async () => {
    // Prepare: a folder with two good files and a gzip cut in the middle.
    const dir = join(base, 'truncated');
    mkdirSync(dir, { recursive: true });
    const first = flowLines(0, 300);
    const middle = flowLines(1000, 20_000);
    const last = flowLines(50_000, 300);
    writeFileSync(join(dir, 'a.log'), `${first.join('\n')}\n`);
    const whole = gzipSync(`${middle.join('\n')}\n`);
    const cut = whole.subarray(0, Math.floor(whole.length / 2));
    writeFileSync(join(dir, 'b.log.gz'), cut);
    writeFileSync(join(dir, 'c.log.gz'), gzipSync(`${last.join('\n')}\n`));
    // The complete lines the cut gzip still holds.
    const readable = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH }).toString();
    const before = readable.slice(0, readable.lastIndexOf('\n')).split('\n');
    const out = join(base, 'out-truncated');

    // Act
    const result = await runCli(['run', '--input', dir, '--out', out, '--quiet']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toContain(
      `damaged inputs: 1 (everything before the damage and around it was read; exit status 1):\n  ✗ ${join(dir, 'b.log.gz')}: damaged gzip (unexpected end of file) after line ${before.length}; the lines before it were read`,
    );
    expect(before.length).toBeGreaterThan(1000);
    expect(outputKeys(out)).toStrictEqual(keysOf([...first, ...before, ...last]));
  });

  it('a corrupt line of an error-record file is named by file and line; the other records are replayed', async () => {
    // Prepare: Firehose error records, the third line cut short.
    const dir = join(base, 'error-records');
    mkdirSync(dir, { recursive: true });
    const records = flowLines(0, 5).map((line) =>
      JSON.stringify({
        attemptsMade: 1,
        errorCode: 'Lambda.ProcessingFailed',
        rawData: Buffer.from(`${line}\n`).toString('base64'),
      }),
    );
    const corrupt = [...records];
    corrupt[2] = (records[2] as string).slice(0, 40);
    corrupt[3] = '{"attemptsMade":1}';
    writeFileSync(join(dir, 'errors.jsonl'), `${corrupt.join('\n')}\n`);
    const out = join(base, 'out-error-records');

    // Act
    const result = await runCli(['run', '--input', dir, '--out', out, '--quiet']);

    // Assess
    expect(result.code).toBe(1);
    const file = join(dir, 'errors.jsonl');
    expect(result.stdout).toMatch(
      new RegExp(`✗ ${file.replaceAll('/', '\\/')}:3: not a Firehose error record \\(.*position 40.*\\)`),
    );
    expect(result.stdout).toContain(`✗ ${file}:4: a Firehose error record without rawData`);
    const all = flowLines(0, 5);
    expect(outputKeys(out)).toStrictEqual(keysOf([all[0], all[1], all[4]] as string[]));
  });
});

describe('run on folders with symbolic links', () => {
  it('follows links to files and folders, reads each file once, and says which links it left out', async () => {
    // Prepare
    const dir = join(base, 'links');
    const outside = join(base, 'links-outside');
    mkdirSync(join(dir, 'real'), { recursive: true });
    mkdirSync(join(outside, 'more'), { recursive: true });
    const [a, b, c, d] = [flowLines(0, 10), flowLines(100, 10), flowLines(200, 10), flowLines(300, 10)];
    writeFileSync(join(dir, 'real', 'a.log'), `${a.join('\n')}\n`);
    writeFileSync(join(outside, 'b.log'), `${b.join('\n')}\n`);
    writeFileSync(join(outside, 'more', 'c.log'), `${c.join('\n')}\n`);
    writeFileSync(join(outside, 'd.log'), `${d.join('\n')}\n`);
    symlinkSync(join(outside, 'b.log'), join(dir, 'b.log')); // a file elsewhere: read
    symlinkSync(join(outside, 'more'), join(dir, 'more')); // a folder elsewhere: read
    symlinkSync(join(dir, 'real', 'a.log'), join(dir, 'same-as-a.log')); // read once, as real/a.log
    symlinkSync(dir, join(dir, 'real', 'loop')); // a loop
    symlinkSync(join(outside, 'gone.log'), join(dir, 'broken.log'));
    symlinkSync(join(outside, 'd.log'), join(outside, 'more', 'd-link.log')); // a link inside a linked folder
    const out = join(base, 'out-links');

    // Act
    const result = await runCli(['run', '--input', dir, '--out', out, '--quiet']);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(outputKeys(out)).toStrictEqual(keysOf([...a, ...b, ...c, ...d]));
    expect(result.stdout).toContain('skipped in input folders: 3\n');
    expect(result.stdout).toContain(`  - ${join(dir, 'broken.log')}: a broken symbolic link\n`);
    expect(result.stdout).toContain(
      `  - ${join(dir, 'real', 'loop')}: a link to the folder ${dir}, which is read once\n`,
    );
    expect(result.stdout).toContain(
      `  - ${join(dir, 'same-as-a.log')}: a link to ${join(dir, 'real', 'a.log')}, which is read once, as ${join(dir, 'real', 'a.log')}\n`,
    );
  });
});
