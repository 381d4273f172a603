import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type Env, loadConfig } from '../../src/config.js';
import { createDetector } from '../../src/detect/detector.js';
import type { Detection } from '../../src/detect/types.js';
import type { EniView, Enrichment } from '../../src/enrich/types.js';
import type { Flow } from '../../src/flowlog/parse.js';
import { enrichment } from '../helpers/enrichment.js';

// Pure tests of the detector: flows and enrichments built by hand, thresholds small so that the edges are
// a few flows apart, no AWS and no transform around it.

const T0 = 1_700_000_000;
const INSIDE = '10.0.1.5';
const INSIDE_PEER = '10.0.2.7';
const ATTACKER = '203.0.113.9';
const OTHER_ATTACKER = '198.51.100.1';
const DROP_SITE = '198.51.100.7';

/** Small thresholds; every test states the ones it relies on through `config`. */
const BASE_ENV: Env = {
  ENRICHMENT: 'off',
  DETECTION_WINDOW_SECONDS: '600',
  DETECTION_WINDOW_MAX_SOURCES: '100',
  PORT_SCAN_THRESHOLD: '5',
  BRUTE_FORCE_THRESHOLD: '3',
  LARGE_TRANSFER_BYTES: '1000000',
  EXFILTRATION_BYTES: '10000',
  CONNECTION_RATE_THRESHOLD: '4',
};

function detectionConfig(env: Env = {}) {
  return loadConfig({ ...BASE_ENV, ...env }).detection;
}

const config = detectionConfig();

/** A TCP flow its source opened (SYN), between two internal addresses, unless overridden. */
function flow(overrides: Partial<Flow> = {}): Flow {
  return {
    srcaddr: INSIDE,
    dstaddr: INSIDE_PEER,
    srcport: 50_000,
    dstport: 443,
    protocol: 6,
    action: 'ACCEPT',
    bytes: 100,
    start: T0,
    tcp_flags: 2,
    ...overrides,
  };
}

const INTERNAL = enrichment();
const FROM_INTERNET = enrichment({ peer_scope: 'external', direction: 'ingress' });
const TO_INTERNET = enrichment({ peer_scope: 'external', direction: 'egress' });

function eni(subnetTier: string, tags: Record<string, string> = {}): EniView {
  return {
    info: { interfaceId: 'eni-0123456789abcdef0', subnetTier, tags, allTags: tags },
  };
}

const NONE: Detection = { flags: [], severity: 'none' };
const found = (severity: Detection['severity'], ...flags: string[]): Detection => ({ flags, severity });

/** `n` flows from one source to `n` distinct destination ports. */
const scan = (n: number, source = INSIDE, start = T0, firstPort = 1000) =>
  Array.from({ length: n }, (_, i) => flow({ srcaddr: source, dstport: firstPort + i, start: start + i }));

/** `n` rejected SSH attempts from one source. */
const sshRejects = (n: number, source = ATTACKER, start = T0) =>
  Array.from({ length: n }, (_, i) =>
    flow({ srcaddr: source, dstaddr: INSIDE, dstport: 22, action: 'REJECT', start: start + i }),
  );

/** `n` accepted connections from one source to one port. */
const connections = (n: number, source = ATTACKER, start = T0) =>
  Array.from({ length: n }, (_, i) =>
    flow({ srcaddr: source, dstaddr: INSIDE, srcport: 40_000 + i, start: start + i }),
  );

/** Uploads to one external address, `bytes` each. */
const uploads = (bytes: readonly number[], destination = DROP_SITE, start = T0) =>
  bytes.map((b, i) => flow({ dstaddr: destination, bytes: b, start: start + i }));

const repeat = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);

interface ThresholdCase {
  readonly rule: string;
  readonly threshold: number;
  /** The flows and enrichments that put the rule's measure at `value`. */
  readonly build: (value: number) => { flows: Flow[]; enrichments: Enrichment[] };
  /** What every flow of the pattern gets below and at/above the threshold. */
  readonly below: Detection;
  readonly flagged: Detection;
  /** True when the value must exceed the threshold (large_transfer), not only reach it. */
  readonly strictlyGreater?: boolean;
}

const THRESHOLD_CASES: ThresholdCase[] = [
  {
    rule: 'port_scan (distinct destination ports from one source)',
    threshold: config.portScanThreshold,
    build: (n) => ({ flows: scan(n), enrichments: repeat(n, INTERNAL) }),
    below: NONE,
    flagged: found('critical', 'port_scan'),
  },
  {
    rule: 'brute_force (rejected admin-port attempts from one source)',
    threshold: config.bruteForceThreshold,
    build: (n) => ({ flows: sshRejects(n), enrichments: repeat(n, INTERNAL) }),
    below: found('warning', 'admin_port_rejected'),
    flagged: found('critical', 'admin_port_rejected', 'brute_force'),
  },
  {
    rule: 'large_transfer (bytes of one flow)',
    threshold: config.largeTransferBytes,
    build: (bytes) => ({ flows: [flow({ bytes })], enrichments: [INTERNAL] }),
    below: NONE,
    flagged: found('warning', 'large_transfer'),
    strictlyGreater: true,
  },
  {
    rule: 'exfiltration_volume (bytes to one external destination)',
    threshold: config.exfiltrationBytes,
    // Two uploads whose sum is the value: the rule adds them up.
    build: (total) => ({
      flows: uploads([4000, total - 4000]),
      enrichments: repeat(2, TO_INTERNET),
    }),
    below: NONE,
    flagged: found('warning', 'exfiltration_volume'),
  },
  {
    rule: 'high_connection_rate (inbound connections from one external source)',
    threshold: config.connectionRateThreshold,
    build: (n) => ({ flows: connections(n), enrichments: repeat(n, FROM_INTERNET) }),
    below: NONE,
    flagged: found('warning', 'high_connection_rate'),
  },
];

describe.each(THRESHOLD_CASES)('$rule', ({ threshold, build, below, flagged, strictlyGreater }) => {
  it.each([
    { where: 'one below', offset: -1 },
    { where: 'at', offset: 0 },
    { where: 'one above', offset: 1 },
  ])('$where the threshold', ({ offset }) => {
    // Prepare
    const detector = createDetector(config);
    const { flows, enrichments } = build(threshold + offset);
    const expected = offset > 0 || (offset === 0 && !strictlyGreater) ? flagged : below;

    // Act
    const batch = detector.evaluate(flows, enrichments, T0 * 1000);

    // Assess
    expect(batch.detections).toStrictEqual(repeat(flows.length, expected));
    expect(batch.suppressed).toStrictEqual({});
  });
});

describe('thresholds are per source and per destination', () => {
  it.each([
    {
      name: 'ports spread over two sources',
      flows: [...scan(3, ATTACKER), ...scan(3, OTHER_ATTACKER, T0, 2000)],
      enrichments: repeat(6, INTERNAL),
    },
    {
      name: 'admin-port rejects spread over two sources',
      flows: [...sshRejects(2, ATTACKER), ...sshRejects(2, OTHER_ATTACKER)],
      enrichments: repeat(4, INTERNAL),
      expected: found('warning', 'admin_port_rejected'),
    },
    {
      name: 'connections spread over two external sources',
      flows: [...connections(3, ATTACKER), ...connections(3, OTHER_ATTACKER)],
      enrichments: repeat(6, FROM_INTERNET),
    },
    {
      name: 'uploads spread over two external destinations',
      flows: [...uploads([6000], DROP_SITE), ...uploads([6000], '192.0.2.77')],
      enrichments: repeat(2, TO_INTERNET),
    },
  ])('does not add up $name', ({ flows, enrichments, expected = NONE }) => {
    // Prepare
    const detector = createDetector(config);

    // Act
    const batch = detector.evaluate(flows, enrichments, T0 * 1000);

    // Assess
    expect(batch.detections).toStrictEqual(repeat(flows.length, expected));
  });

  it.each([
    { name: 'connections opened by an internal source', enrichment: enrichment({ direction: 'ingress' }) },
    { name: 'connections seen leaving (egress)', enrichment: TO_INTERNET },
  ])('does not count $name towards high_connection_rate', ({ enrichment: e }) => {
    // Prepare
    const detector = createDetector(config);
    const flows = connections(config.connectionRateThreshold + 2);

    // Act
    const batch = detector.evaluate(flows, repeat(flows.length, e), T0 * 1000);

    // Assess
    expect(batch.detections.map((d) => d.flags.includes('high_connection_rate'))).toStrictEqual(
      repeat(flows.length, false),
    );
  });

  it.each([
    { name: 'an AWS service', enrichment: enrichment({ ...TO_INTERNET, dst_aws_service: 'S3' }) },
    { name: 'an internal peer', enrichment: enrichment({ peer_scope: 'internal', direction: 'egress' }) },
    { name: 'the internet, but rejected', enrichment: TO_INTERNET, action: 'REJECT' },
  ])('does not count uploads to $name towards exfiltration_volume', ({ enrichment: e, action }) => {
    // Prepare
    const detector = createDetector(config);
    const flows = uploads([config.exfiltrationBytes, config.exfiltrationBytes]).map((f) =>
      action ? { ...f, action } : f,
    );

    // Act
    const batch = detector.evaluate(flows, repeat(flows.length, e), T0 * 1000);

    // Assess
    expect(batch.detections).toStrictEqual(repeat(flows.length, NONE));
  });
});

describe('replies', () => {
  const tier = enrichment({ ...FROM_INTERNET, eni: eni('database') });

  it.each([
    {
      name: 'SYN-ACK (tcp_flags 18) from a server to many client ports',
      reply: (i: number) =>
        flow({ srcaddr: INSIDE, dstaddr: ATTACKER, srcport: 443, dstport: 1000 + i, tcp_flags: 18 }),
    },
    {
      name: 'SYN-ACK with FIN (tcp_flags 19)',
      reply: (i: number) =>
        flow({ srcaddr: INSIDE, dstaddr: ATTACKER, srcport: 22, dstport: 2000 + i, tcp_flags: 19 }),
    },
    {
      name: 'no tcp flags, srcport 443 to ephemeral ports',
      reply: (i: number) =>
        flow({ srcaddr: INSIDE, dstaddr: ATTACKER, srcport: 443, dstport: 49_152 + i, tcp_flags: null }),
    },
    {
      name: 'UDP from port 53 to ephemeral ports',
      reply: (i: number) =>
        flow({
          srcaddr: INSIDE,
          dstaddr: ATTACKER,
          srcport: 53,
          dstport: 33_000 + i,
          protocol: 17,
          tcp_flags: null,
        }),
    },
  ])('are never flagged port_scan: $name', ({ reply }) => {
    // Prepare: far more distinct destination ports than the threshold.
    const detector = createDetector(config);
    const flows = Array.from({ length: config.portScanThreshold * 3 }, (_, i) => reply(i));

    // Act
    const batch = detector.evaluate(flows, repeat(flows.length, INTERNAL), T0 * 1000);
    batch.commit(flows.map((_, i) => i));
    const again = detector.evaluate(flows, repeat(flows.length, INTERNAL), T0 * 1000);

    // Assess: neither in the batch nor through the window.
    expect(batch.detections).toStrictEqual(repeat(flows.length, NONE));
    expect(again.detections).toStrictEqual(repeat(flows.length, NONE));
  });

  it.each([
    {
      name: 'an external client opening a connection (SYN) into a database-tier interface',
      flow: flow({ srcaddr: ATTACKER, dstaddr: INSIDE, srcport: 51_000, dstport: 5432, tcp_flags: 2 }),
      expected: found('critical', 'external_to_internal_tier'),
    },
    {
      name: 'the same without tcp flags (port-based: ephemeral → 5432)',
      flow: flow({ srcaddr: ATTACKER, dstaddr: INSIDE, srcport: 51_000, dstport: 5432, tcp_flags: null }),
      expected: found('critical', 'external_to_internal_tier'),
    },
    {
      name: 'a reply (SYN-ACK) from an external server to the database tier',
      flow: flow({ srcaddr: ATTACKER, dstaddr: INSIDE, srcport: 443, dstport: 51_000, tcp_flags: 18 }),
      expected: NONE,
    },
    {
      name: 'a reply without tcp flags (srcport 443 → ephemeral)',
      flow: flow({ srcaddr: ATTACKER, dstaddr: INSIDE, srcport: 443, dstport: 51_000, tcp_flags: null }),
      expected: NONE,
    },
  ])('external_to_internal_tier: $name', ({ flow: f, expected }) => {
    // Prepare
    const detector = createDetector(config);

    // Act
    const batch = detector.evaluate([f], [tier], T0 * 1000);

    // Assess
    expect(batch.detections).toStrictEqual([expected]);
  });
});

describe('a crossing anywhere in the batch', () => {
  it.each([
    {
      rule: 'port_scan',
      pattern: scan(config.portScanThreshold + 1, ATTACKER),
      flag: found('critical', 'port_scan'),
    },
    {
      rule: 'brute_force',
      pattern: sshRejects(config.bruteForceThreshold + 1, ATTACKER),
      flag: found('critical', 'admin_port_rejected', 'brute_force'),
    },
  ])('flags every $rule flow of the pattern, those before the crossing too', ({ pattern, flag }) => {
    // Prepare: the pattern interleaved with benign traffic from another source.
    const detector = createDetector(config);
    const benign = (i: number) =>
      flow({ srcaddr: INSIDE_PEER, dstaddr: INSIDE, dstport: 443, start: T0 + i });
    const flows = pattern.flatMap((f, i) => [benign(i), f]);

    // Act
    const batch = detector.evaluate(flows, repeat(flows.length, INTERNAL), T0 * 1000);

    // Assess
    expect(batch.detections).toStrictEqual(pattern.flatMap(() => [NONE, flag]));
  });

  it('flags the upload before the one that crosses exfiltration_volume', () => {
    // Prepare: the first upload alone is below, the total crosses.
    const detector = createDetector(config);
    const flows = uploads([config.exfiltrationBytes - 1, 1]);

    // Act
    const batch = detector.evaluate(flows, repeat(2, TO_INTERNET), T0 * 1000);

    // Assess
    expect(batch.detections).toStrictEqual(repeat(2, found('warning', 'exfiltration_volume')));
  });
});

describe('the window across evaluate() calls', () => {
  // Each case: a first batch, the indexes of it committed (returned Ok), then a second batch that reaches
  // the threshold only with every flow of the first.
  const cases = [
    {
      rule: 'port_scan',
      first: scan(3, ATTACKER, T0, 1000),
      second: scan(2, ATTACKER, T0 + 60, 2000),
      enrichment: INTERNAL,
      flag: found('critical', 'port_scan'),
    },
    {
      rule: 'brute_force',
      first: sshRejects(2, ATTACKER),
      second: sshRejects(1, ATTACKER, T0 + 60),
      enrichment: INTERNAL,
      below: found('warning', 'admin_port_rejected'),
      flag: found('critical', 'admin_port_rejected', 'brute_force'),
    },
    {
      rule: 'high_connection_rate',
      first: connections(3, ATTACKER),
      second: connections(1, ATTACKER, T0 + 60),
      enrichment: FROM_INTERNET,
      flag: found('warning', 'high_connection_rate'),
    },
    {
      rule: 'exfiltration_volume',
      first: uploads([3000, 3000, 3000]),
      second: uploads([1000], DROP_SITE, T0 + 60),
      enrichment: TO_INTERNET,
      flag: found('warning', 'exfiltration_volume'),
    },
  ];
  const commits = [
    { committed: 'all', pick: (n: number) => Array.from({ length: n }, (_, i) => i), crosses: true },
    {
      committed: 'all but the last',
      pick: (n: number) => Array.from({ length: n - 1 }, (_, i) => i),
      crosses: false,
    },
    {
      committed: 'all but the first',
      pick: (n: number) => Array.from({ length: n - 1 }, (_, i) => i + 1),
      crosses: false,
    },
    { committed: 'none', pick: () => [], crosses: false },
  ];

  describe.each(cases)('$rule', ({ first, second, enrichment: e, flag, below = NONE }) => {
    it.each(commits)('with $committed of the first batch committed', ({ pick, crosses }) => {
      // Prepare
      const detector = createDetector(config);
      const earlier = detector.evaluate(first, repeat(first.length, e), T0 * 1000);
      earlier.commit(pick(first.length));

      // Act
      const batch = detector.evaluate(second, repeat(second.length, e), (T0 + 60) * 1000);

      // Assess
      expect(earlier.detections).toStrictEqual(repeat(first.length, below));
      expect(batch.detections).toStrictEqual(repeat(second.length, crosses ? flag : below));
    });
  });

  it('ignores committed indexes outside the batch', () => {
    // Prepare: 3 ports committed, with indexes that name no flow.
    const detector = createDetector(config);
    const earlier = detector.evaluate(scan(3, ATTACKER), repeat(3, INTERNAL), T0 * 1000);
    earlier.commit([0, 1, 2, 7, -1]);

    // Act: one new port → 4, below 5.
    const batch = detector.evaluate(scan(1, ATTACKER, T0 + 60, 3000), [INTERNAL], (T0 + 60) * 1000);

    // Assess
    expect(batch.detections).toStrictEqual([NONE]);
  });

  it.each([
    { name: 'all of', gap: 600, crosses: true },
    { name: 'only the last two of', gap: 601, crosses: false },
  ])(
    'counts $name 3 earlier ports $gap s before the batch (DETECTION_WINDOW_SECONDS 600)',
    ({ gap, crosses }) => {
      // Prepare: 3 ports at T0, T0+1, T0+2 committed; then 2 more at T0+gap.
      const detector = createDetector(config);
      const earlier = detector.evaluate(scan(3, ATTACKER), repeat(3, INTERNAL), T0 * 1000);
      earlier.commit([0, 1, 2]);

      // Act
      const start = T0 + gap;
      const batch = detector.evaluate(scan(2, ATTACKER, start, 2000), repeat(2, INTERNAL), start * 1000);

      // Assess: the window is measured from the earliest flow of the source in this batch.
      expect(batch.detections).toStrictEqual(repeat(2, crosses ? found('critical', 'port_scan') : NONE));
    },
  );

  it('keeps the latest time of a port when a late record of an earlier flow comes after it', () => {
    // Prepare: 3 ports at T0+300…302 committed, then late data: the same ports at T0…T0+2, committed.
    const detector = createDetector(config);
    detector.evaluate(scan(3, ATTACKER, T0 + 300), repeat(3, INTERNAL), (T0 + 300) * 1000).commit([0, 1, 2]);
    detector.evaluate(scan(3, ATTACKER, T0), repeat(3, INTERNAL), (T0 + 310) * 1000).commit([0, 1, 2]);

    // Act: 2 new ports at T0+900, whose window reaches back to T0+300.
    const start = T0 + 900;
    const batch = detector.evaluate(scan(2, ATTACKER, start, 2000), repeat(2, INTERNAL), start * 1000);

    // Assess: the 3 ports still count from their later sighting (3 + 2 = 5, the threshold).
    expect(batch.detections).toStrictEqual(repeat(2, found('critical', 'port_scan')));
  });

  it('keeps the ports seen latest when more than the threshold are in the window, whatever order records came in', () => {
    // Records out of time order (late data): at the cap, the port seen longest ago must go, not the one
    // that happened to be put in first. Seconds after T0 + 100; a 60 s window, 5 ports.
    const detector = createDetector(detectionConfig({ DETECTION_WINDOW_SECONDS: '60' }));
    const at = (pairs: [port: number, second: number][]) =>
      pairs.map(([port, second]) => flow({ srcaddr: ATTACKER, dstport: port, start: T0 + 100 + second }));
    const batches = [
      at([
        [5, -57],
        [3, 2],
        [1, -50],
        [4, 10],
      ]),
      at([
        [3, -3],
        [7, 18],
      ]),
      at([[5, -52]]),
      at([
        [7, 24],
        [5, -18],
        [2, 39],
      ]),
    ];
    for (const batch of batches) {
      detector
        .evaluate(batch, repeat(batch.length, INTERNAL), (T0 + 200) * 1000)
        .commit(batch.map((_, i) => i));
    }

    // Act: port 5 again at +49; within [-11, 49] the source reached 3, 4, 7, 2 and 5.
    const last = detector.evaluate(at([[5, 49]]), [INTERNAL], (T0 + 200) * 1000);

    // Assess
    expect(last.detections).toStrictEqual([found('critical', 'port_scan')]);
  });

  // The window keeps only the ports a source reached latest (a bounded number of them): it must decide as
  // a window that kept every port would. Small ranges of ports and seconds make ties and late data common.
  test.prop(
    [
      fc.array(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 200 })), {
          minLength: 1,
          maxLength: 8,
        }),
        { minLength: 1, maxLength: 25 },
      ),
    ],
    { numRuns: 300 },
  )('decides port_scan as a window that keeps every port would', (batches) => {
    const windowSeconds = 60;
    const threshold = 5;
    const detector = createDetector(
      detectionConfig({ DETECTION_WINDOW_SECONDS: String(windowSeconds), PORT_SCAN_THRESHOLD: '5' }),
    );
    const latest = new Map<number, number>(); // every port committed → the latest second it was seen
    for (const pairs of batches) {
      const flows = pairs.map(([port, second]) =>
        flow({ srcaddr: ATTACKER, dstport: port, start: T0 + second }),
      );
      const since = Math.min(...pairs.map(([, second]) => second)) - windowSeconds;
      const ports = new Set(pairs.map(([port]) => port));
      latest.forEach((second, port) => {
        if (second >= since) ports.add(port);
      });
      const expected = ports.size >= threshold ? found('critical', 'port_scan') : NONE;

      const batch = detector.evaluate(flows, repeat(flows.length, INTERNAL), (T0 + 200) * 1000);
      batch.commit(flows.map((_, i) => i));

      expect(batch.detections).toStrictEqual(repeat(flows.length, expected));
      for (const [port, second] of pairs) latest.set(port, Math.max(second, latest.get(port) ?? second));
    }
  });

  it('measures the exfiltration window from the destination’s own flows, not the latest of the batch', () => {
    // Prepare: 6,000 bytes to the drop site committed; the next batch holds 6,000 more a minute later and,
    // from an unrelated pair, a flow stamped much later (late and current data share batches).
    const detector = createDetector(config);
    const earlier = detector.evaluate(uploads([6000]), [TO_INTERNET], T0 * 1000);
    earlier.commit([0]);
    const flows = [...uploads([6000], DROP_SITE, T0 + 60), flow({ start: T0 + 60 + 2000 })];

    // Act
    const batch = detector.evaluate(flows, [TO_INTERNET, INTERNAL], (T0 + 2060) * 1000);

    // Assess: 12,000 bytes within 600 s of the destination's own flow.
    expect(batch.detections).toStrictEqual([found('warning', 'exfiltration_volume'), NONE]);
  });
});

describe('suppressions', () => {
  const tagged = enrichment({ eni: eni('web', { Environment: 'scanner-test' }) });

  it.each([
    {
      name: 'cidr silences a port scan from that range only',
      suppressions: [{ flags: ['port_scan'], cidr: '203.0.113.0/24' }],
      flows: [...scan(5, ATTACKER), ...scan(5, OTHER_ATTACKER)],
      enrichments: repeat(10, INTERNAL),
      expected: [...repeat(5, NONE), ...repeat(5, found('critical', 'port_scan'))],
      suppressed: { port_scan: 5 },
    },
    {
      name: 'dstport silences brute_force on 22 but keeps admin_port_rejected',
      suppressions: [{ flags: ['brute_force'], dstport: 22 }],
      flows: sshRejects(3),
      enrichments: repeat(3, INTERNAL),
      expected: repeat(3, found('warning', 'admin_port_rejected')),
      suppressed: { brute_force: 3 },
    },
    {
      name: 'tag with all flags (*) silences everything on that interface',
      suppressions: [{ flags: ['*'], tag: 'Environment=scanner-test' }],
      flows: sshRejects(3),
      enrichments: repeat(3, tagged),
      expected: repeat(3, NONE),
      suppressed: { admin_port_rejected: 3, brute_force: 3 },
    },
    {
      name: 'tag with another value does not match',
      suppressions: [{ flags: ['*'], tag: 'Environment=prod' }],
      flows: sshRejects(3),
      enrichments: repeat(3, tagged),
      expected: repeat(3, found('critical', 'admin_port_rejected', 'brute_force')),
      suppressed: {},
    },
    {
      name: 'cidr and dstport must both hold',
      suppressions: [{ flags: ['*'], cidr: '203.0.113.0/24', dstport: 23 }],
      flows: sshRejects(3),
      enrichments: repeat(3, INTERNAL),
      expected: repeat(3, found('critical', 'admin_port_rejected', 'brute_force')),
      suppressed: {},
    },
    {
      name: 'a rule for another flag leaves this one alone',
      suppressions: [{ flags: ['port_scan'], dstport: 22 }],
      flows: sshRejects(3),
      enrichments: repeat(3, INTERNAL),
      expected: repeat(3, found('critical', 'admin_port_rejected', 'brute_force')),
      suppressed: {},
    },
    {
      name: 'dstport silences large_transfer to that port',
      suppressions: [{ flags: ['large_transfer'], dstport: 443 }],
      flows: [flow({ bytes: 2_000_000 }), flow({ bytes: 2_000_000, dstport: 8443 })],
      enrichments: repeat(2, INTERNAL),
      expected: [NONE, found('warning', 'large_transfer')],
      suppressed: { large_transfer: 1 },
    },
  ])('$name', ({ suppressions, flows, enrichments, expected, suppressed }) => {
    // Prepare
    const detector = createDetector(detectionConfig({ SUPPRESSIONS: JSON.stringify(suppressions) }));

    // Act
    const batch = detector.evaluate(flows, enrichments, T0 * 1000);

    // Assess
    expect({ detections: batch.detections, suppressed: batch.suppressed }).toStrictEqual({
      detections: expected,
      suppressed,
    });
  });

  it('lowers the severity to the highest flag left', () => {
    // Prepare: brute_force (critical) silenced, admin_port_rejected (warning) stays.
    const detector = createDetector(
      detectionConfig({ SUPPRESSIONS: JSON.stringify([{ flags: ['brute_force'], cidr: '203.0.113.9/32' }]) }),
    );

    // Act
    const batch = detector.evaluate(sshRejects(3), repeat(3, INTERNAL), T0 * 1000);

    // Assess
    expect(batch.detections.map((d) => d.severity)).toStrictEqual(['warning', 'warning', 'warning']);
  });
});

describe('the window bound (DETECTION_WINDOW_MAX_SOURCES)', () => {
  it.each([
    {
      name: 'sources',
      max: 100,
      build: (i: number) => [flow({ srcaddr: address(i) }), INTERNAL] as const,
      bound: 100,
    },
    {
      name: 'sources and external destinations',
      max: 100,
      build: (i: number) => [flow({ srcaddr: address(i), dstaddr: external(i) }), TO_INTERNET] as const,
      bound: 200,
    },
  ])('keeps at most the bound of $name however many are committed', ({ max, build, bound }) => {
    // Prepare
    const detector = createDetector(detectionConfig({ DETECTION_WINDOW_MAX_SOURCES: String(max) }));
    const sizes: number[] = [];

    // Act: 20 batches of 50 new keys each.
    for (let b = 0; b < 20; b++) {
      const pairs = Array.from({ length: 50 }, (_, i) => build(b * 50 + i));
      const batch = detector.evaluate(
        pairs.map(([f]) => f),
        pairs.map(([, e]) => e),
        T0 * 1000,
      );
      batch.commit(pairs.map((_, i) => i));
      sizes.push(detector.windowSize());
    }

    // Assess
    expect(Math.max(...sizes)).toBe(bound);
    expect(sizes.at(-1)).toBe(bound);
  });

  it('evicts the oldest source first, forgetting what it did', () => {
    // Prepare: the attacker commits 4 ports (one short of 5), then 100 other sources arrive.
    const detector = createDetector(detectionConfig({ DETECTION_WINDOW_MAX_SOURCES: '100' }));
    detector.evaluate(scan(4, ATTACKER), repeat(4, INTERNAL), T0 * 1000).commit([0, 1, 2, 3]);
    const others = Array.from({ length: 100 }, (_, i) => flow({ srcaddr: address(i) }));
    detector.evaluate(others, repeat(100, INTERNAL), T0 * 1000).commit(others.map((_, i) => i));

    // Act: one more port from the attacker.
    const batch = detector.evaluate(scan(1, ATTACKER, T0 + 10, 3000), [INTERNAL], (T0 + 10) * 1000);

    // Assess: with its 4 earlier ports forgotten, 1 is far below the threshold.
    expect(batch.detections).toStrictEqual([NONE]);
    expect(detector.windowSize()).toBe(100);
  });

  it('commits to a fresh entry when another batch evicted the one it compared with', () => {
    // Prepare: the attacker's 2 ports are in the window; batch B (2 more ports) is evaluated, then 100
    // other sources are committed before B is, evicting the attacker's entry.
    const detector = createDetector(detectionConfig({ DETECTION_WINDOW_MAX_SOURCES: '100' }));
    detector.evaluate(scan(2, ATTACKER), repeat(2, INTERNAL), T0 * 1000).commit([0, 1]);
    const b = detector.evaluate(scan(2, ATTACKER, T0 + 10, 2000), repeat(2, INTERNAL), (T0 + 10) * 1000);
    const others = Array.from({ length: 100 }, (_, i) => flow({ srcaddr: address(i), start: T0 + 11 }));
    detector.evaluate(others, repeat(100, INTERNAL), (T0 + 11) * 1000).commit(others.map((_, i) => i));

    // Act
    b.commit([0, 1]);

    // Assess: the window holds B's 2 ports, not the evicted 2: with 2 new ports it is 4 (below 5), with 3 it is 5.
    const later = (n: number) =>
      detector.evaluate(scan(n, ATTACKER, T0 + 20, 3000), repeat(n, INTERNAL), (T0 + 20) * 1000).detections;
    expect(later(2)).toStrictEqual([NONE, NONE]);
    expect(later(3)).toStrictEqual(repeat(3, found('critical', 'port_scan')));
    expect(detector.windowSize()).toBe(100);
  });

  it('keeps the most recent source when the bound is reached', () => {
    // Prepare: 100 sources fill the window, then the attacker commits 4 ports.
    const detector = createDetector(detectionConfig({ DETECTION_WINDOW_MAX_SOURCES: '100' }));
    const others = Array.from({ length: 100 }, (_, i) => flow({ srcaddr: address(i) }));
    detector.evaluate(others, repeat(100, INTERNAL), T0 * 1000).commit(others.map((_, i) => i));
    detector.evaluate(scan(4, ATTACKER), repeat(4, INTERNAL), T0 * 1000).commit([0, 1, 2, 3]);

    // Act
    const batch = detector.evaluate(scan(1, ATTACKER, T0 + 10, 3000), [INTERNAL], (T0 + 10) * 1000);

    // Assess
    expect(batch.detections).toStrictEqual([found('critical', 'port_scan')]);
    expect(detector.windowSize()).toBe(100);
  });
});

function address(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function external(i: number): string {
  return `52.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}
