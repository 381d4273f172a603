/**
 * `flowlog-enrich run --input s3://… --out s3://…` against moto's S3: the backfill worker's code path
 * (src/backfill/worker.ts, the code the Step Functions worker Lambda runs) over text, gzip and Parquet objects
 * (Parquet read as in Lambda: hyparquet over ranged GETs, not DuckDB), its keys, that a Parquet object gives
 * the records its text twin gives, and that running it twice leaves exactly the same objects.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFolder, errorFolder, sourceStem } from '../../src/backfill/worker.js';
import { runCli } from '../helpers/cli.js';
import { MOTO_ACCOUNT, MOTO_CREDENTIALS, MOTO_REGION, type Moto, motoGate, startMoto } from './moto.js';

const { available, required } = motoGate('backfill (run --out s3://) tests');

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } as const;
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
/** 2026-11-23T00:00:00Z */
const DAY = 1_795_392_000;

/** A default-format flow line starting `offset` seconds into 2026-11-23. */
const line = (n: number, offset: number) =>
  `2 ${MOTO_ACCOUNT} eni-1235b8ca123456789 10.0.0.${n % 250} 52.94.0.${n % 97} ${1024 + n} 443 6 10 840 ${DAY + offset} ${DAY + offset + 60} ACCEPT OK`;

const SOURCE = 'flow-log-source';
const LAKE = 'flow-log-lake';
const PREFIX = `AWSLogs/${MOTO_ACCOUNT}/vpcflowlogs/${MOTO_REGION}/2026/11/23/`;
// As flow logs deliver to S3: gzip text with a header line; this one spans two hours and has one bad line.
const GZ_KEY = `${PREFIX}${MOTO_ACCOUNT}_vpcflowlogs_${MOTO_REGION}_fl-1_20261123T0055Z_a1b2.log.gz`;
const GZ_LINES = [
  ...Array.from({ length: 300 }, (_, n) => line(n, 3000 + n)),
  '2 not-a-flow-line',
  ...Array.from({ length: 200 }, (_, n) => line(1000 + n, 3600 + n)),
];
// Parquet as flow logs deliver it (one column per field, GZIP), in three row groups, and the same flows as
// text (`.log.gz` with its header): the two must give the same records.
const PARQUET_KEY = `${PREFIX}${MOTO_ACCOUNT}_vpcflowlogs_${MOTO_REGION}_fl-2_20261123T0000Z_c3d4.log.parquet`;
const TWIN_KEY = `${PREFIX}${MOTO_ACCOUNT}_vpcflowlogs_${MOTO_REGION}_fl-3_20261123T0000Z_e5f6.log.gz`;
const TWIN_LINES = Array.from({ length: 5000 }, (_, n) => line(5000 + n, 120 + (n % 3000)));
// Plain text, no header: the configured format.
const TEXT_KEY = `${PREFIX}plain.log`;
const TEXT_LINES = Array.from({ length: 50 }, (_, n) => line(2000 + n, 60 + n));

describe.skipIf(!available && !required)('run --out s3:// (the backfill worker) against moto_server', () => {
  let moto: Moto | undefined;
  let s3: S3Client;
  /** The Parquet object's row groups and codec, as written. */
  let written: { groups: number; codec: string | undefined };

  beforeAll(async () => {
    moto = await startMoto();
    s3 = new S3Client({
      region: MOTO_REGION,
      endpoint: moto.endpoint,
      credentials: MOTO_CREDENTIALS,
      forcePathStyle: true,
    });
    for (const Bucket of [SOURCE, LAKE]) await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(
      new PutObjectCommand({
        Bucket: SOURCE,
        Key: GZ_KEY,
        Body: gzipSync(`${HEADER}\n${GZ_LINES.join('\n')}\n`),
      }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket: SOURCE, Key: TEXT_KEY, Body: `${TEXT_LINES.join('\n')}\n` }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: SOURCE,
        Key: TWIN_KEY,
        Body: gzipSync(`${HEADER}\n${TWIN_LINES.join('\n')}\n`),
      }),
    );
    // DuckDB only writes the fixture; the run reads it with the worker's reader.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const scratch = mkdtempSync(join(tmpdir(), 'backfill-parquet-'));
    const parquet = join(scratch, 'c.parquet');
    const text = join(scratch, 'twin.txt');
    writeFileSync(text, `${TWIN_LINES.join('\n')}\n`);
    const types = HEADER.split(' ').map((field) => {
      const type = ['packets', 'bytes', 'start', 'end'].includes(field)
        ? 'BIGINT'
        : ['version', 'srcport', 'dstport', 'protocol'].includes(field)
          ? 'INTEGER'
          : 'VARCHAR';
      return `'${field.replaceAll('-', '_')}': '${type}'`;
    });
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT * FROM read_csv('${text}', delim=' ', header=false, columns={${types.join(', ')}}))
       TO '${parquet}' (FORMAT parquet, COMPRESSION gzip, ROW_GROUP_SIZE 2048)`,
    );
    connection.closeSync();
    instance.closeSync();
    const metadata = parquetMetadata(readFileSync(parquet));
    written = {
      groups: metadata.row_groups.length,
      codec: metadata.row_groups[0]?.columns[0]?.meta_data?.codec,
    };
    await s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: PARQUET_KEY, Body: readFileSync(parquet) }));
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  afterAll(async () => {
    await moto?.stop();
  });

  const backfill = () =>
    runCli(
      [
        'run',
        '--input',
        `s3://${SOURCE}/AWSLogs/`,
        '--out',
        `s3://${LAKE}/backfill`,
        '--endpoint-url',
        moto?.endpoint as string,
        '--region',
        MOTO_REGION,
        '--quiet',
      ],
      AWS_ENV,
    );

  /** Every object of the lake: key → its lines (gunzipped), error records without their processing time. */
  const lake = async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: LAKE }));
    const objects: Record<string, unknown[]> = {};
    for (const { Key } of page.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: LAKE, Key }));
      const text = gunzipSync(Buffer.from((await body.Body?.transformToByteArray()) ?? [])).toString();
      objects[Key as string] = text
        .trimEnd()
        .split('\n')
        .map((json) => {
          const { attemptEndingTimestamp: _, ...rest } = JSON.parse(json) as Record<string, unknown>;
          return rest;
        });
    }
    return objects;
  };

  it('writes the partitions and error prefix Firehose would, named after each source object', async () => {
    // Prepare
    const modified = async (Key: string) =>
      ((await s3.send(new HeadObjectCommand({ Bucket: SOURCE, Key }))).LastModified as Date).getTime();
    const keys = (hour: string) => ({
      account_id: MOTO_ACCOUNT,
      region: MOTO_REGION,
      dt: '2026-11-23',
      hour,
    });
    // Act
    const result = await backfill();
    const objects = await lake();
    // Assess
    expect(result.code).toBe(0);
    const gz = sourceStem(SOURCE, GZ_KEY);
    const text = sourceStem(SOURCE, TEXT_KEY);
    const parquet = sourceStem(SOURCE, PARQUET_KEY);
    const twin = sourceStem(SOURCE, TWIN_KEY);
    expect(Object.keys(objects).sort()).toStrictEqual(
      [
        `backfill/${dataFolder(keys('00'))}${twin}-0.gz`,
        `backfill/${dataFolder(keys('00'))}${gz}-0.gz`,
        `backfill/${dataFolder(keys('01'))}${gz}-0.gz`,
        `backfill/${dataFolder(keys('00'))}${text}-0.gz`,
        `backfill/${dataFolder(keys('00'))}${parquet}-0.gz`,
        `backfill/${errorFolder(await modified(GZ_KEY))}${gz}-0.gz`,
      ].sort(),
    );
    const ports = (key: string) => (objects[key] as { srcport: number }[]).map((r) => r.srcport);
    expect(ports(`backfill/${dataFolder(keys('00'))}${gz}-0.gz`)).toHaveLength(300);
    expect(ports(`backfill/${dataFolder(keys('01'))}${gz}-0.gz`)).toHaveLength(200);
    expect(ports(`backfill/${dataFolder(keys('00'))}${text}-0.gz`)).toStrictEqual(
      TEXT_LINES.map((_, n) => 1024 + 2000 + n),
    );
    // The Parquet object (three GZIP row groups) gives its text twin's records, record for record.
    expect(written).toStrictEqual({ groups: 3, codec: 'GZIP' });
    const parquetRecords = objects[`backfill/${dataFolder(keys('00'))}${parquet}-0.gz`];
    expect(parquetRecords).toHaveLength(TWIN_LINES.length);
    expect(parquetRecords).toStrictEqual(objects[`backfill/${dataFolder(keys('00'))}${twin}-0.gz`]);
    expect(ports(`backfill/${dataFolder(keys('00'))}${parquet}-0.gz`).slice(0, 3)).toStrictEqual([
      1024 + 5000,
      1024 + 5001,
      1024 + 5002,
    ]);
    const [failed] = objects[`backfill/${errorFolder(await modified(GZ_KEY))}${gz}-0.gz`] as {
      rawData: string;
      errorCode: string;
      arrivalTimestamp: number;
    }[];
    expect(failed?.errorCode).toBe('Lambda.ProcessingFailed');
    expect(Buffer.from(failed?.rawData ?? '', 'base64').toString()).toBe('2 not-a-flow-line\n');
    expect(failed?.arrivalTimestamp).toBe(await modified(GZ_KEY));
  }, 60_000);

  it('leaves the same objects, byte for byte in their records, when run again', async () => {
    // Prepare
    const first = await lake();
    // Act
    const again = await backfill();
    const second = await lake();
    // Assess
    expect(again.code).toBe(0);
    expect(Object.keys(first).length).toBeGreaterThan(0);
    expect(second).toStrictEqual(first);
  }, 60_000);
});
