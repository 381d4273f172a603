export function generatedFor(format?: string): Promise<{ name: string; source: string }[]>;
