import { sourceAddress } from '../initiator.js';
import type { WindowRule } from '../rule.js';

/** One external source opening many connections into the VPC within the window. */
export const highConnectionRate: WindowRule = {
  kind: 'window',
  id: 'high_connection_rate',
  severity: 'warning',
  mitre: 'T1498 Network Denial of Service / T1110',
  settings: ['connectionRateThreshold'],
  needsAction: false,
  aggregate: 'count',
  compile: (config) => ({
    threshold: config.connectionRateThreshold,
    key: ({ flow, enrichment, initiator }) =>
      initiator === 'src' && enrichment?.peer_scope === 'external' && enrichment.direction === 'ingress'
        ? sourceAddress(flow)
        : undefined,
    value: () => 1,
  }),
};
