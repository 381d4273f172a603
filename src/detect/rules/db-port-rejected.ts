import { isRejectedTo } from '../initiator.js';
import type { FlowRule } from '../rule.js';

/** A rejected attempt to reach a database port (`DB_PORTS`). */
export const dbPortRejected: FlowRule = {
  kind: 'flow',
  id: 'db_port_rejected',
  severity: 'warning',
  mitre: 'T1190 Exploit Public-Facing Application (probing)',
  settings: ['dbPorts'],
  needsAction: true,
  compile: (config) => {
    const ports = new Set(config.dbPorts);
    return (facts) => isRejectedTo(facts.flow, ports, facts.initiator);
  },
};
