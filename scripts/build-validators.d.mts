export function generateValidators(): Record<string, string>;
