import type { Suppression } from '../config.js';
import { ConfigError } from '../errors.js';
import { type Cidr, cidrContains, parseAddress, parseCidr } from '../net/ip.js';
import type { FlowFacts } from './rule.js';

export interface CompiledSuppression {
  readonly flags: ReadonlySet<string>;
  readonly cidr?: Cidr;
  readonly dstport?: number;
  readonly tag?: readonly [string, string];
}

/**
 * Compiles the suppression rules against the flag ids of the rules that run. `loadConfig` has checked
 * each rule's shape and CIDR; the ids are checked here, where the rule table is known.
 * @throws ConfigError naming SUPPRESSIONS, at cold start
 */
export function compileSuppressions(
  rules: readonly Suppression[],
  flagIds: readonly string[],
): CompiledSuppression[] {
  return rules.map((rule, index) => {
    for (const flag of rule.flags) {
      if (flag !== '*' && !flagIds.includes(flag)) {
        throw new ConfigError(
          'SUPPRESSIONS',
          `rule ${index}: ${JSON.stringify(flag)} is not a flag id (one of ${flagIds.join(', ')}, or *)`,
        );
      }
    }
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
