import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AWS_IP_RANGES_URL,
  compileSource,
  serializeCompact,
  updateIpRanges,
} from '../../scripts/update-ip-ranges.mjs';
import * as compiler from '../../src/enrich/ip-ranges.js';
import { parseAddress } from '../../src/net/ip.js';

const FIXTURE = gunzipSync(
  readFileSync(new URL('../fixtures/aws-ip-ranges-2026-08-22.json.gz', import.meta.url)),
);
const SCRIPT = new URL('../../scripts/update-ip-ranges.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-update-'));
const PREVIOUS = '{"createDate":"2026-01-01-00-00-00"}\n';

// A loopback stand-in for ip-ranges.amazonaws.com: the network part runs for real, without the internet.
let server: Server;
let base = '';
const requests: string[] = [];
beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (request.url === '/ip-ranges.json')
      response.writeHead(200, { 'content-type': 'application/json' }).end(FIXTURE);
    else if (request.url === '/truncated.json') response.writeHead(200).end(FIXTURE.subarray(0, 100_000));
    else if (request.url === '/foreign.json') response.writeHead(200).end('{"prefixes":[]}');
    else response.writeHead(503).end('Slow Down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

// Compiled once; only the `source` member depends on where the bytes came from.
const COMPILED = compileSource({ bytes: FIXTURE, source: 'fixture' }, compiler);
const expected = (source: string) =>
  serializeCompact({
    ...COMPILED,
    source: source.startsWith('http') ? source : `file:${source.split('/').pop()}`,
  });

describe('npm run update-ip-ranges', () => {
  it('downloads the document, writes its compact form and reports what it replaced', async () => {
    // Prepare
    const out = join(dir, 'downloaded.json');
    writeFileSync(out, PREVIOUS);

    // Act
    const result = await updateIpRanges({ url: `${base}/ip-ranges.json`, out, compiler });

    // Assess
    expect(readFileSync(out, 'utf8')).toBe(expected(`${base}/ip-ranges.json`));
    expect(result).toMatchObject({
      previous: '2026-01-01-00-00-00',
      compact: {
        createDate: '2026-08-22-15-17-05',
        syncToken: '1787411825',
        source: `${base}/ip-ranges.json`,
      },
    });
    const index = compiler.createServiceIndex(JSON.parse(readFileSync(out, 'utf8')));
    expect(index.match(parseAddress('44.192.10.10') as never)?.service).toBe('EC2');
  });

  it.each([
    { name: 'an HTTP error', path: '/missing.json', message: /HTTP 503/ },
    { name: 'a truncated body', path: '/truncated.json', message: /not JSON/ },
    {
      name: 'JSON that is not a whole ip-ranges document',
      path: '/foreign.json',
      message: /not an ip-ranges document/,
    },
  ])('keeps the previous snapshot on $name', async ({ path, message }) => {
    // Prepare
    const out = join(dir, `kept-${path.slice(1)}`);
    writeFileSync(out, PREVIOUS);

    // Act
    const update = updateIpRanges({ url: `${base}${path}`, out, compiler });

    // Assess
    await expect(update).rejects.toThrow(message);
    expect(readFileSync(out, 'utf8')).toBe(PREVIOUS);
    expect(existsSync(`${out}.tmp`)).toBe(false);
  });

  it('asks AWS’s URL by default, through the fetch it is given', async () => {
    // Prepare
    const asked: string[] = [];
    const fetchFn = (async (url: string) => {
      asked.push(url);
      return new Response(FIXTURE);
    }) as unknown as typeof fetch;
    const out = join(dir, 'injected.json');

    // Act
    await updateIpRanges({ fetch: fetchFn, out, compiler });

    // Assess
    expect(asked).toStrictEqual([AWS_IP_RANGES_URL]);
    expect(readFileSync(out, 'utf8')).toBe(expected(AWS_IP_RANGES_URL));
  });

  it.each([
    {
      name: 'a prefix that does not parse',
      edit: (d: { prefixes: { ip_prefix: string }[] }) => {
        (d.prefixes[0] as { ip_prefix: string }).ip_prefix = '3.4.12.4/33';
      },
      message: /1 prefixes are malformed or name no service/,
    },
    {
      name: 'no createDate',
      edit: (d: { createDate?: string }) => {
        delete d.createDate;
      },
      message: /syncToken or createDate missing or malformed/,
    },
  ])('refuses a document with $name', ({ edit, message }) => {
    const document = JSON.parse(FIXTURE.toString('utf8'));
    edit(document);
    expect(() =>
      compileSource({ bytes: Buffer.from(JSON.stringify(document)), source: 'edited.json' }, compiler),
    ).toThrow(message);
  });

  it('runs as a script: --from a saved file, --url on loopback', async () => {
    // Prepare: the script compiles src/ through esbuild itself, as `npm run update-ip-ranges` does.
    const saved = join(dir, 'aws-ip-ranges-2026-08-22.json');
    writeFileSync(saved, FIXTURE);
    const run = (...args: string[]) => promisify(execFile)(process.execPath, [SCRIPT, ...args]);
    requests.length = 0;

    // Act
    const fromFile = await run('--from', saved, '--out', join(dir, 'from-file.json'));
    const fromUrl = await run('--url', `${base}/ip-ranges.json`, '--out', join(dir, 'from-url.json'));
    const refused = run(
      '--url',
      'http://ip-ranges.example/ip-ranges.json',
      '--out',
      join(dir, 'refused.json'),
    );

    // Assess
    expect(readFileSync(join(dir, 'from-file.json'), 'utf8')).toBe(expected(saved));
    expect(readFileSync(join(dir, 'from-url.json'), 'utf8')).toBe(expected(`${base}/ip-ranges.json`));
    expect(requests).toStrictEqual(['/ip-ranges.json']);
    expect(fromFile.stderr).toMatch(
      /10668 IPv4 and 6160 IPv6 prefixes → \d+ \+ \d+ intervals, \d+ bytes; createDate 2026-08-22-15-17-05/,
    );
    expect(fromUrl.stderr).toContain('syncToken 1787411825');
    await expect(refused).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/use https/) });
    expect(existsSync(join(dir, 'refused.json'))).toBe(false);
  });
});
