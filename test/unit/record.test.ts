import { gzipSync } from 'node:zlib';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import flowRecordSchema from '../../schemas/flow-record.json' with { type: 'json' };
import { ByteWriter } from '../../src/bytes/byte-writer.js';
import { FieldBytes } from '../../src/bytes/field-bytes.js';
import { NO_FINDINGS } from '../../src/detect/types.js';
import { ParseError, toFlowlogError } from '../../src/errors.js';
import { decodeRecord } from '../../src/firehose/decode.js';
import { flowCommunityHash } from '../../src/flowlog/community-id.js';
import { ALL_FIELDS_FORMAT, DEFAULT_FORMAT } from '../../src/flowlog/fields.js';
import { type FormatSpec, isHeaderLine, parseFormat } from '../../src/flowlog/format.js';
import { createLineParser, type Flow, type LineParser } from '../../src/flowlog/parse.js';
import { ADDRESS_KEYS, createRecordParser } from '../../src/flowlog/record.js';
import { FLOW_FIELD_INTEGER_RANGES, FLOW_FIELD_VALIDATORS } from '../../src/generated/validators.js';
import { createFlowWriter, type FlowWriter } from '../../src/output/jsonl.js';

const OPTIONS = { maxLineLength: 512, maxDecompressedBytes: 1 << 20 };
const CUSTOM_FORMAT =
  '${interface-id} ${srcaddr} ${dstaddr} ${action} ${bytes} ${flow-direction} ${ecs-service-name} ${pkt-dst-aws-service}';

/**
 * The general path on its own: what the record parser must answer for every input. With several formats,
 * a line is read by the one with as many fields as the line has (runs of spaces count once), and a line
 * with a count no format has fails.
 */
function reference(format: FormatSpec | readonly FormatSpec[], data: string) {
  const formats = Array.isArray(format) ? format : [format];
  const parsers = formats.map((spec) => createLineParser(spec, { maxLineLength: OPTIONS.maxLineLength }));
  const parseLine = (line: string) => {
    if (parsers.length === 1 || line.length > OPTIONS.maxLineLength) return (parsers[0] as LineParser)(line);
    const count = line.split(/ +/).filter((token) => token !== '').length;
    const index = formats.findIndex((spec) => spec.fields.length === count);
    if (index < 0) {
      const counts = formats.map((spec) => spec.fields.length).join(' or ');
      throw new ParseError(
        'field_count',
        `found ${count} space-separated fields; the configured formats have ${counts}`,
      );
    }
    return (parsers[index] as LineParser)(line);
  };
  try {
    const decoded = decodeRecord(data, OPTIONS);
    if (decoded.kind === 'cwl-control') return { flows: [], lines: 0, headers: 0, control: true };
    const flows: Flow[] = [];
    let headers = 0;
    decoded.lines.forEach((line, n) => {
      if (isHeaderLine(line)) headers++;
      else {
        try {
          flows.push(parseLine(line));
        } catch (error) {
          throw decoded.lines.length > 1 ? (error as { atLine(n: number): Error }).atLine(n + 1) : error;
        }
      }
    });
    return { flows, lines: decoded.lines.length, headers, control: false };
  } catch (error) {
    const { reason, message } = toFlowlogError(error);
    return { error: { reason, message } };
  }
}

/**
 * Each flow's line as the writer of its own format makes it from the object, and as it makes it from the
 * members the reader wrote (undefined where it wrote none): the two must be equal.
 */
function written(format: FormatSpec | readonly FormatSpec[], flows: readonly Flow[], fields: FieldBytes) {
  const formats = Array.isArray(format) ? format : [format];
  const writers = formats.map((spec) => createFlowWriter(spec, OPTIONS.maxLineLength));
  const line = (i: number, start?: number, end?: number) => {
    const out = new ByteWriter(64);
    const writer = writers[formats.length > 1 ? fields.format(i) : 0] as FlowWriter;
    const flow = flows[i] as Flow;
    writer(out, flow, undefined, NO_FINDINGS, flowCommunityHash(flow), fields.out.buffer, start, end);
    return out.toString();
  };
  // As the transform writes: into the members' own buffer, after them (members move by copyWithin).
  const inPlace = (i: number) => {
    const out = fields.out;
    const before = out.length;
    const writer = writers[formats.length > 1 ? fields.format(i) : 0] as FlowWriter;
    const flow = flows[i] as Flow;
    writer(
      out,
      flow,
      undefined,
      NO_FINDINGS,
      flowCommunityHash(flow),
      out.buffer,
      fields.start(i),
      fields.end(i),
    );
    const text = out.toString(before);
    out.length = before;
    return text;
  };
  return flows.map((_, i) => ({
    fromObject: line(i),
    fromMembers: fields.start(i) >= 0 ? line(i, fields.start(i), fields.end(i)) : undefined,
    inPlace: fields.start(i) >= 0 ? inPlace(i) : undefined,
  }));
}

function actual(format: FormatSpec | readonly FormatSpec[], data: string, fields = new FieldBytes()) {
  const parse = createRecordParser(format, OPTIONS);
  const flows: Flow[] = [];
  try {
    const { lines, headers, control } = parse(
      data,
      flows,
      { decoded: false, lines: 0, headers: 0, control: false },
      fields,
    );
    for (const { fromObject, fromMembers, inPlace } of written(format, flows, fields)) {
      if (fromMembers !== undefined) expect(fromMembers).toBe(fromObject);
      if (inPlace !== undefined) expect(inPlace).toBe(fromObject);
    }
    return { flows, lines, headers, control };
  } catch (error) {
    const { reason, message } = toFlowlogError(error);
    return { error: { reason, message } };
  }
}

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');
const AWS_V2 =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

describe('the flow-record schema', () => {
  it('constrains each property on its own, so per-value validation equals whole-record validation', () => {
    // A rule across fields (required, dependencies, if/then, additionalProperties…) would break the
    // byte reader's value-by-value checks: this fails first, to say so.
    expect(Object.keys(flowRecordSchema).sort()).toStrictEqual(
      ['$id', '$schema', 'description', 'properties', 'title', 'type'].sort(),
    );
    expect(flowRecordSchema.type).toBe('object');
    expect(Object.keys(FLOW_FIELD_VALIDATORS).sort()).toStrictEqual(
      Object.keys(flowRecordSchema.properties).sort(),
    );
  });

  it('has integer ranges that answer as the validators do, for every integer the byte reader reads', () => {
    // Timestamps and counts are checked against these bounds rather than by calling their validators.
    expect(Object.keys(FLOW_FIELD_INTEGER_RANGES)).toEqual(
      expect.arrayContaining(['srcport', 'packets', 'bytes', 'start', 'end']),
    );
    for (const [key, [minimum, maximum]] of Object.entries(FLOW_FIELD_INTEGER_RANGES)) {
      const validate = FLOW_FIELD_VALIDATORS[key] as (value: unknown) => boolean;
      const probes = [0, 1, 2, 3, 4, 255, 256, 65535, 65536, 2 ** 32, Number.MAX_SAFE_INTEGER];
      for (const v of [
        ...probes,
        minimum - 1,
        minimum,
        minimum + 1,
        ...(maximum === null ? [] : [maximum, maximum + 1]),
      ]) {
        if (v < 0) continue;
        expect([key, v, validate(v)]).toStrictEqual([
          key,
          v,
          v >= minimum && (maximum === null || v <= maximum),
        ]);
      }
    }
  });

  it('gives the address fields one definition, so that they can share one intern table', () => {
    const properties = flowRecordSchema.properties as Record<string, unknown>;
    // The constraints, that is: each column has its own description.
    const definitions = [...ADDRESS_KEYS].map((key) => {
      const { description: _, ...constraints } = properties[key] as Record<string, unknown>;
      return JSON.stringify(constraints);
    });
    expect(definitions[0]).toContain('"ip"');
    expect(new Set(definitions).size).toBe(1);
  });
});

describe('createRecordParser', () => {
  const defaultFormat = parseFormat(DEFAULT_FORMAT);
  it.each([
    { name: 'one AWS example line', data: b64(`${AWS_V2}\n`) },
    { name: 'no trailing newline', data: b64(AWS_V2) },
    { name: 'CRLF and blank lines', data: b64(`\r\n${AWS_V2}\r\n\r\n${AWS_V2}\r\n`) },
    {
      name: 'a header line then data',
      data: b64(
        `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n${AWS_V2}\n`,
      ),
    },
    {
      name: 'NODATA with dashes',
      data: b64('2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA'),
    },
    { name: 'a doubled space (AWS example)', data: b64(AWS_V2.replace(' 20641', '  20641')) },
    { name: 'an integer with a sign', data: b64(AWS_V2.replace(' 20641 ', ' -20641 ')) },
    { name: 'a port out of range', data: b64(AWS_V2.replace(' 20641 ', ' 70000 ')) },
    { name: 'seventeen digits', data: b64(AWS_V2.replace(' 4249 ', ' 12345678901234567 ')) },
    { name: 'a bad second line', data: b64(`${AWS_V2}\n${AWS_V2.replace('ACCEPT', 'MAYBE')}\n`) },
    { name: 'too few fields', data: b64('2 123456789010 eni-1235b8ca123456789') },
    { name: 'UTF-8 in a field', data: b64(AWS_V2.replace('ACCEPT', 'ACCÉPT')) },
    { name: 'invalid UTF-8', data: b64(Buffer.concat([Buffer.from(AWS_V2), Buffer.from([0xff])])) },
    { name: 'a line over the length limit', data: b64(`${AWS_V2} ${'x'.repeat(600)}`) },
    {
      name: 'a JSON envelope',
      data: b64(JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: [{ message: AWS_V2 }] })),
    },
    {
      name: 'a gzip envelope',
      data: b64(gzipSync(JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: [{ message: AWS_V2 }] }))),
    },
    {
      name: 'a control message',
      data: b64(gzipSync(JSON.stringify({ messageType: 'CONTROL_MESSAGE', logEvents: [] }))),
    },
    {
      name: 'a header line ending in a byte beyond ASCII',
      data: b64(
        Buffer.concat([Buffer.from('version account-id'), Buffer.from([0xa0]), Buffer.from(`\n${AWS_V2}\n`)]),
      ),
    },
    { name: 'URL-safe base64', data: b64(`${AWS_V2}\n`).replaceAll('/', '_').replaceAll('+', '-') },
    { name: 'not base64', data: 'QUJD!!!!' },
    { name: 'empty data', data: '' },
  ])('answers $name as the general path does', ({ data }) => {
    expect(actual(defaultFormat, data)).toStrictEqual(reference(defaultFormat, data));
  });

  it('reads AWS example lines by byte, giving the same objects as the line parser', () => {
    const flows: Flow[] = [];
    createRecordParser(defaultFormat, OPTIONS)(b64(`${AWS_V2}\n${AWS_V2}\n`), flows, {
      decoded: false,
      lines: 0,
      headers: 0,
      control: false,
    });
    expect(flows).toStrictEqual([
      createLineParser(defaultFormat, OPTIONS)(AWS_V2),
      createLineParser(defaultFormat, OPTIONS)(AWS_V2),
    ]);
    // Interned: a value seen again is the same string.
    expect(flows[0]?.interface_id).toBe(flows[1]?.interface_id);
  });

  it.each([
    { name: 'an AWS example line', line: AWS_V2, members: true },
    {
      name: 'NODATA with dashes',
      line: '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA',
      members: true,
    },
    // The writer writes 7 for 007: the object's line is the reference, so the reader leaves it to it.
    { name: 'a leading zero', line: AWS_V2.replace(' 20641 ', ' 020641 '), members: false },
  ])('writes the JSON members of $name as the writer would from the object', ({ line, members }) => {
    const fields = new FieldBytes();
    // Written after what another record left there: spans are positions, not a fresh buffer.
    fields.out.reserve(3);
    fields.out.length = 3;
    const flows = (actual(defaultFormat, b64(`${line}\n${line}\n`), fields) as { flows: Flow[] }).flows;
    const lines = written(defaultFormat, flows, fields);
    expect(lines).toHaveLength(2);
    for (const { fromObject, fromMembers } of lines) {
      expect(fromMembers).toBe(members ? fromObject : undefined);
    }
    if (members)
      expect(lines[0]?.fromObject).toMatch(
        /^\{"version":2,"account_id":"123456789010",.*"log_status":"(OK|NODATA)"/,
      );
  });

  it('tells apart values whose hash and length are equal, and values too long to keep', () => {
    // "Aa" and "BB" have the same 31-based hash, so each of these sets holds values that share hash and
    // length: only the bytes, compared four at a time (a whole word or the last 1–3 bytes), tell them apart.
    const families = [
      ['AaAa', 'BBBB', 'AaBB', 'BBAa'],
      ['zzzzzAa', 'zzzzzBB'],
      ['AazzzzzzzzzzAa', 'BBzzzzzzzzzzAa', 'AazzzzzzzzzzBB'],
      [`${'x'.repeat(54)}Aa`, `${'x'.repeat(54)}BB`],
      [`${'y'.repeat(70)}Aa`, `${'y'.repeat(70)}BB`],
    ];
    const format = parseFormat('${interface-id} ${ecs-service-name}');
    const parse = createRecordParser(format, OPTIONS);
    const values = [...families.flat(), ...families.flat().reverse(), ...families.flat()];
    const flows: Flow[] = [];
    for (const value of values) {
      parse(b64(`eni-1235b8ca123456789 ${value}\n`), flows, {
        decoded: false,
        lines: 0,
        headers: 0,
        control: false,
      });
    }
    expect(flows.map((flow) => flow.ecs_service_name)).toStrictEqual(values);
  });

  it('writes no members for flows the general path read, even after lines the byte path took', () => {
    const fields = new FieldBytes();
    const data = b64(`${AWS_V2}\n${AWS_V2.replace('  ', ' ').replace(' 22 ', '  22 ')}\n`);
    const flows = (actual(defaultFormat, data, fields) as { flows: Flow[] }).flows;
    expect(flows).toHaveLength(2);
    expect([fields.start(0), fields.start(1)]).toStrictEqual([-1, -1]);
  });

  it("writes a line in the members' own buffer when making room for it moves that buffer", () => {
    const fields = new FieldBytes();
    const flows = (actual(defaultFormat, b64(`${AWS_V2}\n`), fields) as { flows: Flow[] }).flows;
    const out = fields.out;
    // The output starts so near the end that the writer's room for one line makes a new buffer: the
    // members are then read from the old one, which the writer was given.
    const members = out.buffer;
    out.length = members.length - 8;
    const before = out.length;
    const writer = createFlowWriter(defaultFormat, OPTIONS.maxLineLength);
    const flow = flows[0] as Flow;
    writer(
      out,
      flow,
      undefined,
      NO_FINDINGS,
      flowCommunityHash(flow),
      members,
      fields.start(0),
      fields.end(0),
    );
    expect(out.buffer).not.toBe(members);
    expect(out.toString(before)).toBe(written(defaultFormat, flows, fields)[0]?.fromObject);
  });

  // Tokens that are valid for some field, plus noise: the two paths must agree on every mix.
  const token = fc.oneof(
    fc.constantFrom('-', '0', '6', '443', '007', '4294967296', '9007199254740993', '00000000000000042'),
    fc.constantFrom('123456789010', 'eni-1235b8ca123456789', 'vpc-0a1b2c3d', '10.0.1.5', '2600:1f18::1'),
    fc.constantFrom('ACCEPT', 'REJECT', 'OK', 'NODATA', 'ingress', 'egress', 'S3', 'IPv4', 'us-east-1'),
    fc.string({ unit: 'grapheme-ascii', minLength: 0, maxLength: 8 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }),
  );
  const line = (fields: number) =>
    fc
      .tuple(
        fc.array(token, { minLength: fields - 1, maxLength: fields + 1 }),
        fc.constantFrom(' ', ' ', ' ', '  ', '\t'),
        fc.constantFrom('', ' ', '\r', '\t'),
      )
      .map(([tokens, separator, edge]) => `${edge}${tokens.join(separator)}${edge}`);

  // Mostly valid lines: each field a value its schema accepts (or `-`), sometimes one token of noise.
  const VALID: Record<string, fc.Arbitrary<string>> = {
    version: fc.constantFrom('2', '5', '8'),
    account_id: fc.constantFrom('123456789010', 'unknown'),
    interface_id: fc.constantFrom('eni-1235b8ca123456789', 'eni-0a1b2c3d'),
    srcaddr: fc.oneof(fc.ipV4(), fc.ipV6()),
    dstaddr: fc.ipV4(),
    srcport: fc.nat({ max: 65535 }).map(String),
    dstport: fc.nat({ max: 65535 }).map(String),
    protocol: fc.nat({ max: 255 }).map(String),
    packets: fc.maxSafeNat().map(String),
    bytes: fc.maxSafeNat().map(String),
    start: fc.nat().map(String),
    end: fc.nat().map(String),
    action: fc.constantFrom('ACCEPT', 'REJECT'),
    log_status: fc.constantFrom('OK', 'NODATA', 'SKIPDATA'),
    flow_direction: fc.constantFrom('ingress', 'egress'),
    pkt_dst_aws_service: fc.constantFrom('S3', 'AMAZON_APPFLOW'),
    ecs_service_name: fc
      .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 })
      .filter((v) => !/\s/.test(v)),
  };
  const validLine = (format: FormatSpec) =>
    fc
      .tuple(
        fc.tuple(
          ...format.fields.map((field) => fc.oneof(VALID[field.key] ?? fc.constant('-'), fc.constant('-'))),
        ),
        fc.option(fc.tuple(fc.nat({ max: format.fields.length - 1 }), token), { freq: 4 }),
      )
      .map(([tokens, noise]) => {
        if (noise) tokens[noise[0]] = noise[1];
        return tokens.join(' ');
      });

  describe.each([
    ['default', DEFAULT_FORMAT],
    ['all fields', ALL_FIELDS_FORMAT],
    ['custom', CUSTOM_FORMAT],
  ])('%s format', (_, source) => {
    const format = parseFormat(source);
    test.prop(
      [fc.array(line(format.fields.length), { minLength: 0, maxLength: 4 }), fc.constantFrom('\n', '\r\n')],
      {
        numRuns: 300,
      },
    )('agrees with the general path on any mix of lines (objects and JSON)', (lines, newline) => {
      const data = b64(lines.join(newline));
      expect(actual(format, data)).toStrictEqual(reference(format, data));
    });

    test.prop([fc.array(validLine(format), { minLength: 1, maxLength: 4 })], { numRuns: 300 })(
      'agrees with the general path on mostly valid lines',
      (lines) => {
        const data = b64(`${lines.join('\n')}\n`);
        const expected = reference(format, data);
        expect(actual(format, data)).toStrictEqual(expected);
      },
    );

    it('reads most generated lines as valid flows (the property above is not vacuous)', () => {
      const samples = fc.sample(validLine(format), { numRuns: 200, seed: 1 });
      const valid = samples.filter((sample) => 'flows' in reference(format, b64(sample)));
      expect(valid.length).toBeGreaterThan(50);
      // …and most of those by the byte path, whose JSON members the properties compare.
      const withMembers = valid.filter((sample) => {
        const fields = new FieldBytes();
        actual(format, b64(sample), fields);
        return fields.start(0) >= 0;
      });
      expect(withMembers.length).toBeGreaterThan(valid.length / 2);
    });
  });

  describe('two formats (v2 and all fields)', () => {
    const formats = [parseFormat(DEFAULT_FORMAT), parseFormat(ALL_FIELDS_FORMAT)];
    const anyLine = fc.oneof(...formats.map((format) => line(format.fields.length)));
    const anyValidLine = fc.oneof(...formats.map((format) => validLine(format)));

    test.prop([fc.array(anyLine, { minLength: 0, maxLength: 4 }), fc.constantFrom('\n', '\r\n')], {
      numRuns: 300,
    })('agrees with the general path on any mix of lines of either format', (lines, newline) => {
      const data = b64(lines.join(newline));
      expect(actual(formats, data)).toStrictEqual(reference(formats, data));
    });

    test.prop([fc.array(anyValidLine, { minLength: 1, maxLength: 4 })], { numRuns: 300 })(
      'agrees with the general path on mostly valid lines of either format',
      (lines) => {
        const data = b64(`${lines.join('\n')}\n`);
        expect(actual(formats, data)).toStrictEqual(reference(formats, data));
      },
    );

    it('reads lines of both formats by the byte path, each with its own format', () => {
      // Prepare
      const fields = new FieldBytes();
      const samples = formats.map((format) =>
        fc.sample(validLine(format), { numRuns: 200, seed: 1 }).find((sample) => {
          const probe = new FieldBytes();
          return 'flows' in actual(format, b64(sample), probe) && probe.start(0) >= 0;
        }),
      );

      // Act
      const result = actual(formats, b64(`${samples.join('\n')}\n`), fields);

      // Assess
      expect(result).toStrictEqual(reference(formats, b64(`${samples.join('\n')}\n`)));
      expect([fields.start(0) >= 0, fields.start(1) >= 0]).toStrictEqual([true, true]);
      expect([fields.format(0), fields.format(1)]).toStrictEqual([0, 1]);
    });

    it.each([
      { name: 'too few fields', line: AWS_V2.split(' ').slice(0, 13).join(' '), found: 13 },
      { name: 'between the two counts', line: `${AWS_V2} ${AWS_V2}`, found: 28 },
    ])('fails a line that matches no format ($name), naming the counts configured', ({ line, found }) => {
      // Act
      const result = actual(formats, b64(`${AWS_V2}\n${line}\n`));

      // Assess
      expect(result).toStrictEqual({
        error: {
          reason: 'field_count',
          message: `line 2: found ${found} space-separated fields; the configured formats have 14 or ${formats[1]?.fields.length}`,
        },
      });
    });
  });
});
