import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../queries/', import.meta.url);
const queries = readdirSync(dir)
  .filter((file) => file.endsWith('.sql'))
  .map((file) => ({ name: file.replace(/\.sql$/, ''), sql: readFileSync(new URL(file, dir), 'utf8') }));

/** The output names of a query's grouped columns: `expr AS name` or a bare column, for each GROUP BY key. */
function groupedOutputs(sql: string): string[] {
  const body = sql.replace(/--.*$/gm, '');
  const select = /SELECT([\s\S]*?)\bFROM\b/gi;
  let last: RegExpExecArray | null = null;
  for (let m = select.exec(body); m; m = select.exec(body)) last = m;
  const items = (last?.[1] ?? '').split(/,(?![^(]*\))/).map((item) => item.trim());
  const group =
    /GROUP BY([\s\S]*?)(?:\bHAVING\b|\bORDER BY\b|\bLIMIT\b|$)/i.exec(body.slice(last?.index ?? 0))?.[1] ??
    '';
  const keys = group.split(/,(?![^(]*\))/).map((key) => key.trim().replace(/\s+/g, ' '));
  return items
    .map((item) => /^(.*?)(?:\s+AS\s+(\w+))?$/is.exec(item) as RegExpExecArray)
    .filter(([, expr]) => keys.includes((expr ?? '').trim().replace(/\s+/g, ' ')))
    .map(([, expr, alias]) => alias ?? (expr as string).split('.').pop() ?? '');
}

describe('named queries', () => {
  // Rows that tie on the sort key must still come in one order: in Athena and DuckDB alike, the order of ties
  // follows how the engine happened to aggregate, so the same data gave two different tables (a README
  // output test caught it).
  it.each(queries.filter((q) => /GROUP BY/i.test(q.sql) && /ORDER BY/i.test(q.sql)))(
    '$name orders its rows by every grouped column, after its sort key',
    ({ sql }) => {
      const orderBy = /ORDER BY([\s\S]*?)(?:\bLIMIT\b|$)/i.exec(sql.replace(/--.*$/gm, ''))?.[1] ?? '';
      const grouped = groupedOutputs(sql);
      expect(grouped.length).toBeGreaterThan(0);
      for (const column of grouped)
        expect(orderBy, `ORDER BY lacks ${column}`).toMatch(new RegExp(`\\b${column}\\b`));
    },
  );
});
