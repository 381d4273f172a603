import type { Env } from '../config.js';

/** What a CLI command may touch, injected so tests run commands in process. */
export interface CliContext {
  readonly env: Env;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** A mistake in how the command was called: exit status 2, the message on stderr. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
