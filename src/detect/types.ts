export type Severity = 'none' | 'info' | 'warning' | 'critical';

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  none: 0,
  info: 1,
  warning: 2,
  critical: 3,
};

/** What detection says about one flow. */
export interface Detection {
  readonly flags: readonly string[];
  readonly severity: Severity;
}

export const NO_FINDINGS: Detection = Object.freeze({
  flags: Object.freeze([]) as readonly string[],
  severity: 'none',
});

/** Detection over one invocation: evaluated as a whole, then committed for the records returned `Ok`. */
export interface DetectionBatch {
  readonly detections: readonly Detection[];
  /** Adds the flows at these indexes (those returned `Ok`) to the sliding window. */
  commit(okIndexes: readonly number[]): void;
  /** Matches silenced by a suppression rule, by flag id. */
  readonly suppressed: Readonly<Record<string, number>>;
}

export interface Detector {
  evaluate(
    flows: readonly import('../flowlog/parse.js').Flow[],
    enrichments: readonly (import('../enrich/types.js').Enrichment | undefined)[],
    nowMs: number,
  ): DetectionBatch;
}
