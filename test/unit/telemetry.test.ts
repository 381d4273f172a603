import { describe, expect, it } from 'vitest';
import { countError, errorName, formatSummary, type InvocationSummary } from '../../src/telemetry.js';

const NOW = 1_700_000_000_000;

function summaryLine(summary: Partial<InvocationSummary>): Record<string, unknown> {
  return JSON.parse(
    formatSummary('FlowlogEnrich', { stream: 'flowlog-enrich', counts: {}, durationMs: 12, ...summary }, NOW),
  ) as Record<string, unknown>;
}

describe('formatSummary', () => {
  it('carries each AWS error name and its count as context.awsErrors, beside the metric counters', () => {
    // Act
    const line = summaryLine({
      counts: { Ec2Errors: 5, ReingestFailed: 2 },
      awsErrors: { ThrottlingException: 3, AccessDenied: 1, TimeoutError: 1 },
    });

    // Assess
    expect(line.context).toStrictEqual({
      awsErrors: { ThrottlingException: 3, AccessDenied: 1, TimeoutError: 1 },
    });
    expect(line).toMatchObject({ Ec2Errors: 5, ReingestFailed: 2 });
    // Names are context, never metrics: the metric list is the alarm contract.
    const metrics = (line._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] })
      .CloudWatchMetrics[0]?.Metrics;
    expect(metrics?.map((m) => m.Name)).toStrictEqual([
      'Ec2Errors',
      'ReingestFailed',
      'TransformMilliseconds',
    ]);
  });

  it('keeps the other context beside awsErrors', () => {
    // Act
    const line = summaryLine({
      context: { firstFailure: { reason: 'invalid_field', field: 'dstport', position: 7 } },
      awsErrors: { ServiceUnavailableException: 4 },
    });

    // Assess
    expect(line.context).toStrictEqual({
      firstFailure: { reason: 'invalid_field', field: 'dstport', position: 7 },
      awsErrors: { ServiceUnavailableException: 4 },
    });
  });

  it('writes each phase’s milliseconds as context.phaseMs, not as metrics', () => {
    // Act
    const line = summaryLine({ phaseMs: { admit: 4.2, write: 6.1 } });

    // Assess
    expect(line.context).toStrictEqual({ phaseMs: { admit: 4.2, write: 6.1 } });
    const metrics = (line._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] })
      .CloudWatchMetrics[0]?.Metrics;
    expect(metrics?.map((m) => m.Name)).toStrictEqual(['TransformMilliseconds']);
  });

  it.each<{ name: string; awsErrors: Record<string, number> | undefined }>([
    { name: 'no errors', awsErrors: undefined },
    { name: 'an empty map', awsErrors: {} },
    { name: 'only zero counts', awsErrors: { TimeoutError: 0 } },
  ])('writes no context for $name', ({ awsErrors }) => {
    // Act
    const line = summaryLine(awsErrors ? { awsErrors } : {});

    // Assess
    expect(line).not.toHaveProperty('context');
  });

  it('never writes a name that is not a plain identifier, and at most 20 of them', () => {
    // Prepare: what a hostile or broken response could put in an error name.
    const awsErrors: Record<string, number> = { '10.0.1.7 said no': 1, 'a"b': 1, '': 1 };
    for (let i = 0; i < 25; i++) awsErrors[`Error${i}`] = 1;

    // Act
    const line = summaryLine({ awsErrors });

    // Assess
    const written = (line.context as { awsErrors: Record<string, number> }).awsErrors;
    expect(written.UnknownError).toBe(3);
    expect(written.OtherErrors).toBe(6);
    expect(Object.keys(written)).toHaveLength(21);
    expect(Object.values(written).reduce((a, b) => a + b, 0)).toBe(28);
  });
});

describe('errorName', () => {
  it.each([
    {
      error: Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
      name: 'ThrottlingException',
    },
    {
      error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      name: 'ECONNREFUSED',
    },
    { error: new Error('plain'), name: 'Error' },
    { error: 'a string', name: 'Error' },
    { error: undefined, name: 'Error' },
  ])('names $error as $name', ({ error, name }) => {
    expect(errorName(error)).toBe(name);
  });

  it('counts a name that is not a plain identifier as UnknownError', () => {
    // Prepare
    const counts: Record<string, number> = {};

    // Act
    countError(counts, { name: '__proto__' });
    countError(counts, { name: 'AccessDenied' });

    // Assess
    expect(counts).toStrictEqual({ UnknownError: 1, AccessDenied: 1 });
  });
});
