import { ICMP, ICMPV6, TCP, UDP } from '../initiator.js';
import type { FlowRule } from '../rule.js';

/** A protocol other than TCP, UDP, ICMP and ICMPv6 (GRE, ESP …). */
export const unusualProtocol: FlowRule = {
  kind: 'flow',
  id: 'unusual_protocol',
  severity: 'info',
  mitre: 'T1095 Non-Application Layer Protocol',
  settings: [],
  needsAction: false,
  compile: () => (facts) => {
    const p = facts.flow.protocol;
    return typeof p === 'number' && p !== TCP && p !== UDP && p !== ICMP && p !== ICMPV6;
  },
};
