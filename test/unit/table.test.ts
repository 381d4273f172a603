import { describe, expect, it } from 'vitest';
import { count, formatNumber, formatTable } from '../../src/cli/table.js';

describe('formatNumber: one number format everywhere', () => {
  it.each([
    { value: 0, text: '0' },
    { value: 8640, text: '8,640' },
    { value: 25244, text: '25,244' },
    { value: 1234567.891, text: '1,234,567.891' },
    { value: 0.12345, text: '0.123' },
    { value: -4200, text: '-4,200' },
    { value: 12345678901234567890n, text: '12,345,678,901,234,567,890' },
  ])('$value → $text', ({ value, text }) => {
    expect(formatNumber(value)).toBe(text);
  });

  it('counts with the right noun', () => {
    expect([count(1, 'row'), count(0, 'row'), count(25244, 'row')]).toStrictEqual([
      '1 row',
      '0 rows',
      '25,244 rows',
    ]);
  });
});

describe('formatTable', () => {
  it('sizes each column to its content, right-aligns numbers with separators and counts the rows', () => {
    // Act
    const text = formatTable(
      ['srcaddr', 'dstport', 'flows', 'note'],
      [
        ['203.0.113.66', 3306, 25244, 'port scan'],
        ['10.0.2.22', 22, 7, null],
      ],
    );

    // Assess: ports stay as they are (an identifier, not an amount); the last column is not padded.
    expect(text).toBe(
      [
        'srcaddr       dstport   flows  note',
        '------------  -------  ------  ---------',
        '203.0.113.66     3306  25,244  port scan',
        '10.0.2.22          22       7',
        '(2 rows)',
        '',
      ].join('\n'),
    );
  });

  it('marks a value it shortens with …, at the column cap', () => {
    // Act
    const text = formatTable(
      ['flag_ids', 'flows'],
      [['db_port_rejected,admin_port_rejected,port_scan', 80]],
      {
        maxWidth: 20,
      },
    );

    // Assess
    expect(text.split('\n')).toStrictEqual([
      'flag_ids              flows',
      '--------------------  -----',
      'db_port_rejected,ad…     80',
      '(1 row)',
      '',
    ]);
  });

  it('says how many rows were left out and how to see them all', () => {
    // Prepare
    const rows = Array.from({ length: 1234 }, (_, i) => [`10.0.0.${i % 256}`, i]);

    // Act
    const lines = formatTable(['srcaddr', 'n'], rows, { maxRows: 20 }).trimEnd().split('\n');

    // Assess
    expect(lines).toHaveLength(2 + 20 + 1);
    expect(lines.at(-1)).toBe('… 1,214 more rows (20 of 1,234 shown; --json for all rows)');
  });

  it('says so when there are no rows', () => {
    expect(formatTable(['a', 'b'], [])).toBe('a  b\n-  -\n(no rows)\n');
  });

  it('shows objects as JSON, keeps a line to one line, counts characters not UTF-16 units', () => {
    // Act
    const text = formatTable(
      ['tags', 'text', 'x'],
      [
        [{ Name: 'web' }, 'a\nb', '→'],
        [null, '→→→', 'y'],
      ],
      { footer: false },
    );

    // Assess
    expect(text.split('\n')).toStrictEqual([
      'tags            text  x',
      '--------------  ----  -',
      '{"Name":"web"}  a b   →',
      '                →→→   y',
      '',
    ]);
  });

  it('without a header, indented, with given alignments', () => {
    expect(
      formatTable(
        ['item', 'cost'],
        [
          ['Lambda', '$1,234.50'],
          ['S3', '$0.07'],
        ],
        { header: false, footer: false, indent: '  ', align: ['left', 'right'] },
      ),
    ).toBe('  Lambda  $1,234.50\n  S3          $0.07\n');
  });
});
