import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { formatFromHeader, isHeaderLine, parseFormat } from '../../src/flowlog/format.js';

describe('parseFormat', () => {
  it('reads the default format into 14 known fields in order', () => {
    const spec = parseFormat(DEFAULT_FORMAT);
    expect(spec.fields.map((f) => f.key)).toStrictEqual([
      'version',
      'account_id',
      'interface_id',
      'srcaddr',
      'dstaddr',
      'srcport',
      'dstport',
      'protocol',
      'packets',
      'bytes',
      'start',
      'end',
      'action',
      'log_status',
    ]);
    expect(spec.unknown).toStrictEqual([]);
    expect(spec.fields[6]).toMatchObject({ name: 'dstport', position: 7, kind: 'int', known: true });
  });

  it('keeps an unknown field as a string and lists it', () => {
    const spec = parseFormat('${version} ${brand-new-field}');
    expect(spec.unknown).toStrictEqual(['brand-new-field']);
    expect(spec.fields[1]).toMatchObject({ key: 'brand_new_field', kind: 'text', known: false });
  });

  it.each([
    { name: 'empty', format: '  ', message: /empty/ },
    {
      name: 'a bare word',
      format: '${version} srcaddr',
      message: /token 2 "srcaddr" is not a field reference/,
    },
    { name: 'an unclosed brace', format: '${version', message: /token 1/ },
    { name: 'a duplicate', format: '${srcaddr} ${srcaddr}', message: /srcaddr appears more than once/ },
    { name: 'upper case', format: '${Version}', message: /token 1/ },
    {
      name: 'a new field named like an added column',
      format: '${srcaddr} ${severity}',
      message: /field severity would collide with the severity column/,
    },
    {
      name: 'another one',
      format: '${enrichment-status}',
      message: /collide with the enrichment_status column/,
    },
  ])('rejects $name', ({ format, message }) => {
    expect(() => parseFormat(format)).toThrow(ConfigError);
    expect(() => parseFormat(format)).toThrow(message);
    expect(() => parseFormat(format)).toThrow(/^FLOW_LOG_FORMAT: /);
  });
});

describe('header lines', () => {
  it.each([
    {
      line: 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
      header: true,
    },
    { line: 'account-id interface-id', header: true },
    {
      line: '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA',
      header: false,
    },
    { line: 'ingress 10.0.0.1', header: false },
    { line: 'version 2', header: false },
  ])('$line → $header', ({ line, header }) => {
    expect(isHeaderLine(line)).toBe(header);
  });

  it('turns a header into the format it stands for', () => {
    expect(formatFromHeader('version srcaddr log-status')).toBe('${version} ${srcaddr} ${log-status}');
  });
});
