/** Bad input from the user: one line on stderr, exit status 2. */
export class UsageError extends Error {}

/** The run failed (VM, agent, scenario, fetch): one line on stderr, exit status 1. */
export class LabError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
