import { main } from '../../src/cli.js';

/** Runs a CLI command in process, capturing stdout and stderr. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    env: { ENRICHMENT: 'off', ...env },
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}
