import type { Suppression } from '../config.js';
import { type Cidr, cidrContains, parseAddress, parseCidr } from '../enrich/ip.js';
import type { FlowFacts } from './rule.js';

export interface CompiledSuppression {
  readonly flags: ReadonlySet<string>;
  readonly cidr?: Cidr;
  readonly dstport?: number;
  readonly tag?: readonly [string, string];
}

/** Configuration has already checked every rule (`loadConfig`): a CIDR that does not parse is a bug here. */
export function compileSuppressions(rules: readonly Suppression[]): CompiledSuppression[] {
  return rules.map((rule) => {
    const at = rule.tag?.indexOf('=') ?? -1;
    let cidr: Cidr | undefined;
    if (rule.cidr !== undefined) {
      cidr = parseCidr(rule.cidr);
      // Never let a condition fall away: a rule without it would silence every match of its flags.
      if (cidr === undefined) throw new Error(`suppression CIDR ${JSON.stringify(rule.cidr)} does not parse`);
    }
    return {
      flags: new Set(rule.flags),
      ...(cidr ? { cidr } : {}),
      ...(rule.dstport !== undefined ? { dstport: rule.dstport } : {}),
      ...(rule.tag && at > 0 ? { tag: [rule.tag.slice(0, at), rule.tag.slice(at + 1)] as const } : {}),
    };
  });
}

/**
 * True when a rule silences this flag on this flow: every condition the rule names must hold — the
 * source address in `cidr`, the destination port, the interface's tag.
 */
export function isSuppressed(flag: string, facts: FlowFacts, rules: readonly CompiledSuppression[]): boolean {
  const { flow, enrichment } = facts;
  for (const rule of rules) {
    if (!rule.flags.has('*') && !rule.flags.has(flag)) continue;
    if (rule.dstport !== undefined && flow.dstport !== rule.dstport) continue;
    if (rule.cidr) {
      const source = flow.pkt_srcaddr ?? flow.srcaddr;
      const parsed = source ? parseAddress(source) : undefined;
      if (!parsed || !cidrContains(rule.cidr, parsed)) continue;
    }
    if (rule.tag && enrichment?.eni?.info.allTags?.[rule.tag[0]] !== rule.tag[1]) continue;
    return true;
  }
  return false;
}
