export const HANDLER_OPTIONS: import('esbuild').BuildOptions & {
  entryPoints: string[];
  outExtension: Record<string, string>;
};
/** Where the build writes the peer data, relative to the project root. */
export const PEER_DATA_FILE: string;
export function buildPeerDataFile(): Promise<void>;
