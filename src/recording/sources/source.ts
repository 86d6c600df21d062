import { RasterizerError } from '../../errors.js';
import { field } from '../../request/fields.js';
import { parseRequest } from '../../request/parse.js';

export { SESSION_ID_PATTERN } from '../../request/fields.js';

/** File endings a stored session may have, in the order they are looked for. */
export const RECORDING_EXTENSIONS = ['.json', '.jsonl', '.json.gz', '.jsonl.gz'] as const;

/** The session is not where the source looks: retrying will not make it appear, so the job fails at once. */
export function recordingNotFound(message: string): RasterizerError {
  return new RasterizerError('recording_not_found', message);
}

/** Where the worker reads a session's events from; returns the raw bytes for parseRecording. */
export interface RecordingSource {
  readonly description: string;
  load(teamId: number, sessionId: string, signal?: AbortSignal): Promise<Buffer>;
}

/**
 * Sources build paths and URLs from these: checked again here, with the request module's own
 * schemas, so that no caller of a source can reach outside its directory or prefix.
 */
export function checkSessionRef(teamId: number, sessionId: string): void {
  parseRequest(field.teamId, teamId);
  parseRequest(field.sessionId, sessionId);
}

export function tooLarge(where: string, bytes: number, maxBytes: number): RasterizerError {
  return new RasterizerError('invalid_recording', `recording ${where} is ${bytes} bytes, over the ${maxBytes}-byte limit`);
}
