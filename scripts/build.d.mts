export const HANDLER_OPTIONS: {
  entryPoints: string[];
  format: string;
  target: string;
  minify: boolean;
  sourcemap: boolean;
  mainFields: string[];
  outExtension: Record<string, string>;
  banner: { js: string };
};
