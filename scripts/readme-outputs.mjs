// README.md's command outputs, from real runs. Every ```text block right after an `<!-- OUTPUT -->` marker
// starts with the command(s) it shows (`$ npm start`, `$ npx flowlog-enrich …`); this script runs them, in
// README order and in one scratch directory (so a query runs over what the demo wrote), and writes what they
// printed under each command.
//
//   npm run readme-outputs            rewrites the blocks
//   node scripts/readme-outputs.mjs --check
//                                     exits 1 when a block differs from a fresh run (test/integration/readme-outputs.test.ts)
//
// `<!-- OUTPUT lines=N -->` keeps the first N lines of a command's output and says how many were left out.
// In --check, what varies from run to run on the same code (durations, rates, time per line, the cost lines
// computed from it, sizes of the report) is compared as `#`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const MARKER = /^<!-- OUTPUT(?: lines=(\d+))? -->$/;

/** The blocks of `readme`: where each starts and ends (line indexes) and its commands. */
export function findBlocks(readme) {
  const lines = readme.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i]);
    if (!marker) continue;
    if (lines[i + 1] !== '```text')
      throw new Error(`README line ${i + 2}: an OUTPUT marker must precede a \`\`\`text block`);
    const end = lines.indexOf('```', i + 2);
    if (end === -1) throw new Error(`README line ${i + 2}: unterminated block`);
    const commands = lines.slice(i + 2, end).filter((line) => line.startsWith('$ '));
    if (commands.length === 0) throw new Error(`README line ${i + 2}: the block names no command ($ …)`);
    blocks.push({
      start: i + 2,
      end,
      commands: commands.map((c) => c.slice(2)),
      limit: marker[1] ? Number(marker[1]) : undefined,
    });
  }
  return blocks;
}

/** Masks what differs between two runs of the same code. */
export function mask(text) {
  return text
    .replace(/\$\s?[\d,]+\.\d\d/g, '$#')
    .replace(/\b\d[\d,.]* ?(?:ms|s|µs\/line|µs|KB|MB\/s|lines\/s|GB-s)\b/g, '# unit')
    .replace(/[\d,]+ invocations\b/g, '# invocations');
}

function run(command, cwd, cli) {
  // The README shows what a user types; here the CLI is the one just built.
  const shell = command
    .replace(/^npm start\b/, `node ${JSON.stringify(cli)} demo`)
    .replace(/^npx flowlog-enrich\b/, `node ${JSON.stringify(cli)}`);
  const out = execFileSync('sh', ['-c', `${shell} 2>&1`], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', AWS_EC2_METADATA_DISABLED: 'true' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return out.replaceAll(`${cwd}/`, '').replace(/\n+$/, '');
}

function render(block, cwd, cli) {
  const out = [];
  for (const command of block.commands) {
    out.push(`$ ${command}`);
    const lines = run(command, cwd, cli).split('\n');
    const kept =
      block.limit !== undefined && lines.length > block.limit ? lines.slice(0, block.limit) : lines;
    out.push(...kept.map((line) => line.trimEnd()));
    if (kept.length < lines.length) out.push(`… (${lines.length - kept.length} more lines)`);
  }
  return out;
}

/** The README with every block from a fresh run. */
export function regenerate(readme, cli = join(root, 'dist/cli.js')) {
  const cwd = mkdtempSync(join(tmpdir(), 'readme-outputs-'));
  // Commands name the sample events as a user in the project folder would.
  symlinkSync(join(root, 'events'), join(cwd, 'events'));
  try {
    const lines = readme.split('\n');
    // From the last block up, so earlier indexes stay valid; but run in README order.
    const blocks = findBlocks(readme);
    const rendered = blocks.map((block) => render(block, cwd, cli));
    for (let k = blocks.length - 1; k >= 0; k--) {
      const block = blocks[k];
      lines.splice(block.start, block.end - block.start, ...rendered[k]);
    }
    return lines.join('\n');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = join(root, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const fresh = regenerate(readme, process.env.FLOWLOG_CLI);
  if (process.argv.includes('--check')) {
    if (mask(fresh) !== mask(readme)) {
      const a = mask(readme).split('\n');
      const b = mask(fresh).split('\n');
      const i = a.findIndex((line, k) => line !== b[k]);
      process.stderr.write(
        `README.md's command outputs are stale (npm run readme-outputs):\n  line ${i + 1}\n  README: ${a[i]}\n  fresh:  ${b[i]}\n`,
      );
      process.exit(1);
    }
  } else if (fresh !== readme) {
    writeFileSync(path, fresh);
    process.stderr.write('README.md: command outputs rewritten\n');
  }
}
