import { close, fstatSync, openSync, read } from 'node:fs';

/**
 * One `read` job for the whole file, queued before this returns. `fs.promises.readFile` would read it in
 * 512 KiB steps, each queued by a callback on the main thread — which is busy evaluating modules, so only
 * the first step would overlap with them.
 */
export function readWhole(path: URL): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let fd: number;
    let buffer: Buffer;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      reject(error);
      return;
    }
    try {
      buffer = Buffer.allocUnsafeSlow(fstatSync(fd).size);
    } catch (error) {
      close(fd, () => {});
      reject(error);
      return;
    }
    const from = (offset: number) =>
      read(fd, buffer, offset, buffer.length - offset, offset, (error, bytes) => {
        if (!error && bytes > 0 && offset + bytes < buffer.length) return from(offset + bytes);
        close(fd, () => {});
        if (error) reject(error);
        else if (offset + bytes < buffer.length) reject(new Error(`${path.pathname}: shorter than its size`));
        else resolve(buffer);
      });
    from(0);
  });
}

/**
 * The peer database beside the Lambda bundle, read from the moment the bundle starts to evaluate: handler.ts
 * imports this module first, so the read (10 MB, most of its cost first touches of memory) runs on libuv's
 * thread pool while the AWS SDK's modules initialise and the pipeline is built. Only a head start:
 * PEER_LOOKUP is read and checked with the rest of the configuration, and a failed read fails the cold
 * start there, not here.
 */
export const PEER_DATA_PATH = new URL('./peer-data.bin', import.meta.url);

export const peerDataRead: Promise<Buffer> | undefined =
  process.env.PEER_LOOKUP === 'off' ? undefined : readWhole(PEER_DATA_PATH);
// Awaited by the pipeline, or never (when the configuration turns the lookup off, or fails first).
peerDataRead?.catch(() => {});
