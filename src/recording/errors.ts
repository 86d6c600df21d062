/**
 * An error in what the user gave us (a file, offsets, options). It carries one line a user can act
 * on; the CLI prints it without a stack and the worker fails the job without retrying it.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  /** A stable name for the kind of error where one helps a caller ("over_budget"). */
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export function isInputError(err: unknown): err is InputError {
  return err instanceof InputError;
}
