import type { DetectionConfig } from '../config.js';
import type { Flow } from '../flowlog/parse.js';
import {
  compileSuppressions,
  FLAG,
  type FlagId,
  type Initiator,
  initiator,
  isExternalToInternalTier,
  isLargeTransfer,
  isRejectedTo,
  isSuppressed,
  isUnusualProtocol,
  SEVERITY_OF,
  servicePortSet,
} from './rules.js';
import {
  type Detection,
  type DetectionBatch,
  type Detector,
  NO_FINDINGS,
  SEVERITY_RANK,
  type Severity,
} from './types.js';

/** What one source did inside the window: timestamps (flow start, seconds) of its initiated activity. */
interface SourceWindow {
  /** Destination port → when it was last reached (insertion order = age). */
  readonly ports: Map<number, number>;
  /** Rejected admin-port attempts. */
  adminRejects: number[];
  /** Connections it opened into the VPC (external sources only). */
  inbound: number[];
}

interface DestinationWindow {
  /** [time, bytes] pairs of egress to one external address. */
  transfers: [number, number][];
}

/** What one flow of the batch contributes, computed once in `evaluate` and reused by `commit`. */
interface Contribution {
  readonly source: string | undefined;
  readonly time: number;
  readonly port: number | undefined;
  readonly adminReject: boolean;
  readonly inbound: boolean;
  readonly egressTo: string | undefined;
  readonly bytes: number;
}

/**
 * Runs the rules over a whole batch before writing any flag, so that when a source crosses a threshold
 * anywhere in the batch, every one of its flows in the batch that is part of the pattern is flagged.
 * Windowed rules also see a sliding window of earlier batches kept in this container's memory, bounded in
 * the number of sources and destinations it tracks (oldest evicted first). Only flows returned `Ok` are
 * committed to the window, so a re-ingested record counts once, when it comes back.
 */
export function createDetector(config: DetectionConfig): Detector & { readonly windowSize: () => number } {
  const servicePorts = servicePortSet(config);
  const adminPorts = new Set(config.adminPorts);
  const dbPorts = new Set(config.dbPorts);
  const internalTiers = new Set(config.internalTiers);
  const suppressions = compileSuppressions(config.suppressions);
  const sources = new Map<string, SourceWindow>();
  const destinations = new Map<string, DestinationWindow>();
  const windowSeconds = config.windowSeconds;
  // Port sets beyond the threshold add nothing: keep at most this many per source.
  const portCap = config.portScanThreshold;

  const sourceWindow = (source: string): SourceWindow | undefined => sources.get(source);

  /** The window entry of a key, created when missing; past the bound, the oldest key goes first. */
  function touch<K, V>(map: Map<K, V>, key: K, create: () => V): V {
    let value = map.get(key);
    if (value === undefined) {
      value = create();
      if (map.size >= config.windowMaxSources) map.delete(map.keys().next().value as K);
      map.set(key, value);
    }
    return value;
  }

  return {
    windowSize: () => sources.size + destinations.size,
    evaluate(flows, enrichments, nowMs): DetectionBatch {
      const fallbackTime = Math.floor(nowMs / 1000);
      const contributions: Contribution[] = new Array(flows.length);
      const who: Initiator[] = new Array(flows.length);
      let latest = 0;

      // 1. What each flow contributes.
      for (let i = 0; i < flows.length; i++) {
        const flow = flows[i] as Flow;
        const enrichment = enrichments[i];
        const initiatedBy = initiator(flow, servicePorts);
        who[i] = initiatedBy;
        const time = typeof flow.start === 'number' ? flow.start : fallbackTime;
        if (time > latest) latest = time;
        const source = flow.pkt_srcaddr ?? flow.srcaddr ?? undefined;
        const initiated = initiatedBy === 'src' && source !== undefined;
        const external = enrichment?.peer_scope === 'external';
        const egressTo =
          external &&
          enrichment?.direction === 'egress' &&
          !enrichment.dst_aws_service &&
          flow.action === 'ACCEPT'
            ? (flow.pkt_dstaddr ?? flow.dstaddr ?? undefined)
            : undefined;
        // One object shape for every flow (absent values undefined): this runs for every line.
        contributions[i] = {
          time,
          bytes: typeof flow.bytes === 'number' ? flow.bytes : 0,
          adminReject: initiated && isRejectedTo(flow, adminPorts, initiatedBy),
          inbound: initiated && external && enrichment?.direction === 'ingress',
          source: initiated ? source : undefined,
          port: initiated && typeof flow.dstport === 'number' ? flow.dstport : undefined,
          egressTo,
        };
      }
      // A window entry counts for a source when it is at most one window older than the source's earliest
      // flow in this batch (batches can hold late or re-ingested data from other times).
      const earliestSource = new Map<string, number>();
      const earliestDestination = new Map<string, number>();
      for (const c of contributions) {
        if (c.source !== undefined && c.time < (earliestSource.get(c.source) ?? Number.POSITIVE_INFINITY)) {
          earliestSource.set(c.source, c.time);
        }
        if (
          c.egressTo !== undefined &&
          c.time < (earliestDestination.get(c.egressTo) ?? Number.POSITIVE_INFINITY)
        ) {
          earliestDestination.set(c.egressTo, c.time);
        }
      }
      const sinceFor = (source: string) => (earliestSource.get(source) ?? latest) - windowSeconds;
      const sinceForDestination = (destination: string) =>
        (earliestDestination.get(destination) ?? latest) - windowSeconds;

      // 2. Batch totals plus the window, per source and per destination.
      const ports = new Map<string, Set<number>>();
      const adminRejects = new Map<string, number>();
      const inbound = new Map<string, number>();
      const egressBytes = new Map<string, number>();
      for (const c of contributions) {
        if (c.egressTo) egressBytes.set(c.egressTo, (egressBytes.get(c.egressTo) ?? 0) + c.bytes);
        if (!c.source) continue;
        if (c.port !== undefined) {
          let set = ports.get(c.source);
          if (!set) {
            set = new Set();
            ports.set(c.source, set);
          }
          set.add(c.port);
        }
        if (c.adminReject) adminRejects.set(c.source, (adminRejects.get(c.source) ?? 0) + 1);
        if (c.inbound) inbound.set(c.source, (inbound.get(c.source) ?? 0) + 1);
      }
      const scanners = new Set<string>();
      for (const [source, set] of ports) {
        const window = sourceWindow(source);
        const since = sinceFor(source);
        if (window) for (const [port, time] of window.ports) if (time >= since) set.add(port);
        if (set.size >= config.portScanThreshold) scanners.add(source);
      }
      const bruteForcers = new Set<string>();
      for (const [source, count] of adminRejects) {
        const since = sinceFor(source);
        const earlier = sourceWindow(source)?.adminRejects.filter((t) => t >= since).length ?? 0;
        if (count + earlier >= config.bruteForceThreshold) bruteForcers.add(source);
      }
      const floods = new Set<string>();
      for (const [source, count] of inbound) {
        const since = sinceFor(source);
        const earlier = sourceWindow(source)?.inbound.filter((t) => t >= since).length ?? 0;
        if (count + earlier >= config.connectionRateThreshold) floods.add(source);
      }
      const exfiltrated = new Set<string>();
      for (const [destination, bytes] of egressBytes) {
        let total = bytes;
        const since = sinceForDestination(destination);
        for (const [time, b] of destinations.get(destination)?.transfers ?? []) if (time >= since) total += b;
        if (total >= config.exfiltrationBytes) exfiltrated.add(destination);
      }

      // 3. Flags per flow.
      const suppressed: Record<string, number> = {};
      const detections: Detection[] = new Array(flows.length);
      for (let i = 0; i < flows.length; i++) {
        const flow = flows[i] as Flow;
        const enrichment = enrichments[i];
        const c = contributions[i] as Contribution;
        // The flags found, one bit each (in FLAG_ORDER): flows with the same findings share one answer.
        let found = 0;
        if (c.source && c.port !== undefined && scanners.has(c.source)) found |= BIT.port_scan;
        if (c.adminReject) {
          found |= BIT.admin_port_rejected;
          if (bruteForcers.has(c.source as string)) found |= BIT.brute_force;
        }
        if (isRejectedTo(flow, dbPorts, who[i])) found |= BIT.db_port_rejected;
        if (isLargeTransfer(flow, config)) found |= BIT.large_transfer;
        if (isExternalToInternalTier(flow, enrichment, who[i], internalTiers))
          found |= BIT.external_to_internal_tier;
        if (isUnusualProtocol(flow)) found |= BIT.unusual_protocol;
        if (c.inbound && floods.has(c.source as string)) found |= BIT.high_connection_rate;
        if (c.egressTo && exfiltrated.has(c.egressTo)) found |= BIT.exfiltration_volume;
        if (found !== 0 && suppressions.length > 0) {
          for (const flag of FLAG_ORDER) {
            if ((found & BIT[flag]) !== 0 && isSuppressed(flag, flow, enrichment, suppressions)) {
              suppressed[flag] = (suppressed[flag] ?? 0) + 1;
              found &= ~BIT[flag];
            }
          }
        }
        detections[i] = found === 0 ? NO_FINDINGS : detectionOf(found);
      }

      return {
        detections,
        suppressed,
        commit(okIndexes) {
          for (const i of okIndexes) {
            const c = contributions[i];
            if (!c) continue;
            if (c.egressTo && c.bytes > 0) {
              const window = touch(destinations, c.egressTo, () => ({ transfers: [] }));
              window.transfers.push([c.time, c.bytes]);
              if (window.transfers.length > 256) window.transfers = mergeOld(window.transfers);
            }
            if (!c.source) continue;
            const window = touch(sources, c.source, () => ({
              ports: new Map(),
              adminRejects: [],
              inbound: [],
            }));
            if (c.port !== undefined) {
              window.ports.delete(c.port);
              window.ports.set(c.port, c.time);
              if (window.ports.size > portCap)
                window.ports.delete(window.ports.keys().next().value as number);
            }
            if (c.adminReject)
              window.adminRejects = keepRecent(window.adminRejects, c.time, config.bruteForceThreshold);
            if (c.inbound)
              window.inbound = keepRecent(window.inbound, c.time, config.connectionRateThreshold);
          }
        },
      };
    },
  };
}

/** Every flag in the order findings list them; a flag's bit is its place here. */
const FLAG_ORDER: readonly FlagId[] = [
  FLAG.portScan,
  FLAG.adminPortRejected,
  FLAG.bruteForce,
  FLAG.dbPortRejected,
  FLAG.largeTransfer,
  FLAG.externalToInternalTier,
  FLAG.unusualProtocol,
  FLAG.highConnectionRate,
  FLAG.exfiltrationVolume,
];
const BIT = Object.fromEntries(FLAG_ORDER.map((flag, i) => [flag, 1 << i])) as Record<FlagId, number>;

/** One frozen answer per combination of flags (at most 2^9), made when first seen. */
const byFlags = new Map<number, Detection>();
function detectionOf(found: number): Detection {
  let detection = byFlags.get(found);
  if (detection === undefined) {
    const flags = FLAG_ORDER.filter((flag) => (found & BIT[flag]) !== 0);
    detection = Object.freeze({ flags: Object.freeze(flags), severity: highest(flags) });
    byFlags.set(found, detection);
  }
  return detection;
}

function highest(flags: readonly FlagId[]): Severity {
  let best: Severity = 'none';
  for (const flag of flags) {
    const severity = SEVERITY_OF[flag];
    if (SEVERITY_RANK[severity] > SEVERITY_RANK[best]) best = severity;
  }
  return best;
}

/**
 * Appends a timestamp, keeping at least the most recent `cap` (more cannot change a threshold decision).
 * Trims only when the list has doubled, so a busy source costs amortised O(1) per flow, not O(cap).
 */
function keepRecent(times: number[], time: number, cap: number): number[] {
  times.push(time);
  return times.length > 2 * cap ? times.slice(times.length - cap) : times;
}

/** Bounds a destination's transfer list: the older half collapses into one entry at its latest time. */
function mergeOld(transfers: [number, number][]): [number, number][] {
  const half = transfers.length >> 1;
  let bytes = 0;
  let time = 0;
  for (let i = 0; i < half; i++) {
    const [t, b] = transfers[i] as [number, number];
    bytes += b;
    if (t > time) time = t;
  }
  return [[time, bytes], ...transfers.slice(half)];
}
