import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readWhole } from '../../src/prefetch.js';

const dir = mkdtempSync(join(tmpdir(), 'flowlog-prefetch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readWhole', () => {
  it.each([
    { name: 'an empty file', bytes: Buffer.alloc(0) },
    { name: 'a few bytes', bytes: Buffer.from('FLPEER\0\0') },
    { name: 'several MB', bytes: Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7919) % 251)) },
  ])('reads $name exactly as readFileSync does', async ({ name, bytes }) => {
    // Prepare
    const path = join(dir, `${name}.bin`);
    writeFileSync(path, bytes);

    // Act
    const read = await readWhole(pathToFileURL(path));

    // Assess
    expect(read.equals(readFileSync(path))).toBe(true);
  });

  it('rejects, never throws, for a file that is not there', async () => {
    // Act
    const read = readWhole(pathToFileURL(join(dir, 'missing.bin')));

    // Assess
    await expect(read).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects for a folder', async () => {
    await expect(readWhole(pathToFileURL(dir))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
