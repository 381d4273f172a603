import type { DetectionConfig } from '../config.js';
import type { Enrichment } from '../enrich/types.js';
import type { Flow } from '../flowlog/parse.js';
import type { Initiator } from './initiator.js';
import type { Severity } from './types.js';

/**
 * What every rule may read about one flow. The detector fills one object per flow in turn and hands it to
 * each rule: a rule must not keep it.
 */
export interface FlowFacts {
  flow: Flow;
  enrichment: Enrichment | undefined;
  /** Who opened the connection this record belongs to (see `initiator`). */
  initiator: Initiator;
  /** The flow's time in the window: its `start`, else the invocation's time (epoch seconds). */
  time: number;
}

/** What a rule is, for people: the README's table and the template's parameters are checked against it. */
interface RuleInfo {
  /** Stable flag id: Athena queries, alarms and metrics (`Flag_<id>`) depend on it. */
  readonly id: string;
  readonly severity: Exclude<Severity, 'none'>;
  /** MITRE ATT&CK technique(s), as the README lists them. */
  readonly mitre: string;
  /** The configuration it reads (keys of `DetectionConfig`), each a template parameter. */
  readonly settings: readonly (keyof DetectionConfig)[];
  /**
   * Whether it reads `action`: Transit Gateway lines have none, so such a rule is not evaluated for them.
   */
  readonly needsAction: boolean;
}

/** A rule that looks at one flow at a time. */
export interface FlowRule extends RuleInfo {
  readonly kind: 'flow';
  /** Builds the predicate once per configuration. */
  compile(config: DetectionConfig): (facts: FlowFacts) => boolean;
}

/**
 * A rule over a sliding window: flows that share a key (a source, a destination) add up, and when their
 * total over the batch plus the window reaches the threshold, every contributing flow of the batch is
 * flagged. The window is kept by `KeyedWindow`; a rule only says what a flow contributes.
 */
export interface WindowRule extends RuleInfo {
  readonly kind: 'window';
  /** `distinct`: distinct values (ports); `count`: contributing flows; `sum`: the values (bytes). */
  readonly aggregate: Aggregate;
  compile(config: DetectionConfig): CompiledWindowRule;
}

export type Aggregate = 'distinct' | 'count' | 'sum';

export interface CompiledWindowRule {
  readonly threshold: number;
  /** The key this flow contributes under, or undefined when it is not part of the pattern. */
  key(facts: FlowFacts): string | undefined;
  /** What it contributes: the port (`distinct`), 1 (`count`), the bytes (`sum`). */
  value(facts: FlowFacts): number;
}

export type Rule = FlowRule | WindowRule;
