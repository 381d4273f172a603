import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import { decodeRecord, splitLines } from '../../src/firehose/decode.js';
import { cwlEnvelope } from '../helpers/events.js';

const LINE =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
const b64 = (data: string | Buffer) =>
  (typeof data === 'string' ? Buffer.from(data) : data).toString('base64');
const options = { maxDecompressedBytes: 1024 * 1024 };

describe('decodeRecord', () => {
  it.each([
    { name: 'one line with a trailing newline', data: `${LINE}\n`, lines: [LINE] },
    { name: 'one line without a trailing newline', data: LINE, lines: [LINE] },
    { name: 'CRLF line endings', data: `${LINE}\r\n${LINE}\r\n`, lines: [LINE, LINE] },
    { name: 'blank lines between', data: `\n${LINE}\n\n  \n${LINE}`, lines: [LINE, LINE] },
    { name: 'whitespace only', data: ' \r\n\t\n', lines: [] },
    { name: 'empty', data: '', lines: [] },
  ])('reads direct delivery: $name', ({ data, lines }) => {
    expect(decodeRecord(b64(data), options)).toStrictEqual({ kind: 'lines', lines });
  });

  it('reads a gzip CloudWatch Logs DATA_MESSAGE as its messages', () => {
    const decoded = decodeRecord(b64(cwlEnvelope([LINE, LINE])), options);
    expect(decoded.kind).toBe('cwl-data');
    expect(decoded.kind === 'cwl-data' && decoded.lines).toStrictEqual([LINE, LINE]);
  });

  it('reads an envelope Firehose already decompressed (plain JSON)', () => {
    const json = JSON.stringify({
      messageType: 'DATA_MESSAGE',
      logEvents: [{ id: '1', timestamp: 1, message: LINE }],
      extra: 1,
    });
    const decoded = decodeRecord(b64(json), options);
    expect(decoded.kind === 'cwl-data' && decoded.lines).toStrictEqual([LINE]);
  });

  it('recognises a CONTROL_MESSAGE', () => {
    expect(decodeRecord(b64(cwlEnvelope(['CWL CONTROL MESSAGE'], 'CONTROL_MESSAGE')), options)).toStrictEqual(
      {
        kind: 'cwl-control',
      },
    );
  });

  it('reads the URL-safe base64 alphabet as Node does (as the other decoding paths do)', () => {
    // '??>' is 'Pz8+' in standard base64 and 'Pz8-' in the URL-safe alphabet.
    expect(decodeRecord('Pz8-', options)).toStrictEqual(decodeRecord('Pz8+', options));
    expect(decodeRecord('Pz8-', options)).toStrictEqual({ kind: 'lines', lines: ['??>'] });
  });

  it('reads UTF-8 beyond ASCII', () => {
    expect(decodeRecord(b64('héllo wörld'), options)).toStrictEqual({
      kind: 'lines',
      lines: ['héllo wörld'],
    });
  });

  it.each([
    {
      name: 'invalid base64 characters',
      data: 'not base64!',
      reason: 'invalid_base64',
      message: /not valid base64/,
    },
    {
      name: 'base64 of the wrong length',
      data: 'QUJD=',
      reason: 'invalid_base64',
      message: /not valid base64/,
    },
    {
      name: 'a character outside base64 in a string of valid length',
      data: 'QUJD!!!!',
      reason: 'invalid_base64',
      message: /not valid base64/,
    },
    {
      name: 'whitespace inside base64',
      data: 'QUJD\nRA=',
      reason: 'invalid_base64',
      message: /not valid base64/,
    },
    { name: 'data that is not a string', data: 42, reason: 'invalid_base64', message: /not a base64 string/ },
    {
      name: 'invalid UTF-8',
      data: b64(Buffer.from([0xff, 0xfe, 0x41])),
      reason: 'invalid_utf8',
      message: /not valid UTF-8/,
    },
    {
      name: 'truncated gzip',
      data: b64(Buffer.from([0x1f, 0x8b, 0x08, 0x00])),
      reason: 'gzip_corrupt',
      message: /not valid gzip/,
    },
    {
      name: 'a gzip bomb',
      data: b64(gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20))),
      reason: 'gzip_too_large',
      message: /exceeds 1048576 bytes/,
    },
    {
      name: 'JSON that is not an envelope',
      data: b64('{"hello":1}'),
      reason: 'invalid_envelope',
      message: /messageType undefined/,
    },
    { name: 'broken JSON', data: b64('{"messageType":'), reason: 'invalid_envelope', message: /not JSON/ },
    {
      name: 'a DATA_MESSAGE without logEvents',
      data: b64('{"messageType":"DATA_MESSAGE"}'),
      reason: 'invalid_envelope',
      message: /no logEvents/,
    },
    {
      name: 'a log event without a message',
      data: b64(gzipSync('{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1"}]}')),
      reason: 'invalid_envelope',
      message: /logEvents\[0\] has no string message/,
    },
  ])('rejects $name', ({ data, reason, message }) => {
    const act = () => decodeRecord(data as string, options);
    expect(act).toThrow(DecodeError);
    expect(act).toThrow(message);
    try {
      act();
    } catch (error) {
      expect((error as DecodeError).reason).toBe(reason);
    }
  });
});

describe('splitLines', () => {
  it('keeps a line that has no trailing newline and trims CR and spaces', () => {
    expect(splitLines('a b\r\n c \nd')).toStrictEqual(['a b', 'c', 'd']);
  });
});
