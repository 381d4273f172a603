export function inlineSchemaKeys(source: string): { code: string; replaced: number };
export const sdkSchemaKeys: import('esbuild').Plugin;
