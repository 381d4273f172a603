/**
 * Starts and stops a private `moto_server` (AWS emulator) on a free loopback port for one test file.
 * Nothing here talks to anything but 127.0.0.1.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** moto's default account and the region the tests use. */
export const MOTO_ACCOUNT = '123456789012';
export const MOTO_REGION = 'us-east-1';
export const MOTO_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

const READY_TIMEOUT_MS = 20_000;

export interface Moto {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Clears every emulated resource. */
  reset(): Promise<void>;
  /** Empties the request recording and starts recording. */
  startRecording(): Promise<void>;
  /** Stops recording and returns the requests received since `startRecording`, in order. */
  stopRecording(): Promise<RecordedCall[]>;
  /** Kills the server by its PID and removes its scratch folder. */
  stop(): Promise<void>;
}

/** Whether `moto_server` can be run (on PATH, and its Python has moto installed). */
export function motoServerAvailable(): boolean {
  const probe = spawnSync('moto_server', ['--help'], { stdio: 'ignore', timeout: 30_000 });
  return probe.error === undefined && probe.status === 0;
}

/**
 * Whether a suite that needs moto_server runs: where it is missing, the suite is skipped with a message,
 * except under CI (`CI=true`), where `required` makes the suite's beforeAll fail instead.
 */
export function motoGate(suite: string): { available: boolean; required: boolean } {
  const available = motoServerAvailable();
  const required = process.env.CI === 'true';
  if (!available && !required) {
    console.warn(
      `moto_server is not on PATH: skipping the ${suite} (pip install "moto[server]"; with CI=true they fail)`,
    );
  }
  return { available, required };
}

/** A port nobody listens on right now: listen on port 0, read the port, close. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // moto writes its request recording to a file; keep it (and anything else) out of the repository.
  const scratch = mkdtempSync(join(tmpdir(), 'flowlog-moto-'));
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    cwd: scratch,
    env: { ...process.env, MOTO_RECORDER_FILEPATH: join(scratch, 'recording.jsonl') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });

  const stop = async () => {
    await kill(child, exited);
    rmSync(scratch, { recursive: true, force: true });
  };

  const started = Date.now();
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(
        `moto_server exited before answering (${spawnError?.message ?? `code ${child.exitCode}`}):\n${output}`,
      );
    }
    if (await answers(`${endpoint}/moto-api/`)) break;
    if (Date.now() - started > READY_TIMEOUT_MS) {
      await stop();
      throw new Error(`moto_server did not answer on ${endpoint} within ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(100);
  }

  const post = async (path: string) => {
    const response = await fetch(`${endpoint}${path}`, { method: 'POST' });
    if (!response.ok) throw new Error(`POST ${path}: HTTP ${response.status}`);
    await response.text();
  };

  return {
    endpoint,
    port,
    pid: child.pid as number,
    reset: () => post('/moto-api/reset'),
    async startRecording() {
      await post('/moto-api/recorder/reset-recording');
      await post('/moto-api/recorder/start-recording');
    },
    async stopRecording() {
      await post('/moto-api/recorder/stop-recording');
      const response = await fetch(`${endpoint}/moto-api/recorder/download-recording`);
      if (!response.ok) throw new Error(`download-recording: HTTP ${response.status}`);
      return parseRecording(await response.text());
    },
    stop,
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.text();
    return response.ok;
  } catch {
    return false;
  }
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  process.kill(child.pid, 'SIGTERM');
  const gone = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
  if (!gone && child.exitCode === null && child.signalCode === null) {
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }
}

interface RecordedRequest {
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly body_encoded?: boolean;
}

/** One request moto received: its operation and (query protocols) its form parameters. */
export interface RecordedCall {
  readonly action: string;
  readonly params: URLSearchParams;
}

/** Reads moto's recording (one JSON request per line, body base64 when `body_encoded`). */
export function parseRecording(text: string): RecordedCall[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const request = JSON.parse(line) as RecordedRequest;
      const body = request.body_encoded
        ? Buffer.from(request.body ?? '', 'base64').toString('utf8')
        : (request.body ?? '');
      const params = new URLSearchParams(body);
      const target = Object.entries(request.headers ?? {}).find(
        ([name]) => name.toLowerCase() === 'x-amz-target',
      );
      const action = params.get('Action') ?? target?.[1].split('.').pop() ?? 'unknown';
      return { action, params };
    });
}
