import { describe, expect, it } from 'vitest';
import { DEFAULT_ADMIN_PORTS, loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { ALL_FIELDS_FORMAT, DEFAULT_FORMAT } from '../../src/flowlog/fields.js';

const ALL_FIELDS_COUNT = ALL_FIELDS_FORMAT.split(' ').length;

describe('loadConfig', () => {
  it('has working defaults and is frozen', () => {
    const config = loadConfig({});
    expect(config.format.fields).toHaveLength(14);
    expect(config.responseLimitBytes).toBe(6_000_000);
    expect(config.detection.adminPorts).toStrictEqual(DEFAULT_ADMIN_PORTS);
    expect(config.enrichment.tagKeys).toContain('Name');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.detection.adminPorts)).toBe(true);
  });

  it('reads lists, numbers and role maps', () => {
    const config = loadConfig({
      ADMIN_PORTS: '22, 2222',
      ENI_CACHE_TTL_SECONDS: '60',
      CROSS_ACCOUNT_ROLES: '111122223333=arn:aws:iam::111122223333:role/flowlog-read',
      SUPPRESSIONS: '[{"flags":["port_scan"],"cidr":"10.0.9.0/24"},{"dstport":443}]',
    });
    expect(config.detection.adminPorts).toStrictEqual([22, 2222]);
    expect(config.enrichment.cacheTtlMs).toBe(60_000);
    expect(config.enrichment.crossAccountRoles).toStrictEqual({
      '111122223333': 'arn:aws:iam::111122223333:role/flowlog-read',
    });
    expect(config.detection.suppressions).toStrictEqual([
      { flags: ['port_scan'], cidr: '10.0.9.0/24' },
      { flags: ['*'], dstport: 443 },
    ]);
  });

  it('keeps every INTERNAL_CIDRS entry that parses, IPv4 and IPv6', () => {
    const config = loadConfig({ INTERNAL_CIDRS: '100.70.0.0/16, fd00:ec2::/32' });
    expect(config.enrichment.internalCidrs).toStrictEqual(['100.70.0.0/16', 'fd00:ec2::/32']);
  });

  it('reads a plain list of role ARNs, as the template passes them', () => {
    const config = loadConfig({
      CROSS_ACCOUNT_ROLES: 'arn:aws:iam::111122223333:role/a, arn:aws:iam::444455556666:role/b',
    });
    expect(config.enrichment.crossAccountRoles).toStrictEqual({
      '111122223333': 'arn:aws:iam::111122223333:role/a',
      '444455556666': 'arn:aws:iam::444455556666:role/b',
    });
  });

  it.each([
    { name: 'one format', source: DEFAULT_FORMAT, counts: [14] },
    {
      name: 'v2 and all fields',
      source: `${DEFAULT_FORMAT},${ALL_FIELDS_FORMAT}`,
      counts: [14, ALL_FIELDS_COUNT],
    },
    {
      name: 'three, spaced around the commas',
      source: ` ${ALL_FIELDS_FORMAT} , ${DEFAULT_FORMAT} ,\${srcaddr} \${dstaddr}`,
      counts: [ALL_FIELDS_COUNT, 14, 2],
    },
  ])('reads FLOW_LOG_FORMAT with $name, the first as the primary format', ({ source, counts }) => {
    // Act
    const config = loadConfig({ FLOW_LOG_FORMAT: source });

    // Assess
    expect(config.formats.map((format) => format.fields.length)).toStrictEqual(counts);
    expect(config.format).toBe(config.formats[0]);
    expect(config.formats.map((format) => format.source)).toStrictEqual(
      source.split(',').map((format) => format.trim()),
    );
  });

  it.each([
    { env: { FLOW_LOG_FORMAT: '${srcaddr} dstaddr' }, message: /^FLOW_LOG_FORMAT: token 2/ },
    {
      env: { FLOW_LOG_FORMAT: `${DEFAULT_FORMAT},\${srcaddr} dstaddr` },
      message: /^FLOW_LOG_FORMAT: format 2: token 2 "dstaddr"/,
    },
    {
      env: { FLOW_LOG_FORMAT: `${DEFAULT_FORMAT},` },
      message: /^FLOW_LOG_FORMAT: format 2: the log format is empty/,
    },
    // Same field count, different fields: a line could be read with either, so neither is guessed.
    {
      env: {
        FLOW_LOG_FORMAT: `${DEFAULT_FORMAT},${DEFAULT_FORMAT.replace('${log-status}', '${flow-direction}')}`,
      },
      message: /^FLOW_LOG_FORMAT: formats 1 and 2 both have 14 fields; a line could not tell them apart$/,
    },
    {
      env: { FLOW_LOG_FORMAT: `${ALL_FIELDS_FORMAT}, \${srcaddr} \${dstaddr}, \${dstaddr} \${srcaddr}` },
      message: /^FLOW_LOG_FORMAT: formats 2 and 3 both have 2 fields/,
    },
    { env: { MAX_LINE_LENGTH: 'many' }, message: /^MAX_LINE_LENGTH: "many" is not a whole number/ },
    { env: { RESPONSE_LIMIT_BYTES: '7000000' }, message: /^RESPONSE_LIMIT_BYTES: 7000000 is outside/ },
    { env: { ENRICHMENT: 'maybe' }, message: /^ENRICHMENT: "maybe" is not one of ec2, off/ },
    { env: { ADMIN_PORTS: '22,ssh' }, message: /^ADMIN_PORTS: "ssh" is not a port/ },
    {
      env: { CROSS_ACCOUNT_ROLES: '{"1234":"arn"}' },
      message: /^CROSS_ACCOUNT_ROLES: "1234" is not an account id/,
    },
    { env: { CROSS_ACCOUNT_ROLES: '{"111122223333":"nope"}' }, message: /is not an IAM role ARN/ },
    { env: { SUPPRESSIONS: '{}' }, message: /^SUPPRESSIONS: expected a JSON array/ },
    {
      env: { SUPPRESSIONS: '[{"flags":["port_scan"]}]' },
      message: /rule 0: needs at least one of cidr, dstport, tag/,
    },
    // A CIDR that did not parse used to be dropped, leaving a rule that silenced every unusual_protocol.
    {
      env: { SUPPRESSIONS: '[{"flags":["unusual_protocol"],"cidr":"10.0.0.300/24"}]' },
      message: /^SUPPRESSIONS: rule 0: cidr "10.0.0.300\/24" is not a CIDR block/,
    },
    {
      env: { SUPPRESSIONS: '[{"flags":["port_scan"],"cidr":"10.0.0.0/"}]' },
      message: /^SUPPRESSIONS: rule 0: cidr "10.0.0.0\/" is not a CIDR block/,
    },
    {
      env: { INTERNAL_CIDRS: '10.0.0.0/8, 172.300.0.0/16' },
      message: /^INTERNAL_CIDRS: "172.300.0.0\/16" is not a CIDR/,
    },
    { env: { INTERNAL_CIDRS: 'corp' }, message: /^INTERNAL_CIDRS: "corp" is not a CIDR/ },
  ])('fails the cold start naming the variable: $message', ({ env, message }) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
