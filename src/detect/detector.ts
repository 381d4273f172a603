import { compile } from '../codegen.js';
import type { DetectionConfig } from '../config.js';
import type { Flow } from '../flowlog/parse.js';
import { initiator, servicePortSet } from './initiator.js';
import type { CompiledWindowRule, FlowFacts, Rule } from './rule.js';
import { RULES } from './rules/index.js';
import { compileSuppressions, isSuppressed } from './suppressions.js';
import {
  type Detection,
  type DetectionBatch,
  type Detector,
  NO_FINDINGS,
  SEVERITY_RANK,
  type Severity,
} from './types.js';
import { type Entry, KeyedWindow, type Tally } from './window.js';

export interface DetectorOptions {
  /** The rules to run; all of them by default. */
  readonly rules?: readonly Rule[];
}

/**
 * Runs the rule table over a whole batch before writing any flag, so that when a key crosses a threshold
 * anywhere in the batch, every one of its flows in the batch that is part of the pattern is flagged.
 * Windowed rules also see what earlier batches of this container contributed (`KeyedWindow`). Only flows
 * returned `Ok` are committed to the windows, so a re-ingested record counts once, when it comes back.
 */
export function createDetector(
  config: DetectionConfig,
  options: DetectorOptions = {},
): Detector & { readonly windowSize: () => number; readonly windowBytes: () => number } {
  const rules = options.rules ?? RULES;
  if (rules.length > 30) throw new Error('at most 30 rules: findings are kept as bits of one integer');
  const servicePorts = servicePortSet(config);
  const suppressions = compileSuppressions(
    config.suppressions,
    rules.map((rule) => rule.id),
  );
  const flowRules: { bit: number; needsAction: boolean; test: (facts: FlowFacts) => boolean }[] = [];
  const windowRules: {
    bit: number;
    needsAction: boolean;
    distinct: boolean;
    compiled: CompiledWindowRule;
    window: KeyedWindow;
  }[] = [];
  const windowCount = rules.filter((rule) => rule.kind === 'window').length;
  const limits = {
    windowSeconds: config.windowSeconds,
    maxKeys: config.windowMaxSources,
    maxBytes: Math.floor(config.windowMaxBytes / Math.max(1, windowCount)),
  };
  rules.forEach((rule, index) => {
    const bit = 1 << index;
    if (rule.kind === 'flow') {
      flowRules.push({ bit, needsAction: rule.needsAction, test: rule.compile(config) });
    } else {
      const compiled = rule.compile(config);
      windowRules.push({
        bit,
        needsAction: rule.needsAction,
        distinct: rule.aggregate === 'distinct',
        compiled,
        window: new KeyedWindow(rule.aggregate, compiled.threshold, limits),
      });
    }
  });
  const flowBits = compileFlowBits(flowRules);
  const windowKeys = compileWindowKeys(windowRules);
  // One frozen answer per combination of flags, made when first seen (at most 2^rules).
  const byFlags = new Map<number, Detection>();
  const detectionOf = (found: number): Detection => {
    let detection = byFlags.get(found);
    if (detection === undefined) {
      const flags = rules.filter((_, i) => (found & (1 << i)) !== 0);
      let severity: Severity = 'none';
      for (const rule of flags)
        if (SEVERITY_RANK[rule.severity] > SEVERITY_RANK[severity]) severity = rule.severity;
      detection = Object.freeze({ flags: Object.freeze(flags.map((rule) => rule.id)), severity });
      byFlags.set(found, detection);
    }
    return detection;
  };

  return {
    windowSize: () => windowRules.reduce((n, rule) => n + rule.window.size, 0),
    windowBytes: () => windowRules.reduce((n, rule) => n + rule.window.estimatedBytes, 0),
    evaluate(flows, enrichments, nowMs): DetectionBatch {
      const count = flows.length;
      const fallbackTime = Math.floor(nowMs / 1000);
      const facts: FlowFacts = { flow: EMPTY, enrichment: undefined, initiator: undefined, time: 0 };
      const found = new Int32Array(count);
      const times = new Float64Array(count);
      // Per windowed rule: each flow's tally (its key in this batch) and what it contributes.
      const tallies = windowRules.map(() => new Array<Tally | undefined>(count));
      const values = windowRules.map(() => new Float64Array(count));
      const batchTallies = windowRules.map(() => new Map<string, Tally>());
      // One flow's key and value per windowed rule.
      const keys = new Array<string | undefined>(windowRules.length);
      const vals = new Float64Array(windowRules.length);

      // 1. Per flow: the stateless rules, and what it adds to each window.
      for (let i = 0; i < count; i++) {
        const flow = flows[i] as Flow;
        facts.flow = flow;
        facts.enrichment = enrichments[i];
        facts.initiator = initiator(flow, servicePorts);
        facts.time = typeof flow.start === 'number' ? flow.start : fallbackTime;
        times[i] = facts.time;
        const hasAction = flow.action !== undefined && flow.action !== null;
        found[i] = flowBits(facts, hasAction);
        windowKeys(facts, hasAction, keys, vals);
        for (let r = 0; r < windowRules.length; r++) {
          const rule = windowRules[r] as (typeof windowRules)[number];
          const key = keys[r];
          if (key === undefined) continue;
          const value = vals[r] as number;
          const byKey = batchTallies[r] as Map<string, Tally>;
          let tally = byKey.get(key);
          if (tally === undefined) {
            tally = {
              key,
              earliest: facts.time,
              first: value,
              values: undefined,
              total: 0,
              crossed: false,
              entry: undefined,
              generation: -1,
              touched: false,
            };
            byKey.set(key, tally);
          } else {
            if (facts.time < tally.earliest) tally.earliest = facts.time;
            if (rule.distinct && value !== tally.first) {
              tally.values ??= new Set([tally.first]);
              tally.values.add(value);
            }
          }
          tally.total += value;
          (tallies[r] as (Tally | undefined)[])[i] = tally;
          (values[r] as Float64Array)[i] = value;
        }
      }

      // 2. Per key of each window: the batch's total plus the window's, against the threshold.
      for (let r = 0; r < windowRules.length; r++) {
        const rule = windowRules[r] as (typeof windowRules)[number];
        let crossed = false;
        (batchTallies[r] as Map<string, Tally>).forEach((tally) => {
          tally.crossed = rule.window.crosses(tally);
          crossed ||= tally.crossed;
        });
        // Most batches cross no threshold: then no flow needs looking at again.
        if (!crossed) continue;
        const byFlow = tallies[r] as (Tally | undefined)[];
        for (let i = 0; i < count; i++) if (byFlow[i]?.crossed) found[i] = (found[i] as number) | rule.bit;
      }

      // 3. Suppressions, then one shared answer per combination of flags.
      const suppressed: Record<string, number> = {};
      const detections: Detection[] = new Array(count);
      for (let i = 0; i < count; i++) {
        let bits = found[i] as number;
        if (bits !== 0 && suppressions.length > 0) {
          facts.flow = flows[i] as Flow;
          facts.enrichment = enrichments[i];
          for (let r = 0; r < rules.length; r++) {
            const id = (rules[r] as Rule).id;
            if ((bits & (1 << r)) !== 0 && isSuppressed(id, facts, suppressions)) {
              suppressed[id] = (suppressed[id] ?? 0) + 1;
              bits &= ~(1 << r);
            }
          }
        }
        detections[i] = bits === 0 ? NO_FINDINGS : detectionOf(bits);
      }

      return {
        detections,
        suppressed,
        commit(okIndexes) {
          for (let r = 0; r < windowRules.length; r++) {
            const rule = windowRules[r] as (typeof windowRules)[number];
            commitWindow(
              rule.window,
              tallies[r] as (Tally | undefined)[],
              values[r] as Float64Array,
              times,
              okIndexes,
            );
          }
        },
      };
    },
  };
}

/**
 * Adds the flows returned `Ok` to one windowed rule's window: each key's entry looked up once (the one the
 * threshold check found, while still valid), then the touched entries settled.
 */
function commitWindow(
  window: KeyedWindow,
  byFlow: readonly (Tally | undefined)[],
  contributed: Float64Array,
  times: Float64Array,
  okIndexes: readonly number[],
): void {
  const touched: Tally[] = [];
  const entries: Entry[] = [];
  try {
    for (let k = 0; k < okIndexes.length; k++) {
      const i = okIndexes[k] as number;
      const tally = byFlow[i];
      if (tally === undefined) continue;
      const time = times[i] as number;
      if (!tally.touched) {
        tally.entry = window.entryOf(tally, time);
        tally.touched = true;
        touched.push(tally);
        entries.push(tally.entry);
      }
      window.addTo(tally.entry as Entry, time, contributed[i] as number);
    }
    window.settle(entries);
  } finally {
    // Settling may drop entries, and so may a commit that threw half-way: the next looks them up again.
    for (const tally of touched) {
      tally.touched = false;
      tally.generation = -1;
    }
  }
}

const EMPTY: Flow = Object.freeze({}) as Flow;

// Each rule is called from a call site of its own: a loop over the rules makes one call site see every
// rule's function, which V8 neither inlines nor calls directly; generated straight-line code gives each
// call one target. The source holds only numbers and fixed code (see codegen.ts).

/** The stateless rules' bits for one flow (a rule that needs `action` is asked only when there is one). */
function compileFlowBits(
  rules: readonly { bit: number; needsAction: boolean; test: (facts: FlowFacts) => boolean }[],
): (facts: FlowFacts, hasAction: boolean) => number {
  return compile(
    `flow-rules-${rules.length}`,
    rules.map((_, i) => `t${i}`),
    [
      'return function flowBits(facts, hasAction) {',
      'let bits = 0;',
      ...rules.map(
        (rule, i) => `if (${rule.needsAction ? 'hasAction && ' : ''}t${i}(facts)) bits |= ${rule.bit | 0};`,
      ),
      'return bits;',
      '};',
    ].join('\n'),
    rules.map((rule) => rule.test),
  );
}

/** Each windowed rule's key (undefined: the flow does not count) and value for one flow, into `keys`/`vals`. */
function compileWindowKeys(
  rules: readonly { needsAction: boolean; compiled: CompiledWindowRule }[],
): (facts: FlowFacts, hasAction: boolean, keys: (string | undefined)[], vals: Float64Array) => void {
  return compile(
    `window-rules-${rules.length}`,
    rules.flatMap((_, r) => [`k${r}`, `v${r}`]),
    [
      'return function windowKeys(facts, hasAction, keys, vals) {',
      'let key;',
      ...rules.map(
        (rule, r) =>
          `key = ${rule.needsAction ? 'hasAction ? ' : ''}k${r}(facts)${rule.needsAction ? ' : undefined' : ''}; keys[${r}] = key; if (key !== undefined) vals[${r}] = v${r}(facts);`,
      ),
      '};',
    ].join('\n'),
    rules.flatMap((rule) => [rule.compiled.key, rule.compiled.value]),
  );
}
