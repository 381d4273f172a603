import { readFileSync } from 'node:fs';
import bundledIpRanges from '../data/ip-ranges.json' with { type: 'json' };
import type { Config } from './config.js';
import { createDetector } from './detect/detector.js';
import { createEnricher } from './enrich/enricher.js';
import {
  createServiceIndex,
  IP_RANGES_MAX_AGE_DAYS,
  ipRangesProblem,
  isCompactIpRanges,
  isIpRangesDocument,
  type ServiceIndex,
} from './enrich/ip-ranges.js';
import { loadPeerDatabase } from './enrich/peer.js';
import type { Inventory, RawNetworkInterface } from './enrich/ports.js';
import { ConfigError } from './errors.js';
import type { Reingester } from './firehose/reingest.js';
import { formatSummary, METRIC } from './telemetry.js';
import { createTransformer, type Transform } from './transform.js';

export interface PipelineOptions {
  readonly config: Config;
  /** Interface lookups: the EC2 adapter in Lambda, EC2 or a static file in the CLI; none when ENRICHMENT=off. */
  readonly inventory?: Inventory;
  /** Interfaces listed at cold start to warm the cache (WARM_UP_ENI_PAGES). */
  readonly warmUp?: () => Promise<{ accountId: string; interfaces: RawNetworkInterface[] }>;
  readonly reingester?: Reingester;
  /** Where the summary (EMF) and start-up lines go: stdout in Lambda, stderr in the CLI. */
  readonly writeLine: (line: string) => void;
  readonly onRecordError?: Parameters<typeof createTransformer>[0]['onRecordError'];
  readonly now?: () => number;
  /** Fetches an https ip-ranges source; injectable for tests. */
  readonly fetch?: typeof fetch;
  /**
   * The peer database the build writes next to the bundle (`dist/peer-data.bin`); without it (tests) or
   * with PEER_LOOKUP=off, no `peer_*` columns. A path that does not hold a valid file fails the start.
   */
  readonly peerDataPath?: string;
  /** The file's read, when it was started earlier (the handler starts it before its modules evaluate). */
  readonly peerDataRead?: Promise<Uint8Array>;
}

export interface Pipeline {
  readonly transform: Transform;
  readonly services: ServiceIndex;
}

/**
 * Wires the transform from configuration and injected edges; shared by the Lambda handler and the CLI so
 * that both run exactly the same code. Runs once per container.
 */
export async function createPipeline(options: PipelineOptions): Promise<Pipeline> {
  const { config, writeLine } = options;
  const now = options.now ?? Date.now;
  const log = (level: string, message: string, extra: Record<string, unknown> = {}) =>
    writeLine(JSON.stringify({ level, message, ...extra }));
  const unknown = [...new Set(config.formats.flatMap((format) => format.unknown))];
  if (unknown.length > 0) {
    // A field AWS added after this release must never break a running pipeline: pass it through, say so once.
    log('WARN', 'log format has fields this version does not know; they pass through as strings', {
      fields: unknown,
    });
  }
  // Started before the rest of the set-up so that the two overlap: the peer file's read (thread pool) and
  // the warm-up's EC2 calls (network) with the ip-ranges index and everything else built here.
  const peersLoading =
    options.peerDataPath !== undefined && config.enrichment.peerLookup === 'on'
      ? settle(loadPeerDatabase(options.peerDataPath, options.peerDataRead))
      : undefined;
  const warming =
    options.warmUp && options.inventory && config.enrichment.warmUpPages > 0
      ? settle(options.warmUp())
      : undefined;
  const source = config.enrichment.ipRangesSource;
  const services = await loadIpRanges(source, options.fetch ?? fetch, log);
  const ageDays = services.ageDays(now());
  if (ageDays !== undefined && ageDays > IP_RANGES_MAX_AGE_DAYS) {
    // AWS adds prefixes every week; an address in a new one is not recognised as AWS's and looks external.
    log('WARN', `ip-ranges are ${ageDays} days old; run npm run update-ip-ranges and deploy again`, {
      source,
      createDate: services.createDate,
      ageDays,
    });
  }
  const loadedPeers = await peersLoading;
  if (loadedPeers && 'error' in loadedPeers) throw loadedPeers.error;
  const peers = loadedPeers?.value;
  const enricher = createEnricher({
    ...(options.inventory && config.enrichment.mode !== 'off' ? { inventory: options.inventory } : {}),
    services,
    ...(peers ? { peers } : {}),
    config: config.enrichment,
    format: config.format,
    formats: config.formats,
    now,
  });
  const warm = await warming;
  if (warm && 'value' in warm) enricher.warmUp(warm.value.accountId, warm.value.interfaces);
  else if (warm) {
    log('WARN', 'cache warm-up failed; the first batches look interfaces up', {
      error: (warm.error as Error).name,
    });
  }
  const dataDates = {
    ipRanges: services.createDate,
    ...(peers ? { peerData: { asn: peers.asnDate, country: peers.countryDate } } : {}),
  };
  const transform = createTransformer({
    config,
    enricher,
    detector: createDetector(config.detection),
    ...(options.reingester ? { reingester: options.reingester } : {}),
    ...(options.onRecordError ? { onRecordError: options.onRecordError } : {}),
    now,
    // Each summary says how old the data behind the peer columns is: the ip-ranges snapshot's age as a
    // metric (an alarm can watch it), the databases' dates as context.
    report: (summary) => {
      const age = services.ageDays(now());
      writeLine(
        formatSummary(
          config.metricsNamespace,
          {
            ...summary,
            counts: age === undefined ? summary.counts : { ...summary.counts, [METRIC.ipRangesAgeDays]: age },
            context: { ...summary.context, ...dataDates },
          },
          now(),
        ),
      );
    },
  });
  return { transform, services };
}

/** A promise that never rejects: awaited later, a failure in the meantime is not an unhandled rejection. */
function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/**
 * `bundled` (the compact snapshot in data/, decoded in ~1 ms), an https URL (fetched once per container with
 * a short timeout, falling back to the snapshot), or a file path; a fetched or read file may be AWS's
 * ip-ranges.json (compiled at cold start) or the compact form `npm run update-ip-ranges` writes.
 */
async function loadIpRanges(
  source: string,
  fetchFn: typeof fetch,
  log: (level: string, message: string, extra?: Record<string, unknown>) => void,
): Promise<ServiceIndex> {
  if (source === 'bundled') return createServiceIndex(bundledIpRanges);
  if (source.startsWith('https://')) {
    try {
      const response = await fetchFn(source, { signal: AbortSignal.timeout(3000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const document: unknown = await response.json();
      if (!isIpRangesDocument(document) && !isCompactIpRanges(document)) {
        throw new Error('the response is not an ip-ranges document');
      }
      return createServiceIndex(document);
    } catch (error) {
      const bundled = createServiceIndex(bundledIpRanges);
      log('WARN', 'could not fetch ip-ranges; using the bundled snapshot', {
        source,
        snapshot: bundled.createDate,
        error: (error as Error).message,
      });
      return bundled;
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    throw new ConfigError('IP_RANGES_SOURCE', `${source}: only https URLs are fetched`);
  }
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(source, 'utf8'));
  } catch (error) {
    throw new ConfigError('IP_RANGES_SOURCE', `${source}: ${(error as Error).message}`, { cause: error });
  }
  const problem = ipRangesProblem(document);
  if (problem || (!isIpRangesDocument(document) && !isCompactIpRanges(document))) {
    throw new ConfigError('IP_RANGES_SOURCE', `${source}: ${problem ?? 'not an AWS ip-ranges file'}`);
  }
  return createServiceIndex(document);
}
