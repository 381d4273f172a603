import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** A flow line (default format) per number; `hour` spreads `start` over the hours after 2026-11-23T00:00Z. */
export function flowLine(n: number, hour = 0): string {
  const start = 1_795_392_000 + hour * 3600 + (n % 3000);
  return `2 123456789012 eni-1235b8ca123456789 10.0.${n % 7}.${n % 250} 52.94.${n % 200}.${n % 97} ${1024 + (n % 60_000)} 443 6 ${1 + (n % 50)} ${40 + (n % 90_000)} ${start} ${start + 60} ACCEPT OK`;
}

/** `count` flow lines from number `from`, in the first hour. */
export const flowLines = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => flowLine(from + i));

/** Every file under a folder (none if it does not exist). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** srcaddr, srcport and start of every record `run` wrote under `<out>/flowlogs`, sorted: which lines made it. */
export function outputKeys(out: string): string[] {
  return filesUnder(join(out, 'flowlogs'))
    .flatMap((f) => gunzipSync(readFileSync(f)).toString().trimEnd().split('\n'))
    .map((l) => {
      const r = JSON.parse(l) as { srcport: number; start: number; srcaddr: string };
      return `${r.srcaddr} ${r.srcport} ${r.start}`;
    })
    .sort();
}

/** The same keys of input lines, to compare with `outputKeys`. */
export const keysOf = (input: readonly string[]) =>
  input
    .map((l) => {
      const t = l.split(' ');
      return `${t[3]} ${t[5]} ${t[10]}`;
    })
    .sort();
