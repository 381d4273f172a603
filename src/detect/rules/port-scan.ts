import { sourceAddress } from '../initiator.js';
import type { WindowRule } from '../rule.js';

/** One source reaching many distinct destination ports (on one or many targets) within the window. */
export const portScan: WindowRule = {
  kind: 'window',
  id: 'port_scan',
  severity: 'critical',
  mitre: 'T1046 Network Service Discovery',
  settings: ['portScanThreshold'],
  needsAction: false,
  aggregate: 'distinct',
  compile: (config) => ({
    threshold: config.portScanThreshold,
    key: (facts) =>
      facts.initiator === 'src' && typeof facts.flow.dstport === 'number'
        ? sourceAddress(facts.flow)
        : undefined,
    value: (facts) => facts.flow.dstport as number,
  }),
};
