import { DEFAULT_PARSE_LIMITS } from '../parse.js';
import { checkSessionRef, recordingNotFound, tooLarge, type RecordingSource } from './source.js';

/**
 * GET `template` with `{team_id}` and `{session_id}` filled in. 404 and 410 mean the session does not
 * exist (no retry); any other failure is the source's trouble and is retried.
 */
export class UrlSource implements RecordingSource {
  readonly description: string;

  constructor(
    private readonly template: string,
    private readonly options: { token?: string; timeoutMs: number; maxBytes?: number },
  ) {
    this.description = `url ${template}`;
  }

  urlFor(teamId: number, sessionId: string): string {
    return this.template
      .replaceAll('{team_id}', encodeURIComponent(String(teamId)))
      .replaceAll('{session_id}', encodeURIComponent(sessionId));
  }

  async load(teamId: number, sessionId: string, signal?: AbortSignal): Promise<Buffer> {
    checkSessionRef(teamId, sessionId);
    const url = this.urlFor(teamId, sessionId);
    const maxBytes = this.options.maxBytes ?? DEFAULT_PARSE_LIMITS.maxBytes;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const res = await fetch(url, {
      headers: this.options.token ? { authorization: `Bearer ${this.options.token}` } : {},
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      redirect: 'follow',
    });
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      throw recordingNotFound(`recording not found: ${redact(url)} answered ${res.status}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`recording source ${redact(url)} answered ${res.status} ${res.statusText}`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body?.cancel();
      throw tooLarge(redact(url), declared, maxBytes);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    // Counted as it arrives: a server may send no length, or lie about it.
    for await (const chunk of res.body ?? []) {
      total += chunk.byteLength;
      if (total > maxBytes) throw tooLarge(redact(url), total, maxBytes);
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  }
}

/** Query strings often carry signatures or keys; logs and job errors get the URL without them. */
function redact(url: string): string {
  const u = new URL(url);
  return u.search ? `${u.origin}${u.pathname}?…` : `${u.origin}${u.pathname}`;
}
