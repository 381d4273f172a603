export function namedQueriesYaml(): string;
export function syncedTemplate(template: string): string;
