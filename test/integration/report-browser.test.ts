import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report } from '../../src/cli/report.js';
import type { FlowLogsDatabase } from '../../src/local/duckdb.js';
import { demoOutput, namedSql, openOutput } from '../helpers/report-fixture.js';

// The report as a person sees it: Debian's Chromium (apt-get install chromium), driven by playwright-core,
// opening the file from disk with every network request refused.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true')
  throw new Error(`Chromium is not installed at ${CHROMIUM}: CI requires it (apt-get install -y chromium)`);
if (!available)
  console.warn(`Chromium not found at ${CHROMIUM}: skipping the report's browser test (CI would fail here)`);

/** A table's cells as text; counts with their thousands separators removed, as numbers. */
type Cells = (string | number)[][];
const asCell = (text: string): string | number =>
  /^-?\d{1,3}(,\d{3})*$/.test(text) ? Number(text.replaceAll(',', '')) : text;
const toCells = (rows: Record<string, unknown>[], keys: string[]): Cells =>
  rows.map((row) =>
    keys.map((key) => (typeof row[key] === 'number' ? (row[key] as number) : String(row[key] ?? ''))),
  );

describe.skipIf(!available)('the report in Chromium', () => {
  let dir: string;
  let out: string;
  let db: FlowLogsDatabase;
  let path: string;

  beforeAll(async () => {
    ({ dir, out } = await demoOutput());
    db = await openOutput(out);
    path = (await report({ out }, { env: {}, stdout: () => {}, stderr: () => {} })).path;
  }, 120_000);

  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['light', 'dark'] as const)(
    'opens from disk offline (%s): no request, no console error, every chart drawn, tables equal to DuckDB',
    async (colorScheme) => {
      // Prepare
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM });
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 1400 }, colorScheme });
        const attempted: string[] = [];
        await page.route('**/*', (route) => {
          const url = route.request().url();
          if (url.startsWith('file:')) return route.continue();
          attempted.push(url);
          return route.abort();
        });
        page.on('request', (request) => {
          if (!request.url().startsWith('file:')) attempted.push(request.url());
        });
        const problems: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
        });
        page.on('pageerror', (error) => problems.push(error.message));

        // Act
        await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
        await page.waitForSelector('body[data-charts]', { state: 'attached' });
        // Without the DOM library in tsconfig, the page's elements are untyped here: read them through $$eval.
        const canvases: { id: string; width: number; height: number; drawn: number }[] = await page.$$eval(
          'canvas',
          (elements) =>
            elements.map((canvas) => {
              const { width, height } = canvas;
              const pixels = canvas.getContext('2d')?.getImageData(0, 0, width, height).data ?? [];
              let drawn = 0;
              for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) drawn++;
              return { id: canvas.id, width, height, drawn };
            }),
        );
        const tables: Record<string, string[][]> = await page.$$eval('table', (elements) =>
          Object.fromEntries(
            elements.map((table) => [
              table.id,
              [...table.querySelectorAll('tbody tr')]
                .filter((tr) => !tr.querySelector('.empty'))
                .map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
            ]),
          ),
        );
        // REPORT_SCREENSHOT=docs/report.png: the README's picture (the light page's first screen).
        const forReadme = process.env.REPORT_SCREENSHOT !== undefined && colorScheme === 'light';
        const screenshot = forReadme
          ? resolve(process.env.REPORT_SCREENSHOT as string)
          : join(dir, `report-${colorScheme}.png`);
        mkdirSync(dirname(screenshot), { recursive: true });
        await page.screenshot({ path: screenshot, fullPage: !forReadme });

        // Assess
        expect(attempted).toStrictEqual([]);
        expect(problems).toStrictEqual([]);
        expect(canvases).toHaveLength(10);
        for (const canvas of canvases) {
          expect(canvas.width, canvas.id).toBeGreaterThan(100);
          expect(canvas.drawn, `${canvas.id} has pixels`).toBeGreaterThan(500);
        }
        const cells = (id: string): Cells => (tables[id] ?? []).map((row) => row.map(asCell));
        const q = async (sql: string) => (await db.query(sql)).rows;
        expect(cells('table-talkers')).toStrictEqual(
          toCells(await q(namedSql('top-talkers')), [
            'srcaddr',
            'dstaddr',
            'total_bytes',
            'total_packets',
            'flows',
          ]),
        );
        expect(cells('table-services')).toStrictEqual(
          toCells(await q(namedSql('traffic-per-aws-service')), ['aws_service', 'flows', 'total_bytes']),
        );
        expect(cells('table-flags')).toStrictEqual(
          toCells(
            await q(`SELECT f AS flag, severity, count(*) AS flows
                     FROM (SELECT unnest(flags) AS f, severity FROM flow_logs) WHERE severity <> 'none'
                     GROUP BY ALL ORDER BY flows DESC, flag`),
            ['flag', 'severity', 'flows'],
          ),
        );
        const [ok] = await q('SELECT count(*) AS n FROM flow_logs');
        expect(cells('table-results')).toStrictEqual([
          ['Ok', Number(ok?.n)],
          ['ProcessingFailed', 2],
        ]);
        expect(cells('table-failures').map((row) => row.slice(0, 2))).toStrictEqual([
          ['field_count', 1],
          ['invalid_field', 1],
        ]);
        // The heat map's table, its AWS services folded back into external, is tier-matrix.
        const matrix = new Map<string, number>();
        for (const [from, to, flows] of cells('table-matrix')) {
          const side = (tier: unknown) => (String(tier).startsWith('AWS ') ? 'external' : String(tier));
          const key = `${side(from)}→${side(to)}`;
          matrix.set(key, (matrix.get(key) ?? 0) + Number(flows));
        }
        const named = await q(namedSql('tier-matrix'));
        expect(matrix).toStrictEqual(
          new Map(named.map((r) => [`${r.src_tier}→${r.dst_tier}`, Number(r.flows)])),
        );
        expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe('PNG');
      } finally {
        await browser.close();
      }
    },
    90_000,
  );
});
