import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ADMIN_PORTS } from '../../src/config.js';
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

describe('named queries', () => {
  const portList = (sql: string) => {
    const match = /dstport IN \(([\d,\s]+)\)/.exec(sql);
    return (match?.[1] ?? '').split(',').map((port) => Number(port.trim()));
  };

  it('admin-port-attempts covers every default admin port the detector flags', () => {
    // Prepare
    const sql = readFileSync(new URL('../../queries/admin-port-attempts.sql', import.meta.url), 'utf8');
    const deployed = template.Resources.QueryAdminPortAttempts?.Properties.QueryString as string;
    // Act
    const ports = portList(sql);
    // Assess
    expect([...ports].sort((a, b) => a - b)).toStrictEqual([...DEFAULT_ADMIN_PORTS].sort((a, b) => a - b));
    expect(portList(deployed)).toStrictEqual(ports);
    expect(template.Parameters.AdminPorts?.Default).toBe(DEFAULT_ADMIN_PORTS.join(','));
  });
});
