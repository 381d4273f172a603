/**
 * Parquet in the backfill worker (hyparquet over ranged reads, src/backfill/parquet.ts): the column mapping
 * shared with the DuckDB path (src/local/inputs.ts), row groups read one at a time, the same records as the
 * text path for the same flows, and damaged objects reported, never thrown, never costing the other objects.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parquetMetadata } from 'hyparquet';
import { beforeAll, describe, expect, it } from 'vitest';
import { BackfillBatchError, backfillBatch } from '../../src/backfill/batch.js';
import { openParquet, ROWS_PER_BATCH, rangeBuffer } from '../../src/backfill/parquet.js';
import { type ObjectStore, sourceStem } from '../../src/backfill/worker.js';
import { parquetFormat, parquetLine } from '../../src/local/inputs.js';
import { backfillWorker, memoryStore } from '../helpers/memory-store.js';

/** 2026-11-23T00:00:00Z */
const DAY = 1_795_392_000;
const ROWS = 5000;
const COLUMNS =
  'version account_id interface_id srcaddr dstaddr srcport dstport protocol packets bytes start end action log_status vpc_id pkt_srcaddr tcp_flags';
const HEADER = COLUMNS.replaceAll('_', '-');
/** Row n as a text line of HEADER's format; every 7th has no vpc-id ('-', null in Parquet). */
const textLine = (n: number) =>
  `2 123456789012 eni-1235b8ca123456789 10.0.0.${n % 250} 52.94.0.${n % 97} ${1024 + n} 443 6 ${10 + n} ${840 + n * 1000} ${DAY + n} ${DAY + n + 60} ${n % 5 === 0 ? 'REJECT' : 'ACCEPT'} OK ${n % 7 === 0 ? '-' : 'vpc-0a1b2c3d'} 10.0.0.${n % 250} ${n % 3 === 0 ? 2 : 19}`;

const worker = backfillWorker;

/** Every record written under `flowlogs/`, as parsed JSON, in the order of its lines. */
const records = (written: Map<string, Buffer>, stem: string) =>
  [...written]
    .filter(([key]) => key.includes('/flowlogs/') && key.includes(stem))
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([, body]) =>
      gunzipSync(body)
        .toString()
        .trimEnd()
        .split('\n')
        .map((json) => JSON.parse(json) as Record<string, unknown>),
    );

describe('the Parquet column mapping (shared with the DuckDB path)', () => {
  it.each([
    {
      name: 'the default format',
      columns:
        'version account_id interface_id srcaddr dstaddr srcport dstport protocol packets bytes start end action log_status',
      format:
        '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}',
    },
    {
      name: 'fields of versions 3 to 5',
      columns: 'vpc_id subnet_id pkt_srcaddr pkt_src_aws_service tcp_flags flow_direction traffic_path',
      format:
        '${vpc-id} ${subnet-id} ${pkt-srcaddr} ${pkt-src-aws-service} ${tcp-flags} ${flow-direction} ${traffic-path}',
    },
    {
      name: 'Transit Gateway fields',
      columns: 'resource_type tgw_id tgw_src_eni tgw_dst_eni',
      format: '${resource-type} ${tgw-id} ${tgw-src-eni} ${tgw-dst-eni}',
    },
  ])('maps $name to their log-format names', ({ columns, format }) => {
    // Act
    const mapped = parquetFormat(columns.split(' '));
    // Assess
    expect(mapped).toBe(format);
  });

  it('writes a row as the text line: values in column order, bigints as integers, null and missing as -', () => {
    // Prepare
    const columns = ['version', 'srcport', 'bytes', 'vpc_id', 'pkt_srcaddr', 'action'];
    const row = { version: 2, srcport: 443, bytes: 9_007_199_254_740_993n, vpc_id: null, action: 'ACCEPT' };
    // Act
    const line = parquetLine(columns, row);
    // Assess
    expect(line).toBe('2 443 9007199254740993 - - ACCEPT\n');
  });
});

describe('Parquet objects in the backfill worker (hyparquet, ranged reads)', () => {
  let parquet: Buffer;
  let groups: { start: number; end: number; rows: number }[];
  const lines = Array.from({ length: ROWS }, (_, n) => textLine(n));

  beforeAll(async () => {
    // As flow logs deliver it: one column per field, GZIP; DuckDB writes row groups of 2,048 rows.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const scratch = mkdtempSync(join(tmpdir(), 'backfill-parquet-unit-'));
    try {
      const text = join(scratch, 'flows.txt');
      writeFileSync(text, `${lines.join('\n')}\n`);
      const types = COLUMNS.split(' ').map((column) => {
        const type = ['version', 'srcport', 'dstport', 'protocol', 'tcp_flags'].includes(column)
          ? 'INTEGER'
          : ['packets', 'bytes', 'start', 'end'].includes(column)
            ? 'BIGINT'
            : 'VARCHAR';
        return `'${column}': '${type}'`;
      });
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      await connection.run(
        `COPY (SELECT * FROM read_csv('${text}', delim=' ', header=false, nullstr='-', columns={${types.join(', ')}}))
         TO '${join(scratch, 'flows.parquet')}' (FORMAT parquet, COMPRESSION gzip, ROW_GROUP_SIZE 2048)`,
      );
      connection.closeSync();
      instance.closeSync();
      parquet = readFileSync(join(scratch, 'flows.parquet'));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    groups = parquetMetadata(parquet).row_groups.map((group) => {
      const offsets = group.columns.flatMap((column) => {
        const meta = column.meta_data;
        if (!meta) return [];
        const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
        return [start, start + Number(meta.total_compressed_size)];
      });
      return { start: Math.min(...offsets), end: Math.max(...offsets), rows: Number(group.num_rows) };
    });
  }, 60_000);

  it('is the fixture it means to be: GZIP, three row groups', () => {
    const metadata = parquetMetadata(parquet);
    expect(groups.map((group) => group.rows)).toStrictEqual([2048, 2048, 904]);
    expect(metadata.row_groups[0]?.columns[0]?.meta_data?.codec).toBe('GZIP');
  });

  it('writes the same records as the text path for the same flows, under the same partitions', async () => {
    // Prepare
    const { store, written, opened } = memoryStore({
      'src/a/flows.log.gz': gzipSync(`${HEADER}\n${lines.join('\n')}\n`),
      'src/a/flows.parquet': parquet,
    });
    const backfiller = worker(store);
    const source = { bucket: 'src', lastModifiedMs: Date.UTC(2026, 10, 23, 4) };
    // Act
    const text = await backfiller.backfill(
      { ...source, key: 'a/flows.log.gz' },
      { bucket: 'lake', prefix: '' },
    );
    const fromParquet = await backfiller.backfill(
      { ...source, key: 'a/flows.parquet' },
      { bucket: 'lake', prefix: '' },
    );
    // Assess
    expect(fromParquet).toMatchObject({ lines: ROWS, ok: ROWS, failed: 0, flows: ROWS, damaged: [] });
    expect(text).toMatchObject({ lines: ROWS, ok: ROWS, failed: 0, flows: ROWS, damaged: [] });
    const textRecords = records(written, sourceStem('src', 'a/flows.log.gz'));
    const parquetRecords = records(written, sourceStem('src', 'a/flows.parquet'));
    expect(parquetRecords).toHaveLength(ROWS);
    expect(parquetRecords).toStrictEqual(textRecords);
    // Row 7: a null vpc_id read as '-', so the record has no vpc_id, as from the text line.
    expect(parquetRecords[7]).toMatchObject({ srcport: 1031, tcp_flags: 19, bytes: 7840 });
    expect(parquetRecords[7]).not.toHaveProperty('vpc_id');
    expect(parquetRecords[8]).toHaveProperty('vpc_id', 'vpc-0a1b2c3d');
    const folders = (stem: string) =>
      [...written.keys()]
        .filter((key) => key.includes(stem))
        .map((key) => key.slice(0, key.lastIndexOf('/')));
    expect(folders(sourceStem('src', 'a/flows.parquet'))).toStrictEqual(
      folders(sourceStem('src', 'a/flows.log.gz')),
    );
    // Never streamed whole: only the text object was opened.
    expect(opened).toStrictEqual(['src/a/flows.log.gz']);
  });

  it('reads the footer, then one row group at a time as its rows are wanted, never the whole object', async () => {
    // Prepare
    const { store, ranges } = memoryStore({ 'src/flows.parquet': parquet });
    const file = rangeBuffer(parquet.length, (start, end) => store.read('src', 'flows.parquet', start, end));
    // The first read is the footer's: the last 512 KiB, so here the whole (small) object. Row groups are
    // read again by their own ranges, and those are what this test follows.
    const covers = (group: { start: number; end: number }) =>
      ranges.slice(1).some((range) => range.start <= group.start && group.end <= range.end);
    // Act
    const table = await openParquet(file);
    const batches = table.batches[Symbol.asyncIterator]();
    const first = await batches.next();
    const afterFirst = ranges.length;
    const [one, two, three] = groups as [(typeof groups)[0], (typeof groups)[0], (typeof groups)[0]];
    const coveredAfterFirst = [covers(one), covers(two), covers(three)];
    let rows = first.done ? 0 : first.value.length;
    for (let next = await batches.next(); !next.done; next = await batches.next()) rows += next.value.length;
    // Assess
    expect(rows).toBe(ROWS);
    expect(first.done ? [] : first.value.length).toBe(Math.min(ROWS_PER_BATCH, 2048));
    // After the first batch: the footer and row group 0 only.
    expect(coveredAfterFirst).toStrictEqual([true, false, false]);
    expect(afterFirst).toBeGreaterThan(1);
    expect([covers(one), covers(two), covers(three)]).toStrictEqual([true, true, true]);
    // No read spans two row groups, and nothing is read twice but the footer's neighbourhood.
    for (const range of ranges.slice(1)) expect(range.end - range.start).toBeLessThan(parquet.length / 2);
    const bytes = ranges.reduce((n, range) => n + range.end - range.start, 0);
    expect(bytes).toBeLessThanOrEqual(parquet.length * 2);
  });

  it('reports a truncated Parquet object as damaged (its footer is gone), writes nothing, and throws nothing', async () => {
    // Prepare
    const { store, written } = memoryStore({ 'src/t.parquet': parquet.subarray(0, parquet.length / 2) });
    // Act
    const result = await worker(store).backfill(
      { bucket: 'src', key: 't.parquet', lastModifiedMs: 0 },
      { bucket: 'lake', prefix: '' },
    );
    // Assess
    expect(result).toMatchObject({ lines: 0, ok: 0 });
    expect(result.damaged).toStrictEqual([
      {
        source: 's3://src/t.parquet',
        message: 'not a readable Parquet file (parquet file invalid (footer != PAR1))',
      },
    ]);
    expect(written.size).toBe(0);
  });

  it('reports a row group that cannot be decoded as damaged after writing the row groups before it', async () => {
    // Prepare: zeros over the middle of row group 1's column chunks (the footer is intact)
    const corrupt = Buffer.from(parquet);
    const [, two] = groups as [unknown, { start: number; end: number }];
    corrupt.fill(0, two.start + 16, two.end - 16);
    const { store, written } = memoryStore({ 'src/c.parquet': corrupt });
    // Act
    const result = await worker(store).backfill(
      { bucket: 'src', key: 'c.parquet', lastModifiedMs: 0 },
      { bucket: 'lake', prefix: '' },
    );
    // Assess
    expect(result.damaged).toHaveLength(1);
    expect(result.damaged[0]?.message).toMatch(
      /^cannot be read to its end \(row group 1: .+\) after row 2048; the rows before it were read$/,
    );
    expect(result.ok).toBe(2048);
    expect(records(written, sourceStem('src', 'c.parquet'))).toHaveLength(2048);
  });

  it('backfills every other object of a batch around a damaged one, and names the damaged one in its cause', async () => {
    // Prepare
    const { store, written } = memoryStore({
      'src/a.parquet': parquet,
      'src/b.parquet': parquet.subarray(0, 1000),
      'src/c.log.gz': gzipSync(`${HEADER}\n${lines.slice(0, 10).join('\n')}\n`),
    });
    const items = ['a.parquet', 'b.parquet', 'c.log.gz'].map((Key) => ({ Key, LastModified: DAY }));
    // Act
    const result = await backfillBatch(worker(store), items, 'src', { bucket: 'lake', prefix: '' });
    // Assess
    expect(result).toMatchObject({ objects: 3, lines: ROWS + 10, damaged: 1 });
    expect(result.cause).toBe(
      's3://src/b.parquet: not a readable Parquet file (parquet file invalid (footer != PAR1))',
    );
    expect(result.results.map((r) => r.damaged)).toStrictEqual([
      undefined,
      ['s3://src/b.parquet: not a readable Parquet file (parquet file invalid (footer != PAR1))'],
      undefined,
    ]);
    expect(records(written, sourceStem('src', 'a.parquet'))).toHaveLength(ROWS);
    expect(records(written, sourceStem('src', 'c.log.gz'))).toHaveLength(10);
  });

  it('uses the size the listing gives, and asks the store only when there is none', async () => {
    // Prepare
    const { store } = memoryStore({ 'src/a.parquet': parquet });
    let asked = 0;
    const counting: ObjectStore = {
      ...store,
      size: (bucket, key) => {
        asked++;
        return store.size(bucket, key);
      },
    };
    // Act
    await backfillBatch(
      worker(counting),
      [{ Key: 'a.parquet', LastModified: DAY, Size: parquet.length }],
      'src',
      {
        bucket: 'lake',
        prefix: '',
      },
    );
    const listedSize = asked;
    await backfillBatch(worker(counting), [{ Key: 'a.parquet', LastModified: DAY }], 'src', {
      bucket: 'lake',
      prefix: '',
    });
    // Assess
    expect([listedSize, asked]).toStrictEqual([0, 1]);
  });

  it('finishes the batch when S3 fails one object, then throws naming it (the map retries the batch)', async () => {
    // Prepare
    const { store, written } = memoryStore({
      'src/c.log.gz': gzipSync(`${HEADER}\n${lines.slice(0, 3).join('\n')}\n`),
    });
    const items = [
      { Key: 'gone.log.gz', LastModified: DAY },
      { Key: 'c.log.gz', LastModified: DAY },
    ];
    // Act
    const batch = backfillBatch(worker(store), items, 'src', { bucket: 'lake', prefix: '' });
    // Assess
    await expect(batch).rejects.toThrow(BackfillBatchError);
    await expect(batch).rejects.toThrow('1 object(s) failed: gone.log.gz: NoSuchKey: src/gone.log.gz');
    expect(records(written, sourceStem('src', 'c.log.gz'))).toHaveLength(3);
  });
});
