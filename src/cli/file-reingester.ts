import { appendFileSync } from 'node:fs';
import type { Reingester } from '../firehose/reingest.js';

/**
 * The local stand-in for re-ingestion: appends each record as PutRecordBatch's record shape
 * (`{"Data":"<base64 of the original bytes>"}`), one JSON object per line, so the path can be seen offline.
 */
export function createFileReingester(path: string): Reingester & { readonly written: () => number } {
  let written = 0;
  return {
    written: () => written,
    async reingest(_streamArn, records) {
      if (records.length > 0) {
        appendFileSync(
          path,
          records
            .map(
              (data) =>
                `${JSON.stringify({ Data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') })}\n`,
            )
            .join(''),
        );
        written += records.length;
      }
      return { accepted: records.map(() => true), calls: 1, retries: 0 };
    },
  };
}
