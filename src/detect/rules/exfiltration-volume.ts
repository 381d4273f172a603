import { destinationAddress } from '../initiator.js';
import type { WindowRule } from '../rule.js';

/**
 * Accepted egress to one external address adding up to `EXFILTRATION_BYTES` within the window. AWS
 * service addresses are AWS, not the internet: traffic to S3 or EC2 never counts.
 */
export const exfiltrationVolume: WindowRule = {
  kind: 'window',
  id: 'exfiltration_volume',
  severity: 'warning',
  mitre: 'T1041 Exfiltration Over C2 Channel / T1048',
  settings: ['exfiltrationBytes'],
  needsAction: true,
  aggregate: 'sum',
  compile: (config) => ({
    threshold: config.exfiltrationBytes,
    key: ({ flow, enrichment }) =>
      enrichment?.peer_scope === 'external' &&
      enrichment.direction === 'egress' &&
      !enrichment.dst_aws_service &&
      flow.action === 'ACCEPT'
        ? destinationAddress(flow)
        : undefined,
    value: ({ flow }) => (typeof flow.bytes === 'number' ? flow.bytes : 0),
  }),
};
