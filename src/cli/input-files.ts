import { readFileSync, statSync } from 'node:fs';
import { ipRangesProblem } from '../enrich/ip-ranges.js';
import { inventoryProblem } from '../enrich/static-inventory.js';
import { INPUT_HEAD_BYTES, inputProblem, readHead } from '../local/inputs.js';
import { CommandError } from './context.js';

/**
 * The files a command is given (`--ip-ranges`, `--inventory`, `--event`, `--input`), checked for their shape
 * before any work: a wrong file is one line naming the flag, the file and what is wrong, exit status 2 (as a
 * usage or configuration error), never a run that silently ignores it.
 */
export class InputFileError extends CommandError {
  constructor(flag: string, path: string, problem: string, options?: { cause?: unknown }) {
    super(`${flag} ${path}: ${problem}`, 2, options);
  }
}

/** The file's JSON, or an InputFileError saying why there is none. */
export function readJsonFile(flag: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputFileError(flag, path, cannotRead(error), { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputFileError(flag, path, `not JSON (${(error as Error).message})`, { cause: error });
  }
}

/** `--ip-ranges FILE` (a URL or `bundled` is not a file): AWS's ip-ranges.json or its compact form. */
export function checkIpRangesFile(path: string): void {
  if (path === 'bundled' || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return;
  const problem = ipRangesProblem(readJsonFile('--ip-ranges', path));
  if (problem) throw new InputFileError('--ip-ranges', path, problem);
}

/** `--inventory FILE`: what `flowlog-enrich inventory` writes. */
export function checkInventoryFile(path: string): unknown {
  const document = readJsonFile('--inventory', path);
  const problem = inventoryProblem(document);
  if (problem) throw new InputFileError('--inventory', path, problem);
  return document;
}

/** `--input PATH` named on the command line: a local file must look like flow logs (folders are listed). */
export function checkInputFile(path: string): void {
  if (path === '-' || path.startsWith('s3://')) return;
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    throw new InputFileError('--input', path, cannotRead(error), { cause: error });
  }
  if (!isFile) return;
  const problem = inputProblem(readHead(path, INPUT_HEAD_BYTES), path);
  if (problem) throw new InputFileError('--input', path, problem);
}

function cannotRead(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES') return 'cannot be read (permission denied)';
  return `cannot be read (${(error as Error).message})`;
}
