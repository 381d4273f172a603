import { describe, expect, it } from 'vitest';
import { loadTemplate } from '../helpers/template.js';

// The stack's hardening, checked against the template as written (and, for IAM, as SAM expands it).
const template = loadTemplate();

describe('template.yaml: function limits', () => {
  it('cannot time out later than Firehose waits for its Lambda processor (5 minutes)', () => {
    // Firehose gives up on an invocation after 5 minutes; a longer function timeout only hides the failure.
    const timeout = template.Parameters.FunctionTimeout;
    expect(timeout?.MaxValue).toBeLessThanOrEqual(300);
    expect(timeout?.Default).toBeLessThanOrEqual(timeout?.MaxValue as number);
    expect(template.Resources.TransformFunction?.Properties.Timeout).toStrictEqual({
      Ref: 'FunctionTimeout',
    });
  });
});
