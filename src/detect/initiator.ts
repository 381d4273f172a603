import type { DetectionConfig } from '../config.js';
import type { Flow } from '../flowlog/parse.js';

export const TCP = 6;
export const UDP = 17;
export const ICMP = 1;
export const ICMPV6 = 58;
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

/** The address that opened the flow: the packet's own source when the format has it (NAT, load balancers). */
export function sourceAddress(flow: Flow): string | undefined {
  return flow.pkt_srcaddr ?? flow.srcaddr ?? undefined;
}

export function destinationAddress(flow: Flow): string | undefined {
  return flow.pkt_dstaddr ?? flow.dstaddr ?? undefined;
}

/** A rejected attempt the source made to one of these destination ports. */
export function isRejectedTo(flow: Flow, ports: ReadonlySet<number>, who: Initiator): boolean {
  return (
    flow.action === 'REJECT' && who === 'src' && typeof flow.dstport === 'number' && ports.has(flow.dstport)
  );
}
