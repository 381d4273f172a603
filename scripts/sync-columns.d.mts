import type { Column } from '../src/columns.js';
export function loadColumns(): Promise<readonly Column[]>;
export function schemas(
  columns: readonly Column[],
  current: { flow: string; emitted: string },
): { flow: string; emitted: string };
export function glueColumns(columns: readonly Column[], template: string): string;
export function fieldReference(columns: readonly Column[], readme: string): string;
