import type { Readable } from 'node:stream';
import { callAws } from '../aws/timeouts.js';
import type { Env } from '../config.js';
import type { ObjectSource } from '../local/inputs.js';
import { awsClientConfig, type PipelineFlags } from './setup.js';

/** An ObjectSource that can also delete and replace objects (redrive --delete-sent). */
export interface S3Objects extends ObjectSource {
  delete(bucket: string, key: string): Promise<void>;
  put(bucket: string, key: string, body: Buffer): Promise<void>;
}

/**
 * S3Objects that also lists each object's LastModified (ms) and size, all pages, and reads byte ranges
 * (`run --out s3://…`: the backfill worker's store, Parquet read a row group at a time).
 */
export interface ListedS3Objects extends S3Objects {
  listDetailed(
    bucket: string,
    prefix: string,
  ): Promise<{ key: string; lastModifiedMs: number; size: number }[]>;
  /** Bytes `[start, end)` of an object (a ranged GET). */
  read(bucket: string, key: string, start: number, end: number): Promise<Uint8Array>;
  /** An object's size in bytes (HeadObject). */
  size(bucket: string, key: string): Promise<number>;
}

/**
 * The CLI's S3 access (`run --input s3://…`, `redrive`): every key under a prefix, all pages; object bodies.
 * The client is loaded only when a command needs it, so it never enters the Lambda bundle.
 */
export async function s3Objects(
  flags: Pick<PipelineFlags, 'region' | 'endpointUrl'>,
  env: Env,
): Promise<ListedS3Objects> {
  const {
    S3Client,
    ListObjectsV2Command,
    GetObjectCommand,
    HeadObjectCommand,
    DeleteObjectCommand,
    PutObjectCommand,
  } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ ...awsClientConfig(flags, env), forcePathStyle: Boolean(flags.endpointUrl) });
  const listDetailed = async (bucket: string, prefix: string) => {
    const keys: { key: string; lastModifiedMs: number; size: number }[] = [];
    let token: string | undefined;
    do {
      const command = new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: token,
      });
      const page = await callAws('S3 ListObjectsV2', command, (abortSignal) =>
        client.send(command, { abortSignal }),
      );
      for (const object of page.Contents ?? [])
        if (object.Key && !object.Key.endsWith('/'))
          keys.push({
            key: object.Key,
            lastModifiedMs: object.LastModified?.getTime() ?? 0,
            size: object.Size ?? 0,
          });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  };
  return {
    async list(bucket, prefix) {
      return (await listDetailed(bucket, prefix)).map((object) => object.key);
    },
    listDetailed,
    async get(bucket, key) {
      const command = new GetObjectCommand({ Bucket: bucket, Key: key });
      const object = await callAws('S3 GetObject', command, (abortSignal) =>
        client.send(command, { abortSignal }),
      );
      return Buffer.from(
        await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    },
    async read(bucket, key, start, end) {
      const command = new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` });
      const object = await callAws('S3 GetObject', command, (abortSignal) =>
        client.send(command, { abortSignal }),
      );
      return (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    },
    async size(bucket, key) {
      const command = new HeadObjectCommand({ Bucket: bucket, Key: key });
      const head = await callAws('S3 HeadObject', command, (abortSignal) =>
        client.send(command, { abortSignal }),
      );
      return head.ContentLength ?? 0;
    },
    async open(bucket, key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return object.Body as Readable;
    },
    async delete(bucket, key) {
      const command = new DeleteObjectCommand({ Bucket: bucket, Key: key });
      await callAws('S3 DeleteObject', command, (abortSignal) => client.send(command, { abortSignal }));
    },
    async put(bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
  };
}
