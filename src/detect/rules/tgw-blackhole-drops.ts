import type { FlowRule } from '../rule.js';

/**
 * A Transit Gateway flow that lost more than `TGW_BLACKHOLE_PACKETS_THRESHOLD` packets to a blackhole route:
 * traffic aimed at a network the routing deliberately cuts off (a segment isolated on purpose, a retired
 * range), which is either a misrouted application or something probing across the segmentation. Only
 * Transit Gateway lines have `packets-lost-blackhole`; no other line can match.
 */
export const tgwBlackholeDrops: FlowRule = {
  kind: 'flow',
  id: 'tgw_blackhole_drops',
  severity: 'warning',
  mitre: 'TA0008 Lateral Movement (attempts into a blackholed segment)',
  settings: ['blackholePacketsThreshold'],
  needsAction: false,
  compile: (config) => {
    const limit = config.blackholePacketsThreshold;
    return (facts) => {
      const lost = facts.flow.packets_lost_blackhole;
      return typeof lost === 'number' && lost > limit;
    };
  },
};
