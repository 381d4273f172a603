import { readFileSync } from 'node:fs';
import { yamlParse } from 'yaml-cfn';

export type Node = unknown;
// biome-ignore lint/suspicious/noExplicitAny: parsed CloudFormation YAML has no static shape
export type Yaml = any;
export interface Template {
  Parameters: Record<
    string,
    { Default?: unknown; MinValue?: number; MaxValue?: number; AllowedValues?: unknown[] }
  >;
  Conditions: Record<string, unknown>;
  // CloudFormation YAML is untyped; the template tests walk it freely.
  Resources: Record<string, { Type: string; Condition?: string; Properties: Yaml; Metadata?: Yaml }>;
  Outputs: Record<string, unknown>;
}

export function loadTemplate(): Template {
  return yamlParse(readFileSync(new URL('../../template.yaml', import.meta.url), 'utf8')) as Template;
}

/** Resolves Fn::If for a given set of true conditions and drops AWS::NoValue, like CloudFormation does. */
export function resolveIf(node: Node, truths: ReadonlySet<string>): Node {
  if (Array.isArray(node)) {
    return node.map((item) => resolveIf(item, truths)).filter((item) => item !== NO_VALUE);
  }
  if (node && typeof node === 'object') {
    const record = node as Record<string, Node>;
    if ('Fn::If' in record) {
      const [condition, yes, no] = record['Fn::If'] as [string, Node, Node];
      return resolveIf(truths.has(condition) ? yes : no, truths);
    }
    if (record.Ref === 'AWS::NoValue') return NO_VALUE;
    const out: Record<string, Node> = {};
    for (const [key, value] of Object.entries(record)) {
      const resolved = resolveIf(value, truths);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }
  return node;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** The conditions that hold for each PartitionLayout value. */
export const LAYOUTS: Record<string, string[]> = {
  'account-region-day-hour': ['ByAccount', 'ByHour', 'ByAccountAndHour'],
  'account-region-day': ['ByAccount', 'ByAccountOnly'],
  'region-day-hour': ['ByHour', 'ByHourOnly'],
  'region-day': [],
};

/** Every logical id a node refers to (Ref, Fn::GetAtt, ${...} in Fn::Sub). */
export function references(node: Node, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) references(item, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node as Record<string, Node>)) {
      if (key === 'Ref' && typeof value === 'string') out.add(value);
      else if (key === 'Fn::GetAtt')
        out.add(Array.isArray(value) ? String(value[0]) : (String(value).split('.')[0] as string));
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(value) ? String(value[0]) : String(value);
        for (const match of text.matchAll(/\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z]+)?\}/g))
          out.add(match[1] as string);
        if (Array.isArray(value)) references(value[1], out);
      } else references(value, out);
    }
  }
  return out;
}
