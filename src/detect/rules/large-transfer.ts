import type { FlowRule } from '../rule.js';

/** One flow that moved more than `LARGE_TRANSFER_BYTES`, in either direction (a volume signal). */
export const largeTransfer: FlowRule = {
  kind: 'flow',
  id: 'large_transfer',
  severity: 'warning',
  mitre: 'T1030 Data Transfer Size Limits / T1048',
  settings: ['largeTransferBytes'],
  needsAction: false,
  compile: (config) => {
    const limit = config.largeTransferBytes;
    return (facts) => typeof facts.flow.bytes === 'number' && facts.flow.bytes > limit;
  },
};
