export interface BacklogResult { checks: { name: string; ok: boolean }[] }
export const backlogDefaults = { messages: 1_000_000 };
export function backlogSection(_r: BacklogResult): string { return ''; }
export async function runBacklog(_s: unknown): Promise<BacklogResult> { return { checks: [] }; }
export async function writeBacklogSection(_r: BacklogResult): Promise<void> {}
