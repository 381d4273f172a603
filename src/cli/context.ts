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

/**
 * A command that cannot go on, for a reason the user can act on (a stream that does not exist, access
 * denied, a missing file): one line on stderr, no usage text and no stack; exit status `exitCode`.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
