/**
 * Reads a Glue Presto view as Athena does: `/* Presto View: <base64 JSON> *\/`, after CloudFormation has
 * resolved the intrinsic functions that build it.
 */
import type { Yaml } from './template.js';

/** Resolves Ref, Fn::Sub, Fn::Base64 and Fn::Join with the given values for the Refs (Fn::If already resolved). */
export function evaluate(node: Yaml, refs: Readonly<Record<string, string>>): Yaml {
  if (Array.isArray(node)) return node.map((item) => evaluate(item, refs));
  if (!node || typeof node !== 'object') return node;
  if ('Ref' in node) {
    const value = refs[node.Ref];
    if (value === undefined) throw new Error(`no value for Ref ${node.Ref}`);
    return value;
  }
  if ('Fn::Join' in node) {
    const [separator, items] = node['Fn::Join'] as [string, Yaml[]];
    return (evaluate(items, refs) as string[]).join(separator);
  }
  if ('Fn::Base64' in node)
    return Buffer.from(evaluate(node['Fn::Base64'], refs) as string).toString('base64');
  if ('Fn::Sub' in node) {
    const [text, map] = (Array.isArray(node['Fn::Sub']) ? node['Fn::Sub'] : [node['Fn::Sub'], {}]) as [
      string,
      Record<string, Yaml>,
    ];
    const values: Record<string, string> = { ...refs };
    for (const [key, value] of Object.entries(map)) values[key] = evaluate(value, refs) as string;
    return text.replace(/\$\{(!?)([^}]*)\}/g, (_, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      const value = values[name];
      if (value === undefined) throw new Error(`Fn::Sub: no value for \${${name}}`);
      return value;
    });
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, evaluate(v, refs)]));
}

export interface PrestoView {
  originalSql: string;
  catalog: string;
  schema: string;
  columns: { name: string; type: string }[];
}

export function decode(viewOriginalText: string): PrestoView {
  const match = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(viewOriginalText);
  if (!match) throw new Error(`not a Presto view: ${viewOriginalText.slice(0, 40)}`);
  return JSON.parse(Buffer.from(match[1] as string, 'base64').toString('utf8')) as PrestoView;
}
