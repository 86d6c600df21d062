import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_PARSE_LIMITS } from '../parse.js';
import { RECORDING_EXTENSIONS, checkSessionRef, recordingNotFound, tooLarge, type RecordingSource } from './source.js';

/** `<dir>/<team_id>/<session_id>.{json,jsonl,json.gz,jsonl.gz}`. */
export class DirectorySource implements RecordingSource {
  readonly description: string;

  constructor(
    private readonly dir: string,
    private readonly maxBytes = DEFAULT_PARSE_LIMITS.maxBytes,
  ) {
    this.description = `directory ${dir}`;
  }

  async load(teamId: number, sessionId: string): Promise<Buffer> {
    checkSessionRef(teamId, sessionId);
    for (const ext of RECORDING_EXTENSIONS) {
      const path = join(this.dir, String(teamId), `${sessionId}${ext}`);
      let size: number;
      try {
        const st = await stat(path);
        if (!st.isFile()) continue;
        size = st.size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
        throw err;
      }
      if (size > this.maxBytes) throw tooLarge(path, size, this.maxBytes);
      return readFile(path);
    }
    throw recordingNotFound(`recording not found: no ${teamId}/${sessionId}{${RECORDING_EXTENSIONS.join(',')}} in ${this.dir}`);
  }
}
