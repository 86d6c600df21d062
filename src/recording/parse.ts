import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { EventType, isRecord, rrwebEventSchema, type RrwebEvent } from './types.js';

export type RecordingFormat = 'json-array' | 'json-lines' | 'posthog-snapshots' | 'posthog-api-response';

export interface ParsedRecording {
  format: RecordingFormat;
  gzipped: boolean;
  /** Sorted by timestamp (stable: equal timestamps keep file order). */
  events: RrwebEvent[];
}

export interface ParseLimits {
  /** Largest recording we accept once decompressed (PostHog's compressed event payloads included). */
  maxBytes: number;
  /**
   * Deepest nesting of arrays and objects accepted in one event. rrweb writes each DOM level as two
   * (a node and its childNodes), so 2048 is a DOM about 1000 elements deep, twice what Chromium's
   * HTML parser builds. Deeper, each stage breaks in turn (measured): Node's JSON.stringify of the
   * events for the player overflows its stack at about 2000 DOM levels, Blink crashes the renderer
   * process at about 3000, and rrweb's recursive rebuild overflows at about 5000.
   */
  maxDepth?: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxBytes: 512 * 1024 * 1024, maxDepth: 2048 };
const DEFAULT_MAX_DEPTH = 2048;

/** A viewport side larger than this (CSS px) is not a browser window. */
const MAX_VIEWPORT_PX = 100_000;
/** rrweb's MouseInteractions run from MouseUp (0) to TouchCancel (10); its player looks the name up and fails on any other. */
const MAX_MOUSE_INTERACTION = 10;
/** Incremental sources whose `positions` the player reads without checking. */
const POSITION_SOURCES = new Set([1, 6, 12]); // MouseMove, TouchMove, Drag
const ADOPTED_STYLE_SHEET = 15;
const MOUSE_INTERACTION = 2;

/** What one parse may still decompress (the file and its compressed event payloads together). */
interface Budget {
  bytesLeft: number;
  maxDepth: number;
}

export async function readRecordingFile(path: string, limits = DEFAULT_PARSE_LIMITS): Promise<ParsedRecording> {
  await checkRecordingFile(path, limits);
  return parseRecording(await readFile(path), limits);
}

/**
 * What can be told of a recording file without reading it: that it is there, is a file, and is
 * within the byte limit. The CLI asks this before it starts Chromium, so a mistyped path fails at
 * once instead of after a browser's start and close.
 */
export async function checkRecordingFile(path: string, limits = DEFAULT_PARSE_LIMITS): Promise<void> {
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
}

/**
 * Detects the form of a recording (plain or gzip; a JSON array, JSON Lines, or PostHog snapshot
 * lines) and returns its events, validated and sorted.
 */
export function parseRecording(input: Buffer, limits = DEFAULT_PARSE_LIMITS): ParsedRecording {
  // A string longer than V8's limit cannot be made at all; past it the error would not be an InputError.
  const maxBytes = Math.min(limits.maxBytes, bufferConstants.MAX_STRING_LENGTH);
  const gzipped = input.length >= 2 && input[0] === 0x1f && input[1] === 0x8b;
  let raw = input;
  if (gzipped) {
    try {
      raw = gunzipSync(input, { maxOutputLength: maxBytes });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new InputError(`recording is over the ${maxBytes}-byte limit once decompressed`);
      throw new InputError(`recording looks gzip-compressed but does not decompress: ${oneLine((err as Error).message)}`);
    }
  }
  if (raw.length > maxBytes) throw new InputError(`recording is over the ${maxBytes}-byte limit`);
  const budget: Budget = { bytesLeft: maxBytes - raw.length, maxDepth: limits.maxDepth ?? DEFAULT_MAX_DEPTH };
  const text = raw.toString('utf8').replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  if (trimmed.length === 0) throw new InputError('recording is empty');
  // Before JSON.parse: a value nested far enough cannot be rendered, and is cheaper to refuse unparsed.
  // Four levels of slack for the wrappers around an event (the array, a PostHog pair, blob or API answer).
  checkDepth(text, budget.maxDepth, 4, 'recording');

  let format: RecordingFormat;
  let events: RrwebEvent[];
  const whole = trimmed.startsWith('[') || trimmed.startsWith('{') ? tryParseJson(trimmed) : undefined;
  const response = isRecord(whole) ? postHogResponse(whole) : undefined;
  if (Array.isArray(whole) && (whole.length === 0 || !Array.isArray(whole[0]))) {
    format = 'json-array';
    events = whole.map((item, i) => toEvent(item, `event ${i}`, budget));
  } else if (response) {
    format = 'posthog-api-response';
    events = response(budget);
  } else {
    // One value per line: rrweb events, or PostHog's `[windowId, event]` / `{window_id, data}` lines.
    ({ format, events } = parseLines(text, budget));
  }
  if (events.length === 0) throw new InputError('recording holds no rrweb events');
  events = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.timestamp - b.e.timestamp || a.i - b.i).map((x) => x.e);
  checkDomDepth(events, Math.floor(budget.maxDepth / 2));
  return { format, gzipped, events };
}

/**
 * PostHog's snapshot API answers saved to a file, as users hand them to us: the old API's
 * `{"snapshot_data_by_window_id": {"<window>": [events]}}` (also its long-term-storage form, and
 * wrapped in `{"result": ...}`), and `{"snapshots": [...]}` whose items are events carrying a
 * `window_id`, `{window_id, data: [events]}` batches or `[windowId, event]` pairs. A listing of blob
 * sources holds no events: refused by name. Returns undefined for other objects (a one-line JSON
 * Lines file is one event).
 */
function postHogResponse(doc: Record<string, unknown>): ((budget: Budget) => RrwebEvent[]) | undefined {
  const body = isRecord(doc.result) ? doc.result : doc;
  const byWindow = body.snapshot_data_by_window_id;
  if (isRecord(byWindow)) {
    return (budget) =>
      Object.entries(byWindow).flatMap(([windowId, list]) => {
        if (!Array.isArray(list)) throw new InputError(`snapshot_data_by_window_id.${windowId} is not a list of events`);
        return list.map((item, i) => toEvent(item, `snapshot_data_by_window_id.${windowId}[${i}]`, budget, windowId));
      });
  }
  if (Array.isArray(body.snapshots)) {
    const snapshots = body.snapshots;
    return (budget) =>
      snapshots.flatMap((item, i) => {
        const where = `snapshots[${i}]`;
        if (Array.isArray(item)) {
          if (item.length !== 2) throw new InputError(`${where}: expected an rrweb event, a [windowId, event] pair or a {window_id, data} batch`);
          return [toEvent(item[1], where, budget, item[0] == null ? undefined : String(item[0]))];
        }
        const windowId = isRecord(item) ? (item.window_id ?? item.windowId) : undefined;
        const id = windowId == null ? undefined : String(windowId);
        if (isRecord(item) && !('type' in item) && 'data' in item) {
          const data = item.data;
          return Array.isArray(data) ? data.map((e, j) => toEvent(e, `${where}.data[${j}]`, budget, id)) : [toEvent(data, `${where}.data`, budget, id)];
        }
        return [toEvent(item, where, budget, id)];
      });
  }
  if (Array.isArray(body.sources)) {
    throw new InputError(
      'this is a PostHog list of snapshot sources (blob keys), not the snapshots: fetch each source (the snapshots API with source=blob and its blob_key) and save their lines instead',
    );
  }
  return undefined;
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Throws when arrays and objects in `text` nest deeper than `limit` (plus `slack` for wrappers;
 * strings skipped). One pass over the characters; JSON.parse itself would accept any depth.
 */
function checkDepth(text: string, limit: number, slack: number, what: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit + slack) {
        let line = 1;
        for (let j = text.indexOf('\n'); j !== -1 && j < i; j = text.indexOf('\n', j + 1)) line++;
        throw new InputError(
          `${what} nests more than ${limit} levels deep (line ${line}): a DOM over about ${Math.floor(limit / 2)} elements deep cannot be replayed`,
        );
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').slice(0, 300);
}

function parseLines(text: string, budget: Budget): { format: RecordingFormat; events: RrwebEvent[] } {
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
      events.push(toEvent(value[1], where, budget, value[0] === null ? undefined : String(value[0])));
    } else if (isRecord(value) && 'data' in value && Array.isArray(value.data) && !('type' in value)) {
      // PostHog: {"window_id": ..., "data": [events]}
      posthog = true;
      const windowId = value.window_id ?? value.windowId;
      value.data.forEach((item, i) =>
        events.push(toEvent(item, `${where} event ${i}`, budget, windowId == null ? undefined : String(windowId))),
      );
    } else {
      plain = true;
      events.push(toEvent(value, where, budget));
    }
  }
  if (posthog && plain) throw new InputError('recording mixes plain rrweb events with PostHog snapshot lines');
  return { format: posthog ? 'posthog-snapshots' : 'json-lines', events };
}

function toEvent(value: unknown, where: string, budget: Budget, windowId?: string): RrwebEvent {
  const parsed = rrwebEventSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue && issue.path.length ? ` (${issue.path.join('.')})` : '';
    throw new InputError(`not an rrweb event at ${where}${path}: ${oneLine(issue?.message ?? 'invalid')}`);
  }
  const event = decompressPostHogEvent(parsed.data as RrwebEvent, where, budget);
  checkReplayable(event, where);
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
function decompressPostHogEvent(event: RrwebEvent, where: string, budget: Budget): RrwebEvent {
  if (event.cv === undefined) return event;
  const inflate = (s: string): unknown => {
    let text: string;
    try {
      // Bounded: a few kilobytes of gzip can inflate to gigabytes.
      const out = gunzipSync(Buffer.from(s, 'latin1'), { maxOutputLength: Math.max(1, budget.bytesLeft) });
      budget.bytesLeft -= out.length;
      text = out.toString('utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new InputError(`compressed event data at ${where} takes the recording over its size limit once decompressed`);
      }
      throw new InputError(`compressed event data at ${where} does not decompress`);
    }
    checkDepth(text, budget.maxDepth, 0, `compressed event data at ${where}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new InputError(`compressed event data at ${where} is not JSON once decompressed`);
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

/**
 * The shape rrweb's player dereferences without checking (found by fuzzing: each of these made the
 * replay throw mid-render, an error that is the file's fault but looked like a transient one).
 */
function checkReplayable(event: RrwebEvent, where: string): void {
  const bad = (field: string, why: string) => new InputError(`not an rrweb event at ${where} (${field}): ${why}`);
  const data = event.data;
  if (!isRecord(data)) throw bad('data', 'expected an object');
  if (event.type === EventType.FullSnapshot) {
    if (data.node !== undefined) checkSnapshotTree(data.node, bad);
  } else if (event.type === EventType.Meta) {
    for (const side of ['width', 'height'] as const) {
      const v = data[side];
      // Zero or negative is how a hidden window reports itself; the clip planner refuses it if used.
      if (typeof v === 'number' && !(v <= 0 || (v >= 1 && v <= MAX_VIEWPORT_PX))) {
        throw bad(`data.${side}`, `a viewport side must be between 1 and ${MAX_VIEWPORT_PX} px`);
      }
    }
  } else if (event.type === EventType.IncrementalSnapshot) {
    const source = data.source;
    if (typeof source !== 'number') return;
    if (POSITION_SOURCES.has(source)) {
      const positions = data.positions;
      if (!Array.isArray(positions) || positions.length === 0 || !positions.every(isRecord)) {
        throw bad('data.positions', 'expected a non-empty list of pointer positions');
      }
    } else if (source === MOUSE_INTERACTION) {
      const type = data.type;
      if (data.id !== -1 && !(Number.isInteger(type) && (type as number) >= 0 && (type as number) <= MAX_MOUSE_INTERACTION)) {
        throw bad('data.type', `a mouse interaction type is a whole number from 0 to ${MAX_MOUSE_INTERACTION}`);
      }
    } else if (source === ADOPTED_STYLE_SHEET) {
      if (!Array.isArray(data.styleIds)) throw bad('data.styleIds', 'expected a list');
      if (data.styles !== undefined && !Array.isArray(data.styles)) throw bad('data.styles', 'expected a list');
    }
  }
}

/** Elements that can host a shadow root (attachShadow throws on any other, custom elements aside). */
const SHADOW_HOSTS = new Set(['article', 'aside', 'blockquote', 'body', 'div', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'main', 'nav', 'p', 'section', 'span']);
/** A name document.createElement accepts (XML Name, conservatively: no spaces, quotes, = or /). */
const ELEMENT_NAME = /^[A-Za-z_\u00C0-\uFFFF][\w.:\-\u00B7\u00C0-\uFFFF]*$/;
const NodeType = { Document: 0, DocumentType: 1, Element: 2, Text: 3, CDATA: 4, Comment: 5 } as const;

/**
 * A full snapshot's tree as rrweb's rebuild needs it. A later page load is rebuilt inside a forward
 * seek, where any DOM exception (an invalid tag name, a document inside <body>, a shadow root on
 * <img>, a media value out of range, childNodes that are not a list) stops the render; mutations go
 * through a path that catches them. CDATA nodes become text. Iterative: trees are deep.
 */
/**
 * How deep mutations nest the page. Each event is flat (one element per add), but a chain of adds,
 * each inside the last, builds a DOM deeper than Chromium's renderer survives (it crashes, on every
 * attempt). A full snapshot's own depth is bounded by the nesting check above (about 1024 elements),
 * so chains of mutation-added elements are counted on top of it, from 0 at their snapshot parent:
 * at most about 2048 in all, below the ~3000 where Blink's renderer crashes (measured).
 * Node ids are per window (each tab has its own), reset at each full snapshot.
 */
function checkDomDepth(events: RrwebEvent[], maxChain: number): void {
  const windows = new Map<string | undefined, Map<number, number>>();
  const t0 = events[0]!.timestamp;
  for (const e of events) {
    if (e.type === EventType.FullSnapshot) {
      windows.delete(e.windowId);
      continue;
    }
    if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data) || e.data.source !== 0) continue;
    const adds = e.data.adds;
    if (!Array.isArray(adds) || adds.length === 0) continue;
    let depths = windows.get(e.windowId);
    if (!depths) windows.set(e.windowId, (depths = new Map()));
    // Within one mutation, an add may come before its parent's.
    let later: Map<number, number> | undefined;
    const depthOf = (id: number, seen: Set<number>): number => {
      const known = depths.get(id);
      if (known !== undefined) return known;
      later ??= new Map(adds.flatMap((a) => (isRecord(a) && isRecord(a.node) && typeof a.node.id === 'number' && typeof a.parentId === 'number' ? [[a.node.id, a.parentId] as [number, number]] : [])));
      const parent = later.get(id);
      // A node added into itself or a cycle is refused by rrweb: it nests nothing.
      if (parent === undefined || seen.has(id) || seen.size > maxChain) return 0;
      seen.add(id);
      return depthOf(parent, seen) + 1;
    };
    for (const add of adds) {
      if (!isRecord(add) || !isRecord(add.node) || typeof add.node.id !== 'number' || typeof add.parentId !== 'number') continue;
      const parentDepth = depths.get(add.parentId) ?? (later || adds.length > 1 ? depthOf(add.parentId, new Set([add.node.id])) : 0);
      const d = parentDepth + 1;
      depths.set(add.node.id, d);
      const kids = add.node.childNodes;
      if (d > maxChain || (Array.isArray(kids) && kids.length > 0 && !setSubtreeDepths(kids, d, depths, maxChain))) {
        throw new InputError(
          `a mutation at ${((e.timestamp - t0) / 1000).toFixed(2)} s nests elements more than ${maxChain} deep inside the page, which cannot be replayed`,
        );
      }
    }
  }
}

/** Records the depths of serialised children under a node at `depth`; false past maxDepth. */
function setSubtreeDepths(children: unknown[], depth: number, depths: Map<number, number>, maxDepth: number): boolean {
  const stack: [unknown, number][] = children.map((c) => [c, depth + 1]);
  while (stack.length) {
    const [node, d] = stack.pop()!;
    if (!isRecord(node)) continue;
    if (d > maxDepth) return false;
    if (typeof node.id === 'number') depths.set(node.id, d);
    if (Array.isArray(node.childNodes)) for (const c of node.childNodes) stack.push([c, d + 1]);
  }
  return true;
}

function checkSnapshotTree(root: unknown, bad: (field: string, why: string) => InputError): void {
  const stack: { node: unknown; parent: number; parentTag: string }[] = [{ node: root, parent: -1, parentTag: '' }];
  while (stack.length) {
    const { node, parent, parentTag } = stack.pop()!;
    if (!isRecord(node)) throw bad('data.node', 'every DOM node must be an object');
    const at = `data.node, node ${typeof node.id === 'number' ? node.id : '?'}`;
    const type = node.type;
    if (!Number.isInteger(type) || (type as number) < 0 || (type as number) > 5) throw bad(at, 'a DOM node type is 0 to 5');
    if (type === NodeType.Document && parent !== -1 && parentTag !== 'iframe' && parentTag !== 'frame') {
      throw bad(at, 'a document can only be the root or inside a frame');
    }
    if (type === NodeType.DocumentType && parent !== NodeType.Document) throw bad(at, 'a doctype can only be inside a document');
    if (type === NodeType.CDATA) {
      // Inline SVG keeps <![CDATA[...]]> (icon sprites' styles, say) and rrweb records it as a CDATA
      // node, which an HTML document cannot create on replay. Its text is what it shows: keep that.
      node.type = NodeType.Text;
    }
    let tag = '';
    if (type === NodeType.Element) {
      if (typeof node.tagName !== 'string' || !ELEMENT_NAME.test(node.tagName)) throw bad(at, 'not a valid element name');
      tag = node.tagName.toLowerCase();
      if (node.isShadowHost === true && !SHADOW_HOSTS.has(tag) && !tag.includes('-')) throw bad(at, `<${tag}> cannot host a shadow root`);
      if (isRecord(node.attributes)) checkMediaAttributes(node.attributes, at, bad);
    }
    if (type === NodeType.Document || type === NodeType.Element) {
      if (!Array.isArray(node.childNodes)) throw bad(at, 'childNodes must be a list');
      for (const child of node.childNodes) stack.push({ node: child, parent: type as number, parentTag: tag });
    }
  }
}

/** rrweb sets these on the media element as it rebuilds it; out-of-range values throw there. */
function checkMediaAttributes(attributes: Record<string, unknown>, at: string, bad: (field: string, why: string) => InputError): void {
  const rate = attributes.rr_mediaPlaybackRate;
  if (typeof rate === 'number' && !(rate === 0 || (rate >= 0.0625 && rate <= 16))) throw bad(at, 'a media playback rate is 0 or from 0.0625 to 16');
  const volume = attributes.rr_mediaVolume;
  if (typeof volume === 'number' && !(volume >= 0 && volume <= 1)) throw bad(at, 'a media volume is from 0 to 1');
  const time = attributes.rr_mediaCurrentTime;
  if (typeof time === 'number' && !(Number.isFinite(time) && time >= 0)) throw bad(at, 'a media time is a finite number of seconds');
}
