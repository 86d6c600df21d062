import { gunzipSync } from 'node:zlib';
import { readFile, stat } from 'node:fs/promises';
import { InputError } from './errors.js';
import { isRecord, rrwebEventSchema, type RrwebEvent } from './types.js';

export type RecordingFormat = 'json-array' | 'json-lines' | 'posthog-snapshots';

export interface ParsedRecording {
  format: RecordingFormat;
  gzipped: boolean;
  /** Sorted by timestamp (stable: equal timestamps keep file order). */
  events: RrwebEvent[];
}

export interface ParseLimits {
  /** Largest recording we accept once decompressed. */
  maxBytes: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxBytes: 512 * 1024 * 1024 };

export async function readRecordingFile(path: string, limits = DEFAULT_PARSE_LIMITS): Promise<ParsedRecording> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new InputError(`${path} is not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read recording ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (size > limits.maxBytes) throw new InputError(`recording ${path} is ${size} bytes, over the ${limits.maxBytes}-byte limit`);
  return parseRecording(await readFile(path), limits);
}

/**
 * Detects the form of a recording (plain or gzip; a JSON array, JSON Lines, or PostHog snapshot
 * lines) and returns its events, validated and sorted.
 */
export function parseRecording(input: Buffer, limits = DEFAULT_PARSE_LIMITS): ParsedRecording {
  const gzipped = input.length >= 2 && input[0] === 0x1f && input[1] === 0x8b;
  let raw = input;
  if (gzipped) {
    try {
      raw = gunzipSync(input, { maxOutputLength: limits.maxBytes });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new InputError(`recording is over the ${limits.maxBytes}-byte limit once decompressed`);
      throw new InputError(`recording looks gzip-compressed but does not decompress: ${(err as Error).message}`);
    }
  }
  if (raw.length > limits.maxBytes) throw new InputError(`recording is over the ${limits.maxBytes}-byte limit`);
  const text = raw.toString('utf8').replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  if (trimmed.length === 0) throw new InputError('recording is empty');

  let format: RecordingFormat;
  let events: RrwebEvent[];
  const whole = trimmed.startsWith('[') || trimmed.startsWith('{') ? tryParseJson(trimmed) : undefined;
  if (Array.isArray(whole) && (whole.length === 0 || !Array.isArray(whole[0]))) {
    format = 'json-array';
    events = whole.map((item, i) => toEvent(item, `event ${i}`));
  } else {
    // One value per line: rrweb events, or PostHog's `[windowId, event]` / `{window_id, data}` lines.
    ({ format, events } = parseLines(text));
  }
  if (events.length === 0) throw new InputError('recording holds no rrweb events');
  events = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.timestamp - b.e.timestamp || a.i - b.i).map((x) => x.e);
  return { format, gzipped, events };
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseLines(text: string): { format: RecordingFormat; events: RrwebEvent[] } {
  const events: RrwebEvent[] = [];
  let posthog = false;
  let plain = false;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '') continue;
    const where = `line ${n + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InputError(`recording is not JSON, JSON Lines or PostHog snapshot lines: ${where} does not parse as JSON`);
    }
    if (Array.isArray(value)) {
      // PostHog: [windowId, event]
      if (value.length !== 2 || (typeof value[0] !== 'string' && typeof value[0] !== 'number' && value[0] !== null)) {
        throw new InputError(`${where}: expected an rrweb event or a PostHog [windowId, event] pair`);
      }
      posthog = true;
      events.push(toEvent(value[1], where, value[0] === null ? undefined : String(value[0])));
    } else if (isRecord(value) && 'data' in value && Array.isArray(value.data) && !('type' in value)) {
      // PostHog: {"window_id": ..., "data": [events]}
      posthog = true;
      const windowId = value.window_id ?? value.windowId;
      value.data.forEach((item, i) =>
        events.push(toEvent(item, `${where} event ${i}`, windowId == null ? undefined : String(windowId))),
      );
    } else {
      plain = true;
      events.push(toEvent(value, where));
    }
  }
  if (posthog && plain) throw new InputError('recording mixes plain rrweb events with PostHog snapshot lines');
  return { format: posthog ? 'posthog-snapshots' : 'json-lines', events };
}

function toEvent(value: unknown, where: string, windowId?: string): RrwebEvent {
  const parsed = rrwebEventSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue && issue.path.length ? ` (${issue.path.join('.')})` : '';
    throw new InputError(`not an rrweb event at ${where}${path}: ${issue?.message ?? 'invalid'}`);
  }
  const event = decompressPostHogEvent(parsed.data as RrwebEvent, where);
  if (windowId !== undefined) event.windowId = windowId;
  else if (typeof event.windowId !== 'string') delete event.windowId;
  // rrweb's player writes its own `delay` onto events; a stale one from a file would mislead it.
  delete event.delay;
  return event;
}

/**
 * posthog-js may store an event's data (full snapshots) or parts of it (mutation adds/removes/texts/
 * attributes) gzip-compressed as latin1 strings, marked with `cv`. The replayer needs them plain.
 */
function decompressPostHogEvent(event: RrwebEvent, where: string): RrwebEvent {
  if (event.cv === undefined) return event;
  const inflate = (s: string): unknown => {
    try {
      return JSON.parse(gunzipSync(Buffer.from(s, 'latin1')).toString('utf8'));
    } catch {
      throw new InputError(`compressed event data at ${where} does not decompress`);
    }
  };
  const out: RrwebEvent = { ...event };
  delete out.cv;
  if (typeof event.data === 'string') {
    out.data = inflate(event.data);
  } else if (isRecord(event.data)) {
    const data: Record<string, unknown> = { ...event.data };
    for (const key of ['adds', 'removes', 'texts', 'attributes']) {
      const v = data[key];
      if (typeof v === 'string') data[key] = inflate(v);
    }
    out.data = data;
  }
  return out;
}
