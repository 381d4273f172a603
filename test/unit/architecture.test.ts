import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The module map of ARCHITECTURE.md, checked: folders of src/ import each other without cycles (type
// imports included: they are dependencies of the design too), and the pure stages never reach the edges.

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/** A file's node: its folder under src/, or the file itself at the top (config.ts, transform.ts …). */
function nodeOf(file: string): string {
  const path = relative(src, file);
  return path.includes('/') ? (path.split('/')[0] as string) : path.replace(/\.js$/, '.ts');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** node → nodes it imports (relative imports and re-exports, `import type` included). */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(src)) {
    const from = nodeOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gms)) {
      const target = nodeOf(normalize(join(dirname(file), match[1] as string)));
      if (target !== from) edges.add(target);
    }
  }
  return graph;
}

function cycles(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

describe('the module map', () => {
  const graph = importGraph();

  it('has no import cycles between folders (or top-level files)', () => {
    expect(cycles(graph).map((cycle) => cycle.join(' → '))).toStrictEqual([]);
  });

  it.each(['flowlog', 'enrich', 'detect', 'output', 'firehose', 'net', 'bytes'])(
    '%s reaches neither the AWS SDK adapters, the CLI, nor the transform',
    (folder) => {
      const reached = new Set<string>();
      const walk = (node: string) => {
        for (const next of graph.get(node) ?? []) {
          if (!reached.has(next)) {
            reached.add(next);
            walk(next);
          }
        }
      };
      walk(folder);
      for (const edge of ['aws', 'cli', 'local', 'transform.ts', 'handler.ts', 'pipeline.ts', 'cli.ts'])
        expect(reached.has(edge), `${folder} → ${edge}`).toBe(false);
    },
  );

  it('is the map ARCHITECTURE.md draws: every folder and top-level module of src/ is on it', () => {
    const page = readFileSync(new URL('../../ARCHITECTURE.md', import.meta.url), 'utf8');
    for (const node of graph.keys()) {
      const name = node.endsWith('.ts') ? node : `${node}/`;
      expect(page, `${name} in ARCHITECTURE.md`).toContain(`\`${name}\``);
    }
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ]);
    expect(cycles(graph)).toStrictEqual([['a', 'b', 'c', 'a']]);
  });
});
