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
  /** Destination port → when it was last reached; in the map's order, when they were last updated. */
  readonly ports: Map<number, number>;
  /** The time of the last update, and whether every update came in time order (then the map's order is). */
  lastPortTime: number;
  portsInOrder: boolean;
  /** Rejected admin-port attempts. */
  adminRejects: number[];
  /** Connections it opened into the VPC (external sources only). */
  inbound: number[];
}

interface DestinationWindow {
  /** [time, bytes] pairs of egress to one external address. */
  transfers: [number, number][];
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
      const count = flows.length;
      const fallbackTime = Math.floor(nowMs / 1000);
      // What each flow contributes, in columns (no object per flow), and one entry per distinct
      // source and destination of the batch, which each flow points at.
      const who = new Array<Initiator>(count);
      const times = new Float64Array(count);
      const ports = new Int32Array(count);
      const sizes = new Float64Array(count);
      const marks = new Uint8Array(count);
      const sourceOf = new Array<BatchSource | undefined>(count);
      const destinationOf = new Array<BatchDestination | undefined>(count);
      const batchSources = new Map<string, BatchSource>();
      const batchDestinations = new Map<string, BatchDestination>();
      let latest = 0;

      // 1. What each flow contributes.
      for (let i = 0; i < count; i++) {
        const flow = flows[i] as Flow;
        const enrichment = enrichments[i];
        const initiatedBy = initiator(flow, servicePorts);
        who[i] = initiatedBy;
        const time = typeof flow.start === 'number' ? flow.start : fallbackTime;
        times[i] = time;
        if (time > latest) latest = time;
        const bytes = typeof flow.bytes === 'number' ? flow.bytes : 0;
        sizes[i] = bytes;
        ports[i] = -1;
        const external = enrichment?.peer_scope === 'external';
        if (
          external &&
          enrichment?.direction === 'egress' &&
          !enrichment.dst_aws_service &&
          flow.action === 'ACCEPT'
        ) {
          const address = flow.pkt_dstaddr ?? flow.dstaddr;
          if (address) {
            let destination = batchDestinations.get(address);
            if (destination === undefined) {
              destination = { address, earliest: time, bytes: 0, exfiltrated: false };
              batchDestinations.set(address, destination);
            } else if (time < destination.earliest) destination.earliest = time;
            destination.bytes += bytes;
            destinationOf[i] = destination;
          }
        }
        const address = flow.pkt_srcaddr ?? flow.srcaddr ?? undefined;
        if (initiatedBy !== 'src' || address === undefined) continue;
        let source = batchSources.get(address);
        if (source === undefined) {
          source = {
            address,
            earliest: time,
            firstPort: -1,
            ports: undefined,
            adminRejects: 0,
            inbound: 0,
            scanner: false,
            bruteForcer: false,
            flood: false,
          };
          batchSources.set(address, source);
        } else if (time < source.earliest) source.earliest = time;
        sourceOf[i] = source;
        const port = flow.dstport;
        if (typeof port === 'number') {
          ports[i] = port;
          // Distinct ports: a set only once a source has reached two of them.
          if (source.firstPort === -1) source.firstPort = port;
          else if (port !== source.firstPort) {
            source.ports ??= new Set([source.firstPort]);
            source.ports.add(port);
          }
        }
        let mark = 0;
        if (isRejectedTo(flow, adminPorts, initiatedBy)) {
          mark |= ADMIN_REJECT;
          source.adminRejects++;
        }
        if (external && enrichment?.direction === 'ingress') {
          mark |= INBOUND;
          source.inbound++;
        }
        marks[i] = mark;
      }

      // 2. Batch totals plus the window, per source and per destination. A window entry counts when it is
      // at most one window older than the source's earliest flow in this batch (batches can hold late or
      // re-ingested data from other times).
      batchSources.forEach((source) => {
        const window = sources.get(source.address);
        const since = source.earliest - windowSeconds;
        const distinct = source.ports ? source.ports.size : source.firstPort === -1 ? 0 : 1;
        if (distinct > 0) {
          if (distinct >= config.portScanThreshold) source.scanner = true;
          else if (window && distinct + window.ports.size >= config.portScanThreshold) {
            const all = new Set(source.ports ?? [source.firstPort]);
            window.ports.forEach((time, port) => {
              if (time >= since) all.add(port);
            });
            source.scanner = all.size >= config.portScanThreshold;
          }
        }
        if (source.adminRejects > 0) {
          const earlier = window ? countSince(window.adminRejects, since) : 0;
          source.bruteForcer = source.adminRejects + earlier >= config.bruteForceThreshold;
        }
        if (source.inbound > 0) {
          const earlier = window ? countSince(window.inbound, since) : 0;
          source.flood = source.inbound + earlier >= config.connectionRateThreshold;
        }
      });
      batchDestinations.forEach((destination) => {
        let total = destination.bytes;
        const since = destination.earliest - windowSeconds;
        const transfers = destinations.get(destination.address)?.transfers;
        if (transfers) for (const [time, b] of transfers) if (time >= since) total += b;
        destination.exfiltrated = total >= config.exfiltrationBytes;
      });

      // 3. Flags per flow.
      const suppressed: Record<string, number> = {};
      const detections: Detection[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const flow = flows[i] as Flow;
        const enrichment = enrichments[i];
        const source = sourceOf[i];
        const mark = marks[i] as number;
        // The flags found, one bit each (in FLAG_ORDER): flows with the same findings share one answer.
        let found = 0;
        if (source?.scanner && (ports[i] as number) >= 0) found |= BIT.port_scan;
        if ((mark & ADMIN_REJECT) !== 0) {
          found |= BIT.admin_port_rejected;
          if (source?.bruteForcer) found |= BIT.brute_force;
        }
        if (isRejectedTo(flow, dbPorts, who[i])) found |= BIT.db_port_rejected;
        if (isLargeTransfer(flow, config)) found |= BIT.large_transfer;
        if (isExternalToInternalTier(flow, enrichment, who[i], internalTiers))
          found |= BIT.external_to_internal_tier;
        if (isUnusualProtocol(flow)) found |= BIT.unusual_protocol;
        if ((mark & INBOUND) !== 0 && source?.flood) found |= BIT.high_connection_rate;
        if (destinationOf[i]?.exfiltrated) found |= BIT.exfiltration_volume;
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
          for (let k = 0; k < okIndexes.length; k++) {
            const i = okIndexes[k] as number;
            if (i < 0 || i >= count) continue;
            const time = times[i] as number;
            const bytes = sizes[i] as number;
            const destination = destinationOf[i];
            if (destination && bytes > 0) {
              const window = touch(destinations, destination.address, () => ({ transfers: [] }));
              window.transfers.push([time, bytes]);
              if (window.transfers.length > 256) window.transfers = mergeOld(window.transfers);
            }
            const source = sourceOf[i];
            if (!source) continue;
            const window = touch(sources, source.address, () => ({
              ports: new Map(),
              lastPortTime: Number.NEGATIVE_INFINITY,
              portsInOrder: true,
              adminRejects: [],
              inbound: [],
            }));
            const port = ports[i] as number;
            if (port >= 0) {
              // Each port keeps the latest time it was seen: a late record of an earlier flow does not
              // shorten its stay. Beyond the cap, the port seen longest ago goes: the first in the map's
              // order while updates came in time order, else the one a search finds.
              const previous = window.ports.get(port);
              if (previous === undefined || time > previous) {
                if (previous !== undefined) window.ports.delete(port);
                window.ports.set(port, time);
                if (time < window.lastPortTime) window.portsInOrder = false;
                else window.lastPortTime = time;
                if (window.ports.size > portCap) {
                  window.ports.delete(
                    window.portsInOrder
                      ? (window.ports.keys().next().value as number)
                      : oldestPort(window.ports),
                  );
                }
              }
            }
            const mark = marks[i] as number;
            if ((mark & ADMIN_REJECT) !== 0)
              window.adminRejects = keepRecent(window.adminRejects, time, config.bruteForceThreshold);
            if ((mark & INBOUND) !== 0)
              window.inbound = keepRecent(window.inbound, time, config.connectionRateThreshold);
          }
        },
      };
    },
  };
}

/** One source of the batch: what its initiated flows add up to, and the thresholds it crossed. */
interface BatchSource {
  readonly address: string;
  earliest: number;
  /** Its first destination port, and the set of them once there are two. */
  firstPort: number;
  ports: Set<number> | undefined;
  adminRejects: number;
  inbound: number;
  scanner: boolean;
  bruteForcer: boolean;
  flood: boolean;
}

/** One external destination of the batch's accepted egress, and the bytes sent to it. */
interface BatchDestination {
  readonly address: string;
  earliest: number;
  bytes: number;
  exfiltrated: boolean;
}

const ADMIN_REJECT = 1;
const INBOUND = 2;

/** The port whose latest time is the earliest (the first of them in the map's order on a tie). */
function oldestPort(ports: ReadonlyMap<number, number>): number {
  let oldest = -1;
  let at = Number.POSITIVE_INFINITY;
  ports.forEach((time, port) => {
    if (time < at) {
      at = time;
      oldest = port;
    }
  });
  return oldest;
}

function countSince(times: readonly number[], since: number): number {
  let n = 0;
  for (let i = 0; i < times.length; i++) if ((times[i] as number) >= since) n++;
  return n;
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
