import { createServer, type Socket } from 'node:net';

/**
 * A TCP server on 127.0.0.1 (random port) that accepts every connection, reads what it is sent and never
 * answers: an AWS endpoint that hangs. It records the bytes it received, so a test can count the requests.
 */
export interface HungServer {
  readonly url: string;
  /** How many requests named `operation` arrived: the query protocol's `Action=` (EC2, STS) or any text. */
  count(operation: string | RegExp): number;
  /** Connections the client has not closed yet (an aborted request closes its own). */
  openConnections(): number;
  close(): Promise<void>;
}

export async function startHungServer(): Promise<HungServer> {
  const sockets = new Set<Socket>();
  const received: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    const index = received.push('') - 1;
    socket.on('data', (chunk) => {
      received[index] += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    count(operation) {
      const pattern =
        typeof operation === 'string'
          ? new RegExp(`Action=${operation}(&|$)`, 'g')
          : new RegExp(operation, 'g');
      return received.reduce((n, text) => n + (text.match(pattern)?.length ?? 0), 0);
    },
    openConnections: () => sockets.size,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
