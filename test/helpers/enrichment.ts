import type { Enrichment } from '../../src/enrich/types.js';

/** Every key present, as the enricher builds them; internal peer, ingress, unless overridden. */
export function enrichment(overrides: Partial<Enrichment> = {}): Enrichment {
  return {
    status: undefined,
    eni: undefined,
    src_aws_service: undefined,
    dst_aws_service: undefined,
    src_aws_region: undefined,
    dst_aws_region: undefined,
    peer: undefined,
    flow_direction: undefined,
    peer_scope: 'internal',
    direction: 'ingress',
    ...overrides,
  };
}
