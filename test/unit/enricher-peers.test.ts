import { describe, expect, it } from 'vitest';
import bundledIpRanges from '../../data/ip-ranges.json' with { type: 'json' };
import { loadConfig } from '../../src/config.js';
import { createEnricher } from '../../src/enrich/enricher.js';
import { createServiceIndex, type IpRangesDocument } from '../../src/enrich/ip-ranges.js';
import type { PeerDatabase, PeerInfo } from '../../src/enrich/peer.js';
import { DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { parseFormat } from '../../src/flowlog/format.js';
import type { Flow } from '../../src/flowlog/parse.js';

// Who is on the other end: the remote side's AWS region when it is AWS's, its AS and country when it is
// public and not AWS, nothing for internal peers. A fake peer database answers every address it is asked
// about, so the test shows which addresses are asked.

const GOOGLE: PeerInfo = Object.freeze({ asn: 15169, org: 'Google LLC', country: 'US' });

function setup() {
  const asked: string[] = [];
  const peers = {
    lookup: (address: unknown) => {
      asked.push(JSON.stringify(address));
      return GOOGLE;
    },
  } as unknown as PeerDatabase;
  const config = loadConfig({ ENRICHMENT: 'off' });
  const enricher = createEnricher({
    services: createServiceIndex(bundledIpRanges as unknown as IpRangesDocument),
    peers,
    config: config.enrichment,
    format: parseFormat(DEFAULT_FORMAT),
  });
  return { enricher, asked };
}

const flow = (srcaddr: string, dstaddr: string, direction: 'ingress' | 'egress'): Flow => ({
  version: 5,
  srcaddr,
  dstaddr,
  srcport: 49_152,
  dstport: 443,
  protocol: 6,
  action: 'ACCEPT',
  flow_direction: direction,
});

describe('enrichment of the remote peer', () => {
  it.each([
    {
      name: 'egress to a public non-AWS address: its AS and country',
      flow: flow('10.0.1.5', '8.8.8.8', 'egress'),
      expected: {
        peer: GOOGLE,
        src_aws_region: undefined,
        dst_aws_region: undefined,
        dst_aws_service: undefined,
      },
    },
    {
      name: 'egress to EC2 in us-east-1: its region, no AS',
      flow: flow('10.0.1.5', '44.192.10.10', 'egress'),
      expected: {
        peer: undefined,
        src_aws_region: undefined,
        dst_aws_region: 'us-east-1',
        dst_aws_service: 'EC2',
      },
    },
    {
      name: 'ingress from EC2: the region on the source side',
      flow: flow('44.192.10.10', '10.0.1.5', 'ingress'),
      expected: {
        peer: undefined,
        src_aws_region: 'us-east-1',
        dst_aws_region: undefined,
        dst_aws_service: undefined,
      },
    },
    {
      name: 'an internal peer: nothing',
      flow: flow('10.0.1.5', '10.0.2.7', 'egress'),
      expected: {
        peer: undefined,
        src_aws_region: undefined,
        dst_aws_region: undefined,
        dst_aws_service: undefined,
      },
    },
  ])('$name', async ({ flow: input, expected }) => {
    // Prepare
    const { enricher } = setup();

    // Act
    const batch = await enricher.prepare([input], Date.now() + 1000);
    const enrichment = batch.enrichAll()[0];

    // Assess
    expect({
      peer: enrichment?.peer,
      src_aws_region: enrichment?.src_aws_region,
      dst_aws_region: enrichment?.dst_aws_region,
      dst_aws_service: enrichment?.dst_aws_service,
    }).toStrictEqual(expected);
  });

  it('asks the peer database once per address, and never about internal or AWS addresses', async () => {
    // Prepare
    const { enricher, asked } = setup();
    const flows = [
      flow('10.0.1.5', '8.8.8.8', 'egress'),
      flow('10.0.1.6', '8.8.8.8', 'egress'),
      flow('10.0.1.5', '44.192.10.10', 'egress'),
      flow('10.0.1.5', '10.0.2.7', 'egress'),
    ];

    // Act
    const batch = await enricher.prepare(flows, Date.now() + 1000);
    batch.enrichAll();

    // Assess
    expect(asked).toHaveLength(1);
  });
});
