import { accessSync, appendFileSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Reingester } from '../firehose/reingest.js';
import { CommandError } from './context.js';

/**
 * The local stand-in for re-ingestion: appends each record as PutRecordBatch's record shape
 * (`{"Data":"<base64 of the original bytes>"}`), one JSON object per line, so the path can be seen offline.
 * The path is checked here, before any record is transformed: a file that cannot be written would otherwise
 * fail every re-ingested record of the event, one by one.
 */
export function createFileReingester(path: string): Reingester & { readonly written: () => number } {
  checkWritable(path);
  let written = 0;
  return {
    written: () => written,
    async reingest(_streamArn, records) {
      if (records.length === 0) return { accepted: [], calls: 0, retries: 0 };
      try {
        appendFileSync(
          path,
          records
            .map(
              (data) =>
                `${JSON.stringify({ Data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') })}\n`,
            )
            .join(''),
        );
      } catch {
        // The Reingester contract: never reject; records not written are not accepted (they fail).
        return { accepted: records.map(() => false), calls: 1, retries: 0 };
      }
      written += records.length;
      return { accepted: records.map(() => true), calls: 1, retries: 0 };
    },
  };
}

/** A file that exists and can be appended to, or a new one in a folder that exists and can be written. */
function checkWritable(path: string): void {
  const problem = (reason: string) => new CommandError(`--reingest-file ${path}: ${reason}`, 2);
  let stats: ReturnType<typeof statSync> | undefined;
  try {
    stats = statSync(path);
  } catch {
    stats = undefined;
  }
  if (stats?.isDirectory()) throw problem('is a folder, not a file');
  if (stats) {
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw problem('cannot be written (permission denied)');
    }
    return;
  }
  const folder = dirname(resolve(path));
  let folderStats: ReturnType<typeof statSync> | undefined;
  try {
    folderStats = statSync(folder);
  } catch {
    throw problem(`the folder ${folder} does not exist`);
  }
  if (!folderStats.isDirectory()) throw problem(`${folder} is not a folder`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw problem(`the folder ${folder} cannot be written (permission denied)`);
  }
}
