import { isRejectedTo, sourceAddress } from '../initiator.js';
import type { WindowRule } from '../rule.js';

/** Many rejected admin-port attempts from one source within the window (on top of `admin_port_rejected`). */
export const bruteForce: WindowRule = {
  kind: 'window',
  id: 'brute_force',
  severity: 'critical',
  mitre: 'T1110 Brute Force',
  settings: ['bruteForceThreshold', 'adminPorts'],
  needsAction: true,
  aggregate: 'count',
  compile: (config) => {
    const ports = new Set(config.adminPorts);
    return {
      threshold: config.bruteForceThreshold,
      key: (facts) =>
        isRejectedTo(facts.flow, ports, facts.initiator) ? sourceAddress(facts.flow) : undefined,
      value: () => 1,
    };
  },
};
