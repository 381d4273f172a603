// The registry mirror this project is developed against serves only some platforms' builds of Biome and
// DuckDB, so `npm install` here leaves their other platforms' optional packages out of package-lock.json,
// and `npm ci` then refuses the lock. This adds the missing optional entries (version, os, cpu, libc only):
// npm skips them on other platforms and fetches them by name and version where they apply.
// Usage: node scripts/complete-lock.mjs   (after any `npm install` that rewrote the lock)
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] || packages[`${location}/${key}`]) continue;
    const match = /-(darwin|linux|win32|android|freebsd)-(arm64|x64|ia32|arm)(-musl)?$/.exec(name);
    if (!match) continue;
    packages[key] = {
      version: spec.replace(/^[\^~=]/, ''),
      cpu: [match[2]],
      ...(match[3] ? { libc: ['musl'] } : match[1] === 'linux' ? { libc: ['glibc'] } : {}),
      optional: true,
      os: [match[1]],
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.error(`package-lock.json: added ${added} optional platform entries`);
