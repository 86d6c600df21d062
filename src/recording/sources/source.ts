import { InputError } from '../errors.js';

/** Session ids are file names and URL path parts here: letters, digits, `.`, `_`, `-`, no leading dot. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** File endings a stored session may have, in the order they are looked for. */
export const RECORDING_EXTENSIONS = ['.json', '.jsonl', '.json.gz', '.jsonl.gz'] as const;

/** The session is not where the source looks: retrying will not make it appear, so the job fails at once. */
export class RecordingNotFound extends InputError {
  readonly notFound = true;
}

/** Where the worker reads a session's events from; returns the raw bytes for parseRecording. */
export interface RecordingSource {
  readonly description: string;
  load(teamId: number, sessionId: string, signal?: AbortSignal): Promise<Buffer>;
}

export function checkSessionRef(teamId: number, sessionId: string): void {
  if (!Number.isSafeInteger(teamId) || teamId < 1) throw new InputError(`team_id must be a positive integer, got ${teamId}`);
  if (!SESSION_ID_PATTERN.test(sessionId) || sessionId.includes('..')) {
    throw new InputError(`session_id ${JSON.stringify(sessionId)} may hold only letters, digits, '.', '_' and '-'`);
  }
}

export function tooLarge(where: string, bytes: number, maxBytes: number): InputError {
  return new InputError(`recording ${where} is ${bytes} bytes, over the ${maxBytes}-byte limit`);
}
