import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { HANDLER_OPTIONS } from '../../scripts/build.mjs';
import { inlineSchemaKeys } from '../../scripts/sdk-schema-keys.mjs';

describe('inlineSchemaKeys', () => {
  it.each([
    {
      name: 'a computed key naming a string constant becomes that string',
      source: 'const _xN = "xmlName";\nexport var A$ = [3, n0, _A, 0, [_B], [[0, { [_xN]: `B` }]]];\n',
      code: 'const _xN = "xmlName";\nexport var A$ = [3, n0, _A, 0, [_B], [[0, { "xmlName": `B` }]]];\n',
      replaced: 1,
    },
    {
      name: 'a key that is not a module-level string constant stays computed',
      source: 'const _n = 5;\nlet _s = "x";\nexport var A$ = { [_n]: 1, [_s]: 2, [_other]: 3 };\n',
      code: 'const _n = 5;\nlet _s = "x";\nexport var A$ = { [_n]: 1, [_s]: 2, [_other]: 3 };\n',
      replaced: 0,
    },
    {
      name: 'a constant with an escape is left alone rather than re-quoted',
      source: 'const _q = "a\\"b";\nexport var A$ = { [_q]: 1 };\n',
      code: 'const _q = "a\\"b";\nexport var A$ = { [_q]: 1 };\n',
      replaced: 0,
    },
  ])('$name', ({ source, code, replaced }) => {
    expect(inlineSchemaKeys(source)).toStrictEqual({ code, replaced });
  });

  it('leaves the EC2 client schema file the same program: every object literal equal, key by key', () => {
    // Prepare: the real file, evaluated before and after with its imports stubbed.
    const require = createRequire(import.meta.url);
    const file = join(
      dirname(require.resolve('@aws-sdk/client-ec2/package.json')),
      'dist-es/schemas/schemas_0.js',
    );
    const source = readFileSync(file, 'utf8');
    // Every exported schema, with its references (`() => Other$`) written as the name they lead to.
    const evaluate = (code: string): string => {
      const names = [...code.matchAll(/^export (?:var|const) ([A-Za-z0-9_$]+)/gm)].map((m) => m[1] as string);
      const body = code
        .replace(/^import .*$/gm, '')
        .replace(/^export (var|const) /gm, '$1 ')
        .concat(`\nreturn [${names.join(', ')}];`);
      class TypeRegistry {
        registerError() {}
      }
      const values = new Function('TypeRegistry', 'EC2ServiceException', body)(
        TypeRegistry,
        class {},
      ) as unknown[];
      const nameOf = new Map(values.map((value, i) => [value, names[i]]));
      return JSON.stringify(values, (_key, value: unknown) =>
        typeof value === 'function' ? `-> ${nameOf.get((value as () => unknown)()) ?? '?'}` : value,
      );
    };

    // Act
    const { code, replaced } = inlineSchemaKeys(source);

    // Assess
    expect(replaced).toBeGreaterThan(10_000);
    expect(code).not.toMatch(/\[_[A-Za-z0-9_$]*\]:/);
    const after = evaluate(code);
    expect(after).toContain('"xmlName"');
    expect(after).toBe(evaluate(source));
  });

  it('keeps the Lambda bundle free of the EC2 operations it never calls', async () => {
    // Act
    const result = await build({
      ...HANDLER_OPTIONS,
      write: false,
      sourcemap: false,
      outdir: 'out',
      logLevel: 'silent',
    });
    const bundle = result.outputFiles?.find((f) => f.path.endsWith('.mjs'))?.text ?? '';

    // Assess: the shapes of the calls we make are in; one we never make is not.
    expect(bundle).toContain('DescribeNetworkInterfacesRequest');
    expect(bundle).not.toContain('AcceptAddressTransferRequest');
    expect(bundle.length).toBeLessThan(1_000_000);
    // Credentials come from the environment in Lambda: none of the rest of the SDK's chain is in.
    expect(bundle).toContain('AWS_SECRET_ACCESS_KEY');
    expect(bundle).not.toMatch(/child_process|fromSSO|credential_process/);
  });
});
