import type { CompactIpRanges } from '../src/enrich/ip-ranges.js';

export interface Compiler {
  compileIpRanges(document: unknown): CompactIpRanges;
  parseCreateDate(text: string): number | undefined;
}
export interface Source {
  readonly bytes: Buffer;
  readonly source: string;
}
export type CompactFile = CompactIpRanges & {
  readonly _note: string;
  readonly source: string;
  readonly sourceSha256: string;
};
export const AWS_IP_RANGES_URL: string;
export const DEFAULT_OUT: string;
export function loadCompiler(): Promise<Compiler>;
export function fetchIpRanges(
  url: string,
  options?: { fetch?: typeof fetch; timeoutMs?: number },
): Promise<Source>;
export function compileSource(input: Source, compiler: Compiler): CompactFile;
export function serializeCompact(compact: CompactFile): string;
export function updateIpRanges(options?: {
  from?: string;
  url?: string;
  out?: string;
  fetch?: typeof fetch;
  compiler?: Compiler;
}): Promise<{ compact: CompactFile; bytes: number; previous: string | undefined }>;
