// Replaces data/ip-ranges.json with AWS's current published file. Needs internet access; run it yourself
// (npm run update-ip-ranges) before `sam build` to ship a complete, current snapshot.
import { writeFileSync } from 'node:fs';

const URL_ = 'https://ip-ranges.amazonaws.com/ip-ranges.json';
const response = await fetch(URL_, { signal: AbortSignal.timeout(30_000) });
if (!response.ok) throw new Error(`${URL_}: HTTP ${response.status}`);
const document = await response.json();
if (!Array.isArray(document.prefixes) || !Array.isArray(document.ipv6_prefixes)) {
  throw new Error(`${URL_} did not return an ip-ranges document`);
}
writeFileSync(new URL('../data/ip-ranges.json', import.meta.url), `${JSON.stringify(document)}\n`);
console.error(
  `data/ip-ranges.json: ${document.prefixes.length + document.ipv6_prefixes.length} prefixes, created ${document.createDate}`,
);
