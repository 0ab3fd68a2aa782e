/**
 * A problem the user can fix (bad flag, missing path, foreign file, wrong config):
 * the CLI prints its message on one line and exits with code 2.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** A run that finished but broke a guarantee (accounting, failed tasks): exit code 1. */
export class RunError extends Error {
  override readonly name = 'RunError';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
