/**
 * An error in what the user gave us (a file, offsets, options). It carries one line a user can act
 * on; the CLI prints it without a stack and the worker fails the job without retrying it.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(message: string) {
    super(message);
  }
}

export function isInputError(err: unknown): err is InputError {
  return err instanceof InputError;
}
