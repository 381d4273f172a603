import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { binWidth, REPORT_LIMITS } from '../../src/local/report-data.js';
import { escapeHtml, formatTime, inlineScript, scriptJson } from '../../src/local/report-html.js';

describe('report page escaping', () => {
  it('embedded JSON cannot close its script element, and reads back as the same value', () => {
    // Prepare
    const value = {
      tag: '</script><script>alert(1)</script>',
      amp: 'a&b',
      sep: 'x\u2028y',
      url: 'http://x.test/',
    };

    // Act
    const text = scriptJson(value);

    // Assess
    expect(text).not.toMatch(/<|>|&|http:\/\//);
    expect(JSON.parse(text)).toStrictEqual(value);
  });

  it('HTML text escapes markup and names no URL', () => {
    expect(escapeHtml(`<b title="x">'&' see https://x.test</b>`)).toBe(
      '&lt;b title=&quot;x&quot;&gt;&#39;&amp;&#39; see https:&#47;&#47;x.test&lt;/b&gt;',
    );
  });

  it("a library's licence comment loses its URL; a URL in code is refused", () => {
    expect(inlineScript('/*!\n * Lib v1\n * https://lib.example\n */\nvar a=1;', 'lib')).toBe(
      '/*!\n * Lib v1\n * lib.example\n */\nvar a=1;',
    );
    expect(() => inlineScript('fetch("https://lib.example/x")', 'lib')).toThrow(/lib: a URL in code/);
    expect(() => inlineScript('var s="</script>"', 'lib')).toThrow(/<\/script/);
  });

  it('times are UTC', () => {
    expect(formatTime(1795428720)).toBe('2026-11-23 10:12:00');
    expect(formatTime(null)).toBe('');
  });
});

describe('traffic bins', () => {
  it.each([
    { span: 0, width: 60 },
    { span: 3600, width: 60 },
    { span: 6 * 3600, width: 300 },
    { span: 7 * 86_400, width: 3600 },
    { span: 30 * 86_400, width: 3 * 3600 },
    { span: 365 * 86_400, width: 2 * 86_400 },
  ])('a span of $span s takes bins of $width s', ({ span, width }) => {
    expect(binWidth(1_795_428_000, 1_795_428_000 + span)).toBe(width);
  });

  test.prop([fc.integer({ min: 0, max: 2_000_000_000 }), fc.integer({ min: 0, max: 20 * 365 * 86_400 })])(
    'any span fits in the bin limit',
    (first, span) => {
      const width = binWidth(first, first + span);
      const start = first - (first % width);
      expect(Math.floor((first + span - start) / width) + 1).toBeLessThanOrEqual(REPORT_LIMITS.bins);
    },
  );
});
