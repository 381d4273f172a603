// An esbuild plugin that lets the bundler drop the AWS SDK schemas we never use.
//
// Since 3.9xx each @aws-sdk/client-* keeps every operation's shapes in one `dist-es/schemas/schemas_0.js`, as
// top-level array literals whose trait objects use computed keys: `{ [_xN]: "Foo" }` with
// `const _xN = "xmlName"` at the top of the file. esbuild cannot prove a computed key free of side effects, so
// it keeps every shape: 552 KiB of EC2's 3,300 shapes for the five operations we call, which V8 must compile
// eagerly at cold start (it is module top-level code). Writing the key as the string literal the constant
// holds is the same program, and lets tree-shaking keep only the shapes our commands reach.

const SCHEMAS_FILE = /@aws-sdk[\\/]client-[a-z0-9-]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/**
 * `[_x]:` → `"value":` for every module-level `const _x = "value";` (a plain string with no escapes). Names
 * that are not such constants are left alone, so the rewrite can only ever replace a key with its own value.
 */
export function inlineSchemaKeys(source) {
  const strings = new Map();
  for (const match of source.matchAll(/^const (_[A-Za-z0-9_$]*) = ("[^"\\\n]*");$/gm)) {
    strings.set(match[1], match[2]);
  }
  let replaced = 0;
  const code = source.replace(/\[(_[A-Za-z0-9_$]*)\]:/g, (key, name) => {
    const value = strings.get(name);
    if (value === undefined) return key;
    replaced++;
    return `${value}:`;
  });
  return { code, replaced };
}

export const sdkSchemaKeys = {
  name: 'sdk-schema-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMAS_FILE }, async ({ path }) => {
      const { readFile } = await import('node:fs/promises');
      const { code } = inlineSchemaKeys(await readFile(path, 'utf8'));
      return { contents: code, loader: 'js' };
    });
  },
};
