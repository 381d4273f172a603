export function findBlocks(
  readme: string,
): { start: number; end: number; commands: string[]; limit: number | undefined }[];
export function mask(text: string): string;
export function regenerate(readme: string, cli?: string): string;
