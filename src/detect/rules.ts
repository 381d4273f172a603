import type { DetectionConfig, Suppression } from '../config.js';
import { type Cidr, cidrContains, parseAddress, parseCidr } from '../enrich/ip.js';
import type { Enrichment } from '../enrich/types.js';
import type { Flow } from '../flowlog/parse.js';
import type { Severity } from './types.js';

/** Flag ids: stable API — Athena queries, alarms and the README table depend on them. */
export const FLAG = {
  portScan: 'port_scan',
  adminPortRejected: 'admin_port_rejected',
  bruteForce: 'brute_force',
  dbPortRejected: 'db_port_rejected',
  largeTransfer: 'large_transfer',
  externalToInternalTier: 'external_to_internal_tier',
  unusualProtocol: 'unusual_protocol',
  highConnectionRate: 'high_connection_rate',
  exfiltrationVolume: 'exfiltration_volume',
} as const;

export type FlagId = (typeof FLAG)[keyof typeof FLAG];

export const SEVERITY_OF: Readonly<Record<FlagId, Severity>> = {
  port_scan: 'critical',
  admin_port_rejected: 'warning',
  brute_force: 'critical',
  db_port_rejected: 'warning',
  large_transfer: 'warning',
  external_to_internal_tier: 'critical',
  unusual_protocol: 'info',
  high_connection_rate: 'warning',
  exfiltration_volume: 'warning',
};

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMPV6 = 58;
const SYN = 2;
const SYN_ACK = 18;

/**
 * Service ports that sit above 1024 but are still a server's side of a connection (databases, admin,
 * common application ports). Together with the admin and database lists from configuration.
 */
const REGISTERED_SERVICE_PORTS = [
  1080, 1194, 1433, 1521, 1883, 2049, 2375, 2376, 2379, 3000, 3128, 3268, 3306, 3389, 4443, 5000, 5044, 5432,
  5439, 5601, 5671, 5672, 5900, 5985, 5986, 6379, 6443, 7001, 8000, 8008, 8080, 8081, 8088, 8443, 8888, 9000,
  9042, 9090, 9092, 9093, 9100, 9200, 9300, 9443, 10250, 11211, 15672, 27017, 50000,
];

/** Who opened the connection a record belongs to: its source (`src`), its destination (`dst`), or unknown. */
export type Initiator = 'src' | 'dst' | undefined;

/**
 * Decides which side initiated, per record. TCP flags first (flow logs record SYN as 2 and SYN-ACK as 18,
 * OR-ed over the aggregation interval; ACK alone is not recorded): SYN without SYN-ACK marks the
 * initiator's packets, SYN-ACK the responder's. Else the ports: a service port on one side and an
 * ephemeral one on the other. A rejected attempt counts as initiated unless its flags say it is a reply.
 */
export function initiator(flow: Flow, servicePorts: ReadonlySet<number>): Initiator {
  const flags = flow.tcp_flags;
  if (flow.protocol === TCP && typeof flags === 'number') {
    if ((flags & SYN_ACK) === SYN_ACK) return 'dst';
    if ((flags & SYN) === SYN) return 'src';
  }
  if (flow.action === 'REJECT') return 'src';
  if (flow.protocol !== TCP && flow.protocol !== UDP) return undefined;
  const src = flow.srcport;
  const dst = flow.dstport;
  if (typeof src !== 'number' || typeof dst !== 'number') return undefined;
  const srcService = src < 1024 || servicePorts.has(src);
  const dstService = dst < 1024 || servicePorts.has(dst);
  if (dstService && !srcService) return 'src';
  if (srcService && !dstService) return 'dst';
  if (srcService && dstService) return dst < src ? 'src' : src < dst ? 'dst' : undefined;
  // Both unregistered: the lower one below the usual ephemeral ranges (32768+) is the server.
  if (dst < 32768 && src >= 32768) return 'src';
  if (src < 32768 && dst >= 32768) return 'dst';
  return undefined;
}

export function servicePortSet(config: DetectionConfig): Set<number> {
  return new Set([...REGISTERED_SERVICE_PORTS, ...config.adminPorts, ...config.dbPorts]);
}

export function isUnusualProtocol(flow: Flow): boolean {
  const p = flow.protocol;
  return typeof p === 'number' && p !== TCP && p !== UDP && p !== ICMP && p !== ICMPV6;
}

export function isLargeTransfer(flow: Flow, config: DetectionConfig): boolean {
  return typeof flow.bytes === 'number' && flow.bytes > config.largeTransferBytes;
}

export function isRejectedTo(flow: Flow, ports: ReadonlySet<number>, who: Initiator): boolean {
  return (
    flow.action === 'REJECT' && who === 'src' && typeof flow.dstport === 'number' && ports.has(flow.dstport)
  );
}

/**
 * Accepted traffic that an internet address opened into an interface whose subnet tier is internal. The
 * interface is the flow's destination when the record is ingress at it.
 */
export function isExternalToInternalTier(
  flow: Flow,
  enrichment: Enrichment | undefined,
  who: Initiator,
  internalTiers: ReadonlySet<string>,
): boolean {
  if (flow.action !== 'ACCEPT' || who !== 'src') return false;
  if (enrichment?.direction !== 'ingress' || enrichment.peer_scope !== 'external') return false;
  const tier = enrichment.eni?.info.subnetTier;
  return tier !== undefined && internalTiers.has(tier);
}

interface CompiledSuppression {
  readonly flags: ReadonlySet<string>;
  readonly cidr?: Cidr;
  readonly dstport?: number;
  readonly tag?: readonly [string, string];
}

export function compileSuppressions(rules: readonly Suppression[]): CompiledSuppression[] {
  return rules.map((rule) => {
    const at = rule.tag?.indexOf('=') ?? -1;
    const cidr = rule.cidr ? parseCidr(rule.cidr) : undefined;
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
export function isSuppressed(
  flag: string,
  flow: Flow,
  enrichment: Enrichment | undefined,
  rules: readonly CompiledSuppression[],
): boolean {
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
