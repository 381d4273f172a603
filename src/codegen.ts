/**
 * The one place this project turns generated source into functions (`new Function`): the record reader,
 * the line scanner and the field writer are generated per log format, so that each reads or writes one
 * format in straight-line code with one object shape; the detector's per-flow dispatch is generated per
 * rule table, so that each rule is called from a call site of its own.
 *
 * Why this is safe from injection: generated source is built only from
 * - field keys, which `parseFormat` admits only as `${name}` tokens matching `[a-z][a-z0-9]*(-[a-z0-9]+)*`
 *   (so keys are `[a-z0-9_]`), and which are written into the source through `JSON.stringify`;
 * - numbers: field positions, integer bounds read off the project's own schemas, byte values of constants
 *   (`storeConstant` emits numeric stores, never the text), and rules' indexes and bits (the rule functions
 *   themselves are passed as arguments, never written into the source);
 * - fixed code written in this repository.
 * No value from a flow-log line, a record, an event or an environment variable other than the format's
 * field names ever reaches the source. `assertSafeKey` checks the first rule again where keys are embedded.
 */

export interface GeneratedSource {
  readonly name: string;
  readonly source: string;
}

// The latest source of each generated function, by name: `npm run print-generated` reads them. Few names
// (three generators × the formats configured), so no bound is needed beyond replacing by name.
const sources = new Map<string, string>();

/**
 * Compiles a generated function body. The source carries a `sourceURL`, so stack traces and profiles name
 * it (`flowlog-enrich/generated/<name>.js`) and a debugger can show it.
 */
export function compile<T>(
  name: string,
  parameters: readonly string[],
  body: string,
  args: readonly unknown[],
): T {
  const source = `${body}\n//# sourceURL=flowlog-enrich/generated/${name}.js`;
  sources.set(name, source);
  return new Function(...parameters, source)(...args) as T;
}

/** Every function generated so far in this process, with its source. */
export function generatedSources(): GeneratedSource[] {
  return [...sources].map(([name, source]) => ({ name, source }));
}

/** A field key as generated code may embed it. */
export function assertSafeKey(key: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(key))
    throw new Error(`refusing to generate code for field key ${JSON.stringify(key)}`);
  return key;
}

/** A short, stable name for one format's generated functions. */
export function formatTag(keys: readonly string[]): string {
  let hash = 0;
  for (const key of keys)
    for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0;
  return `${keys.length}-fields-${(hash >>> 0).toString(16)}`;
}
