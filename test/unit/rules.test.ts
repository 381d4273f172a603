import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DETECTION_VARIABLES, loadConfig } from '../../src/config.js';
import { createDetector } from '../../src/detect/detector.js';
import type { FlowRule } from '../../src/detect/rule.js';
import { FLAG_IDS, RULES } from '../../src/detect/rules/index.js';
import { ConfigError } from '../../src/errors.js';
import type { Flow } from '../../src/flowlog/parse.js';
import { enrichment } from '../helpers/enrichment.js';
import { loadTemplate } from '../helpers/template.js';

// The rule table is the one place a flag is defined: the README's table, the template's parameters and
// the detector all follow from it.

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const template = loadTemplate();
const functionEnv = template.Resources.TransformFunction?.Properties.Environment.Variables as Record<
  string,
  unknown
>;

/** Rows of the README's flag table: `| \`id\` | meaning | TGW lines | severity | MITRE | default |`. */
function readmeFlagRows(): { id: string; tgw: string; severity: string; mitre: string }[] {
  const rows: { id: string; tgw: string; severity: string; mitre: string }[] = [];
  for (const line of readme.split('\n')) {
    const match = /^\| `([a-z_]+)` \| .* \| ([^|]+) \| (info|warning|critical) \| ([^|]+) \| [^|]+ \|$/.exec(
      line,
    );
    if (match)
      rows.push({
        id: match[1] as string,
        tgw: (match[2] as string).trim(),
        severity: match[3] as string,
        mitre: (match[4] as string).trim(),
      });
  }
  return rows;
}

describe('the rule table', () => {
  it('has unique ids in snake case', () => {
    expect(new Set(FLAG_IDS).size).toBe(FLAG_IDS.length);
    for (const id of FLAG_IDS) expect(id).toMatch(/^[a-z][a-z0-9_]*$/);
  });

  it('is what the README table lists, in order, with each severity and MITRE technique', () => {
    expect(readmeFlagRows().map(({ id, severity, mitre }) => ({ id, severity, mitre }))).toStrictEqual(
      RULES.map((rule) => ({ id: rule.id, severity: rule.severity, mitre: rule.mitre })),
    );
  });

  it("says in the README's TGW column which rules Transit Gateway lines (no action) skip", () => {
    // Assess: a rule that needs `action` is "not evaluated"; no other rule says so.
    const skipped = readmeFlagRows().map((row) => row.tgw.startsWith('not evaluated'));
    expect(skipped).toStrictEqual(RULES.map((rule) => rule.needsAction));
  });

  it.each(RULES.flatMap((rule) => rule.settings.map((setting) => ({ id: rule.id, setting }))))(
    'passes $setting of $id from a template parameter with the same default',
    ({ setting }) => {
      // Prepare
      const variable = DETECTION_VARIABLES[setting];
      const reference = functionEnv[variable] as { Ref?: string } | undefined;

      // Assess
      expect(reference?.Ref, `${variable} in the function's environment`).toBeDefined();
      const parameter = template.Parameters[reference?.Ref as string];
      expect(parameter).toBeDefined();
      const fromTemplate = loadConfig({ [variable]: String(parameter?.Default ?? '') }).detection[setting];
      expect(fromTemplate).toStrictEqual(loadConfig({}).detection[setting]);
    },
  );
});

describe('suppressions', () => {
  it('name only flag ids of the rule table: an unknown one stops the start, naming SUPPRESSIONS', () => {
    // Prepare
    const config = loadConfig({ SUPPRESSIONS: '[{"flags":["portscan"],"dstport":22}]' }).detection;

    // Act / Assess
    expect(() => createDetector(config)).toThrow(ConfigError);
    expect(() => createDetector(config)).toThrow(
      /^SUPPRESSIONS: rule 0: "portscan" is not a flag id \(one of port_scan, admin_port_rejected, /,
    );
  });
});

describe('adding a rule', () => {
  it('is one object: the detector runs it, orders its flag and takes its severity', () => {
    // Prepare: a stateless rule that exists only in this test.
    const telnetAccepted: FlowRule = {
      kind: 'flow',
      id: 'telnet_accepted',
      severity: 'critical',
      mitre: 'T1021 Remote Services',
      settings: [],
      needsAction: true,
      compile: () => (facts) => facts.flow.action === 'ACCEPT' && facts.flow.dstport === 23,
    };
    const detector = createDetector(loadConfig({}).detection, { rules: [...RULES, telnetAccepted] });
    const flows: Flow[] = [
      {
        srcaddr: '10.0.1.5',
        dstaddr: '10.0.2.7',
        srcport: 50_000,
        dstport: 23,
        protocol: 6,
        action: 'ACCEPT',
      },
      {
        srcaddr: '10.0.1.5',
        dstaddr: '10.0.2.7',
        srcport: 50_000,
        dstport: 23,
        protocol: 6,
        action: 'REJECT',
      },
      // A Transit Gateway line has no action: a rule that needs one is not evaluated for it.
      { srcaddr: '10.0.1.5', dstaddr: '10.0.2.7', srcport: 50_000, dstport: 23, protocol: 6 },
    ];

    // Act
    const batch = detector.evaluate(flows, [undefined, undefined, undefined], Date.now());

    // Assess
    expect(batch.detections.map((d) => d.flags)).toStrictEqual([
      ['telnet_accepted'],
      ['admin_port_rejected'],
      [],
    ]);
    expect(batch.detections[0]?.severity).toBe('critical');
  });
});

describe('the windows (memory)', () => {
  const external = (i: number) => `52.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const source = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const egress = enrichment({ peer_scope: 'external', direction: 'egress' });

  it('stay within DETECTION_WINDOW_MAX_BYTES however many sources and destinations come', () => {
    // Prepare: a small byte bound, and far more keys than fit it.
    const maxBytes = 256 * 1024;
    const detector = createDetector(
      loadConfig({ DETECTION_WINDOW_MAX_BYTES: String(maxBytes), DETECTION_WINDOW_MAX_SOURCES: '10000000' })
        .detection,
    );
    const t0 = 1_700_000_000;

    // Act: 20 batches of 500 new sources, each reaching 10 ports of a new external address.
    let peak = 0;
    for (let b = 0; b < 20; b++) {
      const flows: Flow[] = [];
      for (let i = 0; i < 500; i++) {
        for (let p = 0; p < 10; p++) {
          flows.push({
            srcaddr: source(b * 500 + i),
            dstaddr: external(b * 500 + i),
            srcport: 50_000,
            dstport: 8000 + p,
            protocol: 6,
            action: 'ACCEPT',
            tcp_flags: 2,
            bytes: 1000,
            start: t0 + b,
          });
        }
      }
      detector
        .evaluate(
          flows,
          flows.map(() => egress),
          (t0 + b) * 1000,
        )
        .commit(flows.map((_, i) => i));
      peak = Math.max(peak, detector.windowBytes());
    }

    // Assess
    expect(peak).toBeLessThanOrEqual(maxBytes);
    expect(detector.windowSize()).toBeGreaterThan(0);
  });

  it('forget a key nothing was added to for longer than the window', () => {
    // Prepare: 100 sources at t0, window 60 s.
    const detector = createDetector(loadConfig({ DETECTION_WINDOW_SECONDS: '60' }).detection);
    const t0 = 1_700_000_000;
    const early: Flow[] = Array.from({ length: 100 }, (_, i) => ({
      srcaddr: source(i),
      dstaddr: '10.200.0.1',
      srcport: 50_000,
      dstport: 443,
      protocol: 6,
      action: 'ACCEPT',
      tcp_flags: 2,
      start: t0,
    }));
    detector
      .evaluate(
        early,
        early.map(() => undefined),
        t0 * 1000,
      )
      .commit(early.map((_, i) => i));
    expect(detector.windowSize()).toBe(100);

    // Act: one source two windows later.
    const late: Flow[] = [{ ...(early[0] as Flow), srcaddr: '10.99.0.1', start: t0 + 120 }];
    detector.evaluate(late, [undefined], (t0 + 120) * 1000).commit([0]);

    // Assess
    expect(detector.windowSize()).toBe(1);
  });
});
