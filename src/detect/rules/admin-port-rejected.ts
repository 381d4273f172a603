import { isRejectedTo } from '../initiator.js';
import type { FlowRule } from '../rule.js';

/** A rejected attempt to reach a remote-administration port (`ADMIN_PORTS`). */
export const adminPortRejected: FlowRule = {
  kind: 'flow',
  id: 'admin_port_rejected',
  severity: 'warning',
  mitre: 'T1021 Remote Services',
  settings: ['adminPorts'],
  needsAction: true,
  compile: (config) => {
    const ports = new Set(config.adminPorts);
    return (facts) => isRejectedTo(facts.flow, ports, facts.initiator);
  },
};
