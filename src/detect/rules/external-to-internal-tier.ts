import type { FlowRule } from '../rule.js';

/**
 * Accepted traffic that an internet address opened into an interface whose subnet tier is internal. The
 * interface is the flow's destination when the record is ingress at it.
 */
export const externalToInternalTier: FlowRule = {
  kind: 'flow',
  id: 'external_to_internal_tier',
  severity: 'critical',
  mitre: 'T1133 External Remote Services / T1190',
  settings: ['internalTiers'],
  needsAction: true,
  compile: (config) => {
    const tiers = new Set(config.internalTiers);
    return ({ flow, enrichment, initiator }) => {
      if (flow.action !== 'ACCEPT' || initiator !== 'src') return false;
      if (enrichment?.direction !== 'ingress' || enrichment.peer_scope !== 'external') return false;
      const tier = enrichment.eni?.info.subnetTier;
      return tier !== undefined && tiers.has(tier);
    };
  },
};
