import { gzipSync } from 'node:zlib';

/**
 * A corpus of malformed and hostile recordings derived from one real rrweb recording, for the
 * engine's fuzz tests and (later) the service's reliability tests, which push the same files
 * through the HTTP endpoint and the worker. Every case is deterministic (seeded) and built lazily:
 * a few are large.
 *
 * What a correct engine does with each: a clean InputError (one line a user can act on) or a
 * successful render; never an uncaught exception, a hang, a crash or an unbounded memory spike.
 *
 *   const corpus = malformedCorpus(await loadFuzzBase());   // loadFuzzBase: ./fuzz-run.ts
 *   for (const c of corpus) post(c.bytes(), { start: c.startS, end: c.endS });
 *
 * `expect` says which outcomes are right for a case; `browser` marks the ones that get past the
 * parser and planner and must be rendered; `large` marks the ones of tens of MB and more.
 */

export type Expectation = 'input-error' | 'render' | 'either';

export interface MalformedCase {
  /** Unique and stable, e.g. `truncate/json-lines/@1234`. */
  name: string;
  /** The family it belongs to (truncate, retype, structure, dom, size, ...). */
  kind: string;
  bytes: () => Buffer;
  /** What a correct engine must do; 'either' when both outcomes are fine. */
  expect: Expectation;
  /**
   * It reaches the browser when parsing and planning accept it (deep DOM, bursts, odd events):
   * it must be rendered for real, under a time bound. Other accepted cases are rendered by sample.
   */
  browser: boolean;
  /** The window to render, in seconds from the first event (default: the whole recording). */
  startS?: number;
  endS?: number;
  /** Large cases (tens of MB and up): the test measures their time and memory. */
  large?: boolean;
}

export interface RawEvent {
  type: unknown;
  timestamp: unknown;
  data?: unknown;
  [key: string]: unknown;
}

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clone = <T>(v: T): T => structuredClone(v);

// --- the forms a recording comes in ---------------------------------------------------------

export const forms = {
  jsonArray: (events: unknown[]) => Buffer.from(JSON.stringify(events)),
  jsonLines: (events: unknown[]) => Buffer.from(events.map((e) => JSON.stringify(e)).join('\n') + '\n'),
  posthogPairs: (events: unknown[], windowId: unknown = 'w1') => Buffer.from(events.map((e) => JSON.stringify([windowId, e])).join('\n') + '\n'),
  posthogBlobs: (events: unknown[], windowId: unknown = 'w1') => Buffer.from(JSON.stringify({ window_id: windowId, data: events }) + '\n'),
  gzip: (b: Buffer) => gzipSync(b),
};

/** JSON with some values spelled raw (1e309, NaN-like text), which JSON.stringify cannot write. */
function withRaw(events: unknown[], raw: Record<string, string>, form: (e: unknown[]) => Buffer = forms.jsonArray): Buffer {
  let text = form(events).toString('utf8');
  for (const [marker, value] of Object.entries(raw)) text = text.split(JSON.stringify(marker)).join(value);
  return Buffer.from(text);
}

// --- reading the base recording --------------------------------------------------------------

interface SNode {
  type: number;
  id: number;
  tagName?: string;
  attributes?: Record<string, unknown>;
  childNodes?: SNode[];
  textContent?: string;
  [key: string]: unknown;
}

function firstIndex(events: RawEvent[], type: number): number {
  const i = events.findIndex((e) => e.type === type);
  if (i < 0) throw new Error(`the base recording has no event of type ${type}`);
  return i;
}

function findTag(root: SNode, tag: string): SNode | undefined {
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.tagName === tag) return n;
    for (const c of n.childNodes ?? []) stack.push(c);
  }
  return undefined;
}

function maxId(events: RawEvent[]): number {
  let max = 0;
  const visit = (root: SNode) => {
    const stack = [root];
    while (stack.length) {
      const n = stack.pop()!;
      if (typeof n.id === 'number') max = Math.max(max, n.id);
      for (const c of n.childNodes ?? []) stack.push(c);
    }
  };
  for (const e of events) {
    const d = e.data as { node?: SNode; adds?: { node: SNode }[] } | undefined;
    if (e.type === 2 && d?.node) visit(d.node);
    if (e.type === 3 && Array.isArray(d?.adds)) for (const a of d.adds) visit(a.node);
  }
  return max;
}

function ts(e: RawEvent): number {
  return e.timestamp as number;
}

/** The base recording's landmarks, computed once. */
function landmarks(base: RawEvent[]) {
  const meta = firstIndex(base, 4);
  const snap = firstIndex(base, 2);
  const lastSnap = base.map((e) => e.type).lastIndexOf(2);
  const snapshot = base[snap]!;
  const root = (snapshot.data as { node: SNode }).node;
  const body = findTag(root, 'body');
  if (!body) throw new Error('the base recording has no <body>');
  const incr = base.map((e, i) => (e.type === 3 ? i : -1)).filter((i) => i >= 0);
  if (incr.length === 0) throw new Error('the base recording has no incremental events');
  const t0 = ts(base[0]!);
  const t1 = ts(base[base.length - 1]!);
  if (t1 - t0 < 2000) throw new Error('the base recording must last at least 2 s');
  if (!findTag((base[lastSnap]!.data as { node: SNode }).node, 'body')) throw new Error('the last full snapshot has no <body>');
  return { meta, snap, lastSnap, bodyId: body.id, incr, t0, t1, nextId: maxId(base) + 1, snapTs: ts(snapshot) };
}

// --- the corpus --------------------------------------------------------------------------------

export interface CorpusOptions {
  seed?: number;
  /** Random truncation offsets per form. */
  truncations?: number;
  /** Random single-byte corruptions. */
  flips?: number;
  /** Random junk values put into incremental events' data fields. */
  fieldFuzz?: number;
  /** Include the ~100 MB cases. */
  large?: boolean;
}

/**
 * At least 500 cases by default. `base` must be a real recording (one Meta, a full snapshot with
 * a <body>, incremental events, at least 2 s long), as rrweb's recorder wrote it.
 */
export function malformedCorpus(baseEvents: readonly unknown[], opts: CorpusOptions = {}): MalformedCase[] {
  const base = clone(baseEvents) as RawEvent[];
  const L = landmarks(base);
  const rand = prng(opts.seed ?? 20240611);
  const cases: MalformedCase[] = [];
  const add = (c: MalformedCase) => {
    if (cases.some((x) => x.name === c.name)) throw new Error(`duplicate case ${c.name}`);
    cases.push(c);
  };
  const fixed = (name: string, kind: string, build: () => Buffer, expect: Expectation, extra: Partial<MalformedCase> = {}) =>
    add({ name, kind, bytes: build, expect, browser: false, ...extra });
  const edited = (name: string, kind: string, edit: (events: RawEvent[]) => unknown[], expect: Expectation, extra: Partial<MalformedCase> = {}) =>
    add({ name, kind, bytes: () => forms.jsonArray(edit(clone(base))), expect, browser: false, ...extra });
  const ids = (() => {
    let next = L.nextId;
    return () => next++;
  })();
  const withEvent = (events: RawEvent[], e: RawEvent) => [...events, e].sort((a, b) => ts(a) - ts(b));
  const mid = L.snapTs + 400;
  const mutation = (adds: unknown[], extra: Record<string, unknown> = {}): RawEvent => ({
    type: 3,
    timestamp: mid,
    data: { source: 0, texts: [], attributes: [], removes: [], adds, ...extra },
  });

  // 1. Not a recording at all.
  const junk = (n: number, seed: number) => {
    const r = prng(seed);
    return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  };
  const formatCases: [string, () => Buffer][] = [
    ['empty', () => Buffer.alloc(0)],
    ['whitespace', () => Buffer.from(' \n\t\r\n  ')],
    ['bom-only', () => Buffer.from('\uFEFF')],
    ['null', () => Buffer.from('null')],
    ['true', () => Buffer.from('true')],
    ['number', () => Buffer.from('42')],
    ['string', () => Buffer.from('"rrweb"')],
    ['empty-object', () => Buffer.from('{}')],
    ['empty-array', () => Buffer.from('[]')],
    ['array-of-empty-array', () => Buffer.from('[[]]')],
    ['array-of-null', () => Buffer.from('[null]')],
    ['array-of-numbers', () => Buffer.from('[1,2,3]')],
    ['object-not-event', () => Buffer.from('{"hello":"world"}\n{"a":1}\n')],
    ['lines-of-arrays', () => Buffer.from('[1,2,3]\n[4,5,6]\n')],
    ['event-without-timestamp', () => Buffer.from('[{"type":2,"data":{}}]')],
    ['html', () => Buffer.from('<!doctype html><html><body>not a recording</body></html>')],
    ['csv', () => Buffer.from('type,timestamp,data\n2,1,{}\n')],
    ['nested-1e6-arrays', () => Buffer.from('['.repeat(1_000_000) + ']'.repeat(1_000_000))],
    ['nested-1e5-objects', () => Buffer.from('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000))],
    ['utf16-json', () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(base), 'utf16le')])],
    ['json-then-garbage', () => Buffer.concat([forms.jsonArray(base), Buffer.from('\u0000\u0001garbage')])],
    ['nul-bytes', () => Buffer.alloc(4096, 0)],
    ['lone-surrogates', () => Buffer.from('[{"type":4,"timestamp":1,"data":{"href":"\\ud800","width":10,"height":10}}]')],
    ['gzip-magic-then-junk', () => Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), junk(2000, 7)])],
    ['gzip-of-junk', () => forms.gzip(junk(5000, 8))],
    ['gzip-of-empty', () => forms.gzip(Buffer.alloc(0))],
    ['gzip-twice', () => forms.gzip(forms.gzip(forms.jsonArray(base)))],
    ['gzip-with-trailing-junk', () => Buffer.concat([forms.gzip(forms.jsonLines(base)), junk(100, 9)])],
    ['crlf-json-lines', () => Buffer.from(forms.jsonLines(base).toString().replace(/\n/g, '\r\n'))],
    ['blank-lines-between', () => Buffer.from(forms.jsonLines(base).toString().replace(/\n/g, '\n\n  \n'))],
    ['one-bad-line-in-middle', () => {
      const lines = forms.jsonLines(base).toString().split('\n');
      lines.splice(Math.floor(lines.length / 2), 0, '{"type":3,"timestamp":');
      return Buffer.from(lines.join('\n'));
    }],
    ['mixed-plain-and-posthog', () => Buffer.concat([forms.jsonLines(base.slice(0, 3)), forms.posthogPairs(base.slice(3))])],
  ];
  for (const [name, build] of formatCases) fixed(`format/${name}`, 'format', build, 'either');
  for (let s = 0; s < 10; s++) fixed(`format/binary-garbage-${s}`, 'format', () => junk(1000 + s * 997, 100 + s), 'input-error');

  // 2. Truncated at random byte offsets, in every form.
  const truncForms: [string, () => Buffer][] = [
    ['json-array', () => forms.jsonArray(base)],
    ['json-lines', () => forms.jsonLines(base)],
    ['posthog-pairs', () => forms.posthogPairs(base)],
    ['posthog-blobs', () => forms.posthogBlobs(base)],
  ];
  const nTrunc = opts.truncations ?? 55;
  for (const [form, build] of truncForms) {
    const full = build();
    const offsets = new Set<number>();
    while (offsets.size < nTrunc) offsets.add(1 + Math.floor(rand() * (full.length - 1)));
    for (const at of offsets) fixed(`truncate/${form}/@${at}`, 'truncate', () => build().subarray(0, at), 'either');
  }
  {
    const gz = forms.gzip(forms.jsonLines(base));
    const offsets = new Set<number>();
    while (offsets.size < 20) offsets.add(1 + Math.floor(rand() * (gz.length - 1)));
    for (const at of offsets) fixed(`truncate/gzip/@${at}`, 'truncate', () => forms.gzip(forms.jsonLines(base)).subarray(0, at), 'input-error');
  }

  // 3. Single bytes corrupted.
  {
    const text = forms.jsonLines(base);
    const alphabet = '{}[]",:0123456789-.eE \n\\tnulfase\u0000\u00ff';
    for (let i = 0; i < (opts.flips ?? 60); i++) {
      const at = Math.floor(rand() * text.length);
      const ch = alphabet[Math.floor(rand() * alphabet.length)]!;
      fixed(`flip/@${at}=${JSON.stringify(ch)}`, 'flip', () => {
        const b = Buffer.from(forms.jsonLines(base));
        b[at] = ch.charCodeAt(0) & 0xff;
        return b;
      }, 'either');
    }
  }

  // 4. Fields of the wrong type, on the Meta, the full snapshot and an incremental event.
  const targets: [string, number][] = [
    ['meta', L.meta],
    ['snapshot', L.snap],
    ['incremental', L.incr[Math.floor(L.incr.length / 2)]!],
  ];
  const badTypes: Record<string, string> = {
    string: '"2"', null: 'null', float: '2.5', negative: '-1', seven: '7', bool: 'true', array: '[]', object: '{}', infinity: '1e309', huge: '1e300',
  };
  const badTimestamps: Record<string, string> = {
    string: '"1700000000000"', null: 'null', negative: '-5', infinity: '1e309', nan_text: '"NaN"', array: '[]', object: '{}', bool: 'true',
  };
  const badData: Record<string, string> = {
    null: 'null', string: '"x"', number: '5', array: '[]', empty: '{}', bool: 'false', infinity: '1e309', nested_arrays: '[[[[[[[[[[]]]]]]]]]]',
  };
  for (const [where, idx] of targets) {
    const retype = (field: string, label: string, raw: string, expect: Expectation, browser: boolean) =>
      add({
        name: `retype/${where}.${field}=${label}`,
        kind: 'retype',
        bytes: () => {
          const ev = clone(base);
          ev[idx]![field] = '__RAW__';
          return withRaw(ev, { __RAW__: raw });
        },
        expect,
        browser,
      });
    for (const [label, raw] of Object.entries(badTypes)) retype('type', label, raw, 'input-error', false);
    for (const [label, raw] of Object.entries(badTimestamps)) retype('timestamp', label, raw, 'input-error', false);
    for (const [label, raw] of Object.entries(badData)) retype('data', label, raw, 'either', true);
    for (const field of ['type', 'timestamp'] as const) {
      edited(`retype/${where}.${field}=missing`, 'retype', (ev) => {
        delete ev[idx]![field];
        return ev;
      }, 'input-error');
    }
    edited(`retype/${where}.data=missing`, 'retype', (ev) => {
      delete ev[idx]!.data;
      return ev;
    }, 'either', { browser: true });
  }
  // Fields inside data the player reads.
  const dataEdits: [string, (ev: RawEvent[]) => void][] = [
    ['meta.width=0', (ev) => ((ev[L.meta]!.data as Record<string, unknown>).width = 0)],
    ['meta.width=string', (ev) => ((ev[L.meta]!.data as Record<string, unknown>).width = '1280')],
    ['meta.height=negative', (ev) => ((ev[L.meta]!.data as Record<string, unknown>).height = -800)],
    ['meta.width=1e9', (ev) => ((ev[L.meta]!.data as Record<string, unknown>).width = 1e9)],
    ['meta.height=1e9', (ev) => ((ev[L.meta]!.data as Record<string, unknown>).height = 1e9)],
    ['meta.width=1e-9', (ev) => ((ev[L.meta]!.data as Record<string, unknown>).width = 1e-9)],
    ['meta.tall-100000', (ev) => Object.assign(ev[L.meta]!.data as object, { width: 1, height: 100000 })],
    ['meta.tall-320x100000', (ev) => Object.assign(ev[L.meta]!.data as object, { width: 320, height: 100000 })],
    ['meta.wide-100000', (ev) => Object.assign(ev[L.meta]!.data as object, { width: 100000, height: 1 })],
    ['meta.href=object', (ev) => ((ev[L.meta]!.data as Record<string, unknown>).href = { toString: 'x' })],
    ['meta.href=javascript', (ev) => ((ev[L.meta]!.data as Record<string, unknown>).href = 'javascript:alert(1)')],
    ['meta.href=1MB', (ev) => ((ev[L.meta]!.data as Record<string, unknown>).href = 'x'.repeat(1 << 20))],
    ['snapshot.node=null', (ev) => ((ev[L.snap]!.data as Record<string, unknown>).node = null)],
    ['snapshot.node=string', (ev) => ((ev[L.snap]!.data as Record<string, unknown>).node = '<html>')],
    ['snapshot.node.childNodes=null', (ev) => (((ev[L.snap]!.data as { node: SNode }).node as Record<string, unknown>).childNodes = null)],
    ['snapshot.node.type=element', (ev) => ((ev[L.snap]!.data as { node: SNode }).node.type = 2)],
    ['snapshot.initialOffset=string', (ev) => ((ev[L.snap]!.data as Record<string, unknown>).initialOffset = 'top')],
    ['snapshot.initialOffset.top=1e308', (ev) => ((ev[L.snap]!.data as Record<string, unknown>).initialOffset = { left: -1e308, top: 1e308 })],
    ['incremental.source=99', (ev) => ((ev[L.incr[0]!]!.data as Record<string, unknown>).source = 99)],
    ['incremental.source=string', (ev) => ((ev[L.incr[0]!]!.data as Record<string, unknown>).source = '0')],
    ['incremental.positions=string', (ev) => ((ev[L.incr[0]!]!.data as Record<string, unknown>).positions = 'x')],
  ];
  for (const [label, edit] of dataEdits) {
    edited(`data/${label}`, 'data', (ev) => {
      edit(ev);
      return ev;
    }, 'either', { browser: true });
  }

  // Random fields inside incremental events' data replaced by junk (finds the replayer's blind spots).
  {
    const junkValues: unknown[] = [null, '', 'x', -1, 0, 1e308, -1e308, [], {}, [null], { id: null }, true];
    const paths = (v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) => {
      if (prefix.length > 4) return out;
      if (Array.isArray(v)) v.slice(0, 3).forEach((x, i) => (out.push([...prefix, i]), paths(x, [...prefix, i], out)));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([...prefix, k]), paths(x, [...prefix, k], out);
      return out;
    };
    for (let n = 0; n < (opts.fieldFuzz ?? 60); n++) {
      const idx = L.incr[Math.floor(rand() * L.incr.length)]!;
      const all = paths(base[idx]!.data).filter((p) => p.length > 0);
      if (all.length === 0) continue;
      const path = all[Math.floor(rand() * all.length)]!;
      const value = junkValues[Math.floor(rand() * junkValues.length)];
      const name = `field/${idx}.${path.join('.')}=${JSON.stringify(value)}`;
      if (cases.some((c) => c.name === name)) continue;
      edited(name, 'field', (ev) => {
        let o = ev[idx]!.data as Record<string | number, unknown>;
        for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
        o[path[path.length - 1]!] = clone(value);
        return ev;
      }, 'either', { browser: true });
    }
  }

  // 5. Structure: missing parts, order, time.
  edited('structure/no-full-snapshot', 'structure', (ev) => ev.filter((e) => e.type !== 2), 'input-error');
  edited('structure/no-meta', 'structure', (ev) => ev.filter((e) => e.type !== 4), 'input-error');
  edited('structure/only-meta', 'structure', (ev) => ev.filter((e) => e.type === 4), 'input-error');
  edited('structure/only-snapshot', 'structure', (ev) => ev.filter((e) => e.type === 2), 'input-error');
  edited('structure/one-event', 'structure', (ev) => ev.slice(0, 1), 'input-error');
  edited('structure/snapshot-before-meta', 'structure', (ev) => {
    ev[L.snap]!.timestamp = ts(ev[L.meta]!) - 1;
    return ev;
  }, 'either', { browser: true });
  edited('structure/reversed', 'structure', (ev) => ev.reverse(), 'render', { browser: true });
  edited('structure/shuffled', 'structure', (ev) => {
    const r = prng(5);
    for (let i = ev.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [ev[i], ev[j]] = [ev[j]!, ev[i]!];
    }
    return ev;
  }, 'render', { browser: true });
  edited('structure/incrementals-before-snapshot', 'structure', (ev) => {
    // Mutations and scrolls stamped before the page they act on (clock skew between tabs).
    for (const i of L.incr.slice(0, 5)) ev[i]!.timestamp = ts(ev[L.snap]!) - 500 + i;
    return ev;
  }, 'either', { browser: true });
  // The first full snapshot comes a moment after the first events; a window ending in that moment.
  edited('structure/window-ends-before-first-snapshot', 'structure', (ev) => ev, 'either', { browser: true, startS: 0, endS: Math.max(0.05, (L.snapTs - L.t0) / 1000 - 0.1) });
  edited('structure/all-same-timestamp', 'structure', (ev) => ev.map((e) => ({ ...e, timestamp: L.t0 })), 'input-error');
  edited('structure/duplicated-events', 'structure', (ev) => [...ev, ...clone(ev)], 'render', { browser: true });
  edited('structure/two-full-snapshots-same-time', 'structure', (ev) => withEvent(ev, clone(ev[L.snap]!)), 'render', { browser: true });
  edited('structure/far-future-last-event', 'structure', (ev) => withEvent(ev, { type: 5, timestamp: L.t1 + 1e12, data: { tag: 'x', payload: null } }), 'input-error');
  edited('structure/far-future-last-event-short-window', 'structure', (ev) => withEvent(ev, { type: 3, timestamp: L.t1 + 1e12, data: { source: 1, positions: [{ x: 1, y: 1, id: L.bodyId, timeOffset: 0 }] } }), 'render', { browser: true, startS: 0, endS: 2 });
  edited('structure/far-future-end-window', 'structure', (ev) => withEvent(ev, { type: 3, timestamp: L.t1 + 1e12, data: { source: 1, positions: [{ x: 1, y: 1, id: L.bodyId, timeOffset: 0 }] } }), 'either', { browser: true, startS: (L.t1 + 1e12 - L.t0) / 1000 - 2 });
  edited('structure/timestamps-1e300', 'structure', (ev) => ev.map((e) => ({ ...e, timestamp: 1e300 + (ts(e) - L.t0) * 1e285 })), 'either', { browser: true });
  edited('structure/timestamps-max-safe', 'structure', (ev) => ev.map((e) => ({ ...e, timestamp: Number.MAX_SAFE_INTEGER - (L.t1 - ts(e)) })), 'either', { browser: true });
  edited('structure/timestamps-zero-based', 'structure', (ev) => ev.map((e) => ({ ...e, timestamp: ts(e) - L.t0 })), 'render', { browser: true });
  edited('structure/timestamps-fractional', 'structure', (ev) => ev.map((e, i) => ({ ...e, timestamp: ts(e) + i / 7 })), 'render', { browser: true });
  edited('structure/mouse-offsets-huge', 'structure', (ev) => {
    for (const e of ev) {
      const d = e.data as { positions?: { timeOffset: number }[] };
      if (Array.isArray(d?.positions)) for (const p of d.positions) p.timeOffset = -1e15;
    }
    return ev;
  }, 'either', { browser: true });
  edited('structure/stale-delay-fields', 'structure', (ev) => ev.map((e) => ({ ...e, delay: -1e9 })), 'render', { browser: true });
  edited('structure/proto-keys', 'structure', (ev) => ev.map((e) => JSON.parse(JSON.stringify(e).replace(/^\{/, '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},')) as RawEvent), 'render', { browser: true });

  // PostHog forms: window ids.
  const ph = (name: string, build: () => Buffer, expect: Expectation, browser = false) => fixed(`posthog/${name}`, 'posthog', build, expect, { browser });
  ph('window-id-number', () => forms.posthogPairs(base, 7), 'render', true);
  ph('window-id-null', () => forms.posthogPairs(base, null), 'render', true);
  ph('window-id-object', () => forms.posthogPairs(base, { id: 1 }), 'input-error');
  ph('window-id-array', () => forms.posthogPairs(base, [1, 2]), 'input-error');
  ph('window-id-bool', () => forms.posthogPairs(base, true), 'input-error');
  ph('window-id-proto', () => forms.posthogPairs(base, '__proto__'), 'render', true);
  ph('window-id-1MB', () => forms.posthogPairs(base, 'w'.repeat(1 << 20)), 'either', true);
  ph('blob-window-id-object', () => forms.posthogBlobs(base, { nested: true }), 'either', true);
  ph('blob-data-not-array', () => Buffer.from(JSON.stringify({ window_id: 'w', data: 'events' }) + '\n'), 'input-error');
  ph('blob-data-with-null', () => Buffer.from(JSON.stringify({ window_id: 'w', data: [null, ...base] }) + '\n'), 'input-error');
  ph('pair-of-three', () => Buffer.from(base.map((e) => JSON.stringify(['w', e, 'extra'])).join('\n')), 'input-error');
  ph('split-windows-snapshot-in-one', () => Buffer.from(base.map((e, i) => JSON.stringify([i === L.snap ? 'a' : 'b', e])).join('\n')), 'either', true);
  ph('split-windows-alternating', () => Buffer.from(base.map((e, i) => JSON.stringify([i % 2 ? 'a' : 'b', e])).join('\n')), 'either', true);
  ph('cv-garbage', () => forms.posthogPairs(base.map((e, i) => (i === L.snap ? { ...e, cv: '2024-10', data: 'not gzip' } : e))), 'input-error');
  ph('cv-gzip-of-non-json', () => forms.posthogPairs(base.map((e, i) => (i === L.snap ? { ...e, cv: '2024-10', data: gzipSync('not json').toString('latin1') } : e))), 'input-error');
  ph('cv-valid', () => forms.posthogPairs(base.map((e, i) => (i === L.snap ? { ...e, cv: '2024-10', data: gzipSync(JSON.stringify(e.data)).toString('latin1') } : e))), 'render', true);
  ph('cv-adds-garbage', () => forms.posthogPairs(withEvent(base, { ...mutation([]), cv: '2024-10', data: { source: 0, adds: 'garbage', removes: [], texts: [], attributes: [] } })), 'input-error');
  ph('cv-number-data', () => forms.posthogPairs(base.map((e, i) => (i === L.snap ? { ...e, cv: '2024-10', data: 12 } : e))), 'either', true);

  // 6. DOM: corrupted nodes and mutations (these reach the player).
  const snapEdits: [string, (root: SNode, body: SNode) => void][] = [
    ['node-without-id', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'div', attributes: {}, childNodes: [] } as unknown as SNode)],
    ['duplicate-ids', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'div', attributes: {}, childNodes: [], id: body.id })],
    ['id-negative', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'p', attributes: {}, childNodes: [], id: -1 })],
    ['id-string', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'p', attributes: {}, childNodes: [], id: 'x' as unknown as number })],
    ['tag-invalid-name', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'img src=x onerror=alert(1)', attributes: {}, childNodes: [], id: ids() })],
    ['tag-number', (_r, body) => body.childNodes!.push({ type: 2, tagName: 42 as unknown as string, attributes: {}, childNodes: [], id: ids() })],
    ['tag-missing', (_r, body) => body.childNodes!.push({ type: 2, attributes: {}, childNodes: [], id: ids() })],
    ['tag-empty', (_r, body) => body.childNodes!.push({ type: 2, tagName: '', attributes: {}, childNodes: [], id: ids() })],
    ['attributes-null', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'div', attributes: null as unknown as Record<string, unknown>, childNodes: [], id: ids() })],
    ['attribute-invalid-name', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'div', attributes: { '"><img': 'x', '': 'y', '1abc': 'z' }, childNodes: [], id: ids() })],
    ['attribute-value-object', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'div', attributes: { title: { toString: 1 } }, childNodes: [], id: ids() })],
    ['childnodes-string', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'div', attributes: {}, childNodes: 'abc' as unknown as SNode[], id: ids() })],
    ['element-without-childnodes', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'div', attributes: {}, id: ids() })],
    ['childnodes-number', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'div', attributes: {}, childNodes: 5 as unknown as SNode[], id: ids() })],
    ['body-without-childnodes', (_r, body) => delete body.childNodes],
    ['document-without-childnodes', (root) => delete root.childNodes],
    ['childnodes-with-null', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'div', attributes: {}, childNodes: [null as unknown as SNode], id: ids() })],
    ['text-content-number', (_r, body) => body.childNodes!.push({ type: 3, textContent: 12345 as unknown as string, id: ids() })],
    ['text-content-missing', (_r, body) => body.childNodes!.push({ type: 3, id: ids() })],
    ['node-type-99', (_r, body) => body.childNodes!.push({ type: 99, id: ids() })],
    ['document-inside-body', (_r, body) => body.childNodes!.push({ type: 0, childNodes: [], id: ids() })],
    ['doctype-inside-body', (_r, body) => body.childNodes!.push({ type: 1, name: 'html', publicId: '', systemId: '', id: ids() })],
    ['cdata-in-html', (_r, body) => body.childNodes!.push({ type: 4, textContent: ']]>', id: ids() })],
    ['svg-without-namespace-flag', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'svg', attributes: { viewBox: 'x y' }, childNodes: [{ type: 2, tagName: 'circle', attributes: { r: 'NaN' }, childNodes: [], id: ids() }], id: ids() })],
    ['custom-element-names', (_r, body) => body.childNodes!.push(...['x-', 'a-b', 'font-face', 'annotation-xml', 'my-el'].map((t) => ({ type: 2, tagName: t, isCustom: true, attributes: {}, childNodes: [], id: ids() })))],
    ['shadow-host-flag-on-void', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'img', isShadowHost: true, attributes: {}, childNodes: [{ type: 3, textContent: 'shadow', id: ids(), isShadow: true }], id: ids() })],
    ['style-text-bad-css', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'style', attributes: {}, childNodes: [{ type: 3, textContent: '@media ((((( { a { b: c } } } } @import url(', isStyle: true, id: ids() }], id: ids() })],
    ['canvas-dataurl-garbage', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'canvas', attributes: { rr_dataURL: 'data:image/png;base64,AAAA', width: '1e9', height: '-5' }, childNodes: [], id: ids() })],
    ['media-state-garbage', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'video', attributes: { rr_mediaState: 'played', rr_mediaCurrentTime: 1e309 as number, rr_mediaPlaybackRate: -5, rr_mediaVolume: 99 }, childNodes: [], id: ids() })],
    ['rr-geometry-garbage', (_r, body) => body.childNodes!.push({ type: 2, tagName: 'div', attributes: { rr_width: 'calc(', rr_height: '1e400px', rr_left: 'x', rr_top: '-1e9px' }, childNodes: [], id: ids() })],
  ];
  for (const [label, edit] of snapEdits) {
    edited(`dom/snapshot-${label}`, 'dom', (ev) => {
      const root = (ev[L.snap]!.data as { node: SNode }).node;
      edit(root, findTag(root, 'body')!);
      return ev;
    }, 'either', { browser: true });
    // A later page load is rebuilt by another path (during a forward seek, through rrweb's virtual DOM).
    if (L.lastSnap !== L.snap) {
      edited(`dom/later-snapshot-${label}`, 'dom', (ev) => {
        const root = (ev[L.lastSnap]!.data as { node: SNode }).node;
        edit(root, findTag(root, 'body')!);
        return ev;
      }, 'either', { browser: true });
    }
  }
  // The same broken nodes arriving by mutation (rrweb builds those through another path again).
  for (const [label, make] of [
    ['tag-invalid-name', () => ({ type: 2, tagName: 'img src=x onerror=alert(1)', attributes: {}, childNodes: [], id: ids() })],
    ['tag-number', () => ({ type: 2, tagName: 42, attributes: {}, childNodes: [], id: ids() })],
    ['cdata', () => ({ type: 4, textContent: 'x', id: ids() })],
    ['document', () => ({ type: 0, childNodes: [], id: ids() })],
    ['doctype', () => ({ type: 1, name: 'html', publicId: '', systemId: '', id: ids() })],
    ['shadow-host-on-void', () => ({ type: 2, tagName: 'img', isShadowHost: true, attributes: {}, childNodes: [], id: ids() })],
    ['media-garbage', () => ({ type: 2, tagName: 'video', attributes: { rr_mediaPlaybackRate: -5, rr_mediaVolume: 99, rr_mediaCurrentTime: -1 }, childNodes: [], id: ids() })],
    ['node-null', () => null],
    ['node-type-99', () => ({ type: 99, id: ids() })],
  ] as [string, () => unknown][]) {
    edited(`dom/mutation-add-${label}`, 'dom', (ev) => withEvent(ev, mutation([{ parentId: L.bodyId, nextId: null, node: make() }])), 'either', { browser: true });
  }
  const mutEdits: [string, () => RawEvent][] = [
    ['add-to-missing-parent', () => mutation([{ parentId: 987654321, nextId: null, node: { type: 2, tagName: 'p', attributes: {}, childNodes: [], id: ids() } }])],
    ['add-node-to-itself', () => {
      const id = ids();
      return mutation([{ parentId: id, nextId: null, node: { type: 2, tagName: 'div', attributes: {}, childNodes: [], id } }]);
    }],
    ['add-cycle', () => {
      const a = ids();
      const b = ids();
      return mutation([
        { parentId: b, nextId: null, node: { type: 2, tagName: 'div', attributes: {}, childNodes: [], id: a } },
        { parentId: a, nextId: null, node: { type: 2, tagName: 'div', attributes: {}, childNodes: [], id: b } },
      ]);
    }],
    ['add-with-next-missing', () => mutation([{ parentId: L.bodyId, nextId: 987654321, node: { type: 2, tagName: 'p', attributes: {}, childNodes: [], id: ids() } }])],
    ['add-body-into-itself', () => mutation([{ parentId: L.bodyId, nextId: null, node: { type: 2, tagName: 'body', attributes: {}, childNodes: [], id: L.bodyId } }])],
    ['add-element-without-childnodes', () => mutation([{ parentId: L.bodyId, nextId: null, node: { type: 2, tagName: 'div', attributes: {}, id: ids() } }])],
    ['add-element-childnodes-number', () => mutation([{ parentId: L.bodyId, nextId: null, node: { type: 2, tagName: 'div', attributes: {}, childNodes: 7, id: ids() } }])],
    ['remove-missing', () => mutation([], { removes: [{ parentId: 987654321, id: 123456789 }] })],
    ['remove-body', () => mutation([], { removes: [{ parentId: 1, id: L.bodyId }] })],
    ['remove-document', () => mutation([], { removes: [{ parentId: 0, id: 1 }] })],
    ['texts-missing-node', () => mutation([], { texts: [{ id: 987654321, value: 'x' }] })],
    ['attributes-missing-node', () => mutation([], { attributes: [{ id: 987654321, attributes: { class: 'x' } }] })],
    ['attributes-style-object', () => mutation([], { attributes: [{ id: L.bodyId, attributes: { style: { color: 'red', 'background-image': 'url(x)', '--x': null } } }] })],
    ['adds-not-array', () => mutation('nope' as unknown as unknown[])],
    ['adds-with-nulls', () => mutation([null, 1, 'x', { node: null }])],
    ['removes-string', () => mutation([], { removes: 'all' })],
    ['scroll-huge', () => ({ type: 3, timestamp: mid, data: { source: 3, id: 1, x: 1e308, y: -1e308 } })],
    ['scroll-missing-node', () => ({ type: 3, timestamp: mid, data: { source: 3, id: 987654321, x: 0, y: 10 } })],
    ['viewport-resize-zero', () => ({ type: 3, timestamp: mid, data: { source: 4, width: 0, height: 0 } })],
    ['viewport-resize-huge', () => ({ type: 3, timestamp: mid, data: { source: 4, width: 1e9, height: 1e9 } })],
    ['viewport-resize-negative', () => ({ type: 3, timestamp: mid, data: { source: 4, width: -100, height: 'x' } })],
    ['meta-mid-recording-garbage', () => ({ type: 4, timestamp: mid, data: { href: 5, width: 'x', height: null } })],
    ['input-huge-text', () => ({ type: 3, timestamp: mid, data: { source: 5, id: L.bodyId, text: 'x'.repeat(2_000_000), isChecked: 'maybe' } })],
    ['mouse-interaction-garbage', () => ({ type: 3, timestamp: mid, data: { source: 2, type: 99, id: L.bodyId, x: 'NaN', y: null } })],
    ['click-on-missing-node', () => ({ type: 3, timestamp: mid, data: { source: 2, type: 2, id: 987654321, x: 10, y: 10 } })],
    ['focus-on-document', () => ({ type: 3, timestamp: mid, data: { source: 2, type: 5, id: 1 } })],
    ['mouse-positions-garbage', () => ({ type: 3, timestamp: mid, data: { source: 1, positions: [{ x: 'a', y: {}, id: -1, timeOffset: 'soon' }, null, 5] } })],
    ['stylesheet-rule-garbage', () => ({ type: 3, timestamp: mid, data: { source: 8, id: 987654321, adds: [{ rule: 42, index: 'x' }], removes: [{ index: [1, 2, 'x'] }] } })],
    ['style-declaration-garbage', () => ({ type: 3, timestamp: mid, data: { source: 13, id: L.bodyId, index: 'x', set: { property: null, value: {} } } })],
    ['adopted-stylesheet-garbage', () => ({ type: 3, timestamp: mid, data: { source: 15, id: 1, styleIds: [1, 'x', null], styles: [{ styleId: 1, rules: 'x' }] } })],
    ['adopted-stylesheet-ids-not-array', () => ({ type: 3, timestamp: mid, data: { source: 15, id: 1, styleIds: 'x', styles: 'y' } })],
    ['selection-ranges-not-array', () => ({ type: 3, timestamp: mid, data: { source: 14, ranges: 5 } })],
    ['mouse-move-empty-positions', () => ({ type: 3, timestamp: mid, data: { source: 1, positions: [] } })],
    ['touch-move-null-positions', () => ({ type: 3, timestamp: mid, data: { source: 6, positions: [null, null] } })],
    ['drag-positions-object', () => ({ type: 3, timestamp: mid, data: { source: 12, positions: { x: 1, y: 2 } } })],
    ['mouse-interaction-type-string', () => ({ type: 3, timestamp: mid, data: { source: 2, type: 'click', id: L.bodyId, x: 1, y: 1 } })],
    ['mutation-source-with-nothing', () => ({ type: 3, timestamp: mid, data: { source: 0 } })],
    ['scroll-id-object', () => ({ type: 3, timestamp: mid, data: { source: 3, id: { a: 1 }, x: 0, y: 0 } })],
    ['input-id-missing', () => ({ type: 3, timestamp: mid, data: { source: 5, text: 'x' } })],
    ['media-interaction-missing', () => ({ type: 3, timestamp: mid, data: { source: 7 } })],
    ['stylesheet-rule-styleid-garbage', () => ({ type: 3, timestamp: mid, data: { source: 8, styleId: 'x', adds: 'y', removes: 5, replace: 7 } })],
    ['canvas-mutation-garbage', () => ({ type: 3, timestamp: mid, data: { source: 9, id: L.bodyId, type: 0, commands: [{ property: 'drawImage', args: [{ rr_type: 'HTMLImageElement', src: 'javascript:alert(1)' }] }] } })],
    ['font-garbage', () => ({ type: 3, timestamp: mid, data: { source: 10, family: 'x', fontSource: 'url(javascript:1)', buffer: 'yes', descriptors: 5 } })],
    ['media-interaction-garbage', () => ({ type: 3, timestamp: mid, data: { source: 7, id: L.bodyId, type: 0, currentTime: 'x', volume: 1e9 } })],
    ['selection-garbage', () => ({ type: 3, timestamp: mid, data: { source: 14, ranges: [{ start: 987654321, startOffset: -1, end: 1, endOffset: 1e9 }] } })],
    ['custom-element-garbage', () => ({ type: 3, timestamp: mid, data: { source: 16, define: { name: 'not valid' } } })],
    ['plugin-event', () => ({ type: 6, timestamp: mid, data: { plugin: 'rrweb/console@1', payload: { level: 'log', payload: ['x'.repeat(10000)], trace: [] } } })],
    ['custom-event-huge', () => ({ type: 5, timestamp: mid, data: { tag: 'x'.repeat(1000), payload: { a: 'y'.repeat(1_000_000) } } })],
  ];
  for (const [label, make] of mutEdits) {
    edited(`dom/mutation-${label}`, 'dom', (ev) => withEvent(ev, make()), 'either', { browser: true });
  }

  // Deep and wide.
  for (const depth of [1000, 3000, 10000]) {
    // JSON.stringify itself overflows the stack on a chain this deep, so the chain is written as text.
    add({
      name: `dom/deep-snapshot-${depth}`,
      kind: 'dom',
      bytes: () => {
        const ev = clone(base);
        findTag((ev[L.snap]!.data as { node: SNode }).node, 'body')!.childNodes!.push('__DEEP__' as unknown as SNode);
        return withRaw(ev, { __DEEP__: chainJson(depth, ids) });
      },
      expect: 'either',
      browser: true,
    });
  }
  edited('dom/deep-mutation-chain-10000', 'dom', (ev) => {
    const adds: unknown[] = [];
    let parent = L.bodyId;
    for (let i = 0; i < 10000; i++) {
      const id = ids();
      adds.push({ parentId: parent, nextId: null, node: { type: 2, tagName: 'div', attributes: {}, childNodes: [], id } });
      parent = id;
    }
    return withEvent(ev, mutation(adds));
  }, 'either', { browser: true });
  edited('dom/mutation-burst-50000', 'dom', (ev) => {
    const adds: unknown[] = [];
    for (let i = 0; i < 25000; i++) {
      const id = ids();
      adds.push({ parentId: L.bodyId, nextId: null, node: { type: 2, tagName: 'span', attributes: { class: `b${i % 7}` }, childNodes: [], id } });
      adds.push({ parentId: id, nextId: null, node: { type: 3, textContent: `${i} `, id: ids() } });
    }
    return withEvent(ev, mutation(adds));
  }, 'either', { browser: true });
  edited('dom/mutation-burst-50000-events', 'dom', (ev) => {
    let out = ev;
    const extra: RawEvent[] = [];
    for (let i = 0; i < 50000; i++) {
      extra.push({ ...mutation([{ parentId: L.bodyId, nextId: null, node: { type: 3, textContent: 'x', id: ids() } }]), timestamp: mid + (i % 1000) });
    }
    out = [...out, ...extra].sort((a, b) => ts(a) - ts(b));
    return out;
  }, 'either', { browser: true });
  edited('dom/wide-snapshot-100000', 'dom', (ev) => {
    const body = findTag((ev[L.snap]!.data as { node: SNode }).node, 'body')!;
    for (let i = 0; i < 100000; i++) body.childNodes!.push({ type: 3, textContent: 'w', id: ids() });
    return ev;
  }, 'either', { browser: true });
  edited('dom/huge-text-20MB', 'dom', (ev) => withEvent(ev, mutation([{ parentId: L.bodyId, nextId: null, node: { type: 3, textContent: 'lorem ipsum '.repeat(1_750_000), id: ids() } }])), 'either', { browser: true, large: true });
  edited('dom/huge-attribute-10MB', 'dom', (ev) => withEvent(ev, mutation([], { attributes: [{ id: L.bodyId, attributes: { 'data-x': 'a'.repeat(10_000_000) } }] })), 'either', { browser: true, large: true });
  edited('dom/stylesheet-100000-rules', 'dom', (ev) => {
    const css = Array.from({ length: 100000 }, (_, i) => `.r${i}:hover{color:red}`).join('');
    return withEvent(ev, mutation([{ parentId: L.bodyId, nextId: null, node: { type: 2, tagName: 'style', attributes: { _cssText: css }, childNodes: [], id: ids() } }]));
  }, 'either', { browser: true });
  edited('dom/selector-pathological', 'dom', (ev) => {
    const css = `${':not('.repeat(500)}a${')'.repeat(500)}:hover{color:red} ${'a '.repeat(20000)}:hover{color:blue}`;
    return withEvent(ev, mutation([{ parentId: L.bodyId, nextId: null, node: { type: 2, tagName: 'style', attributes: {}, childNodes: [{ type: 3, textContent: css, isStyle: true, id: ids() }], id: ids() } }]));
  }, 'either', { browser: true });
  edited('dom/many-small-events-200000', 'dom', (ev) => {
    const extra: RawEvent[] = [];
    const span = L.t1 - L.snapTs;
    for (let i = 0; i < 200000; i++) extra.push({ type: 3, timestamp: L.snapTs + 1 + Math.floor((i / 200000) * span), data: { source: 1, positions: [{ x: i % 800, y: i % 600, id: L.bodyId, timeOffset: 0 }] } });
    return [...ev, ...extra].sort((a, b) => ts(a) - ts(b));
  }, 'either', { browser: true, large: true });

  // 7. Size.
  // A gzip bomb: 1 GiB of zeros is about 1 MiB compressed.
  fixed('size/gzip-bomb-1GiB', 'size', () => gzipBomb(1024), 'input-error', { large: true });
  // A PostHog cv payload that inflates to 1 GiB from a small line.
  fixed('size/cv-bomb-1GiB', 'size', () => forms.posthogPairs(base.map((e, i) => (i === L.snap ? { ...e, cv: '2024-10', data: gzipBomb(1024).toString('latin1') } : e))), 'input-error', { large: true });
  if (opts.large !== false) {
    // ~100 MB of real events: the session repeated with its clock moved on, a window at its start.
    add({
      name: 'size/100MB-long-session',
      kind: 'size',
      bytes: () => longSession(base, L.t1 - L.t0 + 1000, 100 * 1024 * 1024),
      expect: 'render',
      browser: true,
      large: true,
      startS: 0,
      endS: 2,
    });
    add({
      name: 'size/100MB-long-session-default-window',
      kind: 'size',
      bytes: () => longSession(base, L.t1 - L.t0 + 1000, 100 * 1024 * 1024),
      expect: 'input-error',
      browser: false,
      large: true,
    });
  }
  return cases;
}

/** A chain of `depth` nested <div> nodes as rrweb JSON, written without recursion. */
function chainJson(depth: number, ids: () => number): string {
  const open: string[] = [];
  for (let i = 0; i < depth; i++) open.push(`{"type":2,"tagName":"div","attributes":{},"id":${ids()},"childNodes":[`);
  const bottom = `{"type":3,"textContent":"bottom of ${depth}","id":${ids()}}`;
  return open.join('') + bottom + ']}'.repeat(depth);
}

let mibOfZeros: Buffer | undefined;

/**
 * `mib` MiB of zeros, gzip-compressed (about a thousandth of that): one member for 1 MiB,
 * repeated (gunzip reads concatenated members as one stream), so building it costs nothing.
 */
export function gzipBomb(mib: number): Buffer {
  mibOfZeros ??= gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: mib }, () => mibOfZeros!));
}

/** JSON Lines of `base` repeated with each copy's clock moved by `period` ms, until `bytes` long. */
function longSession(base: RawEvent[], period: number, bytes: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  for (let k = 0; size < bytes; k++) {
    for (const e of base) {
      const line = JSON.stringify({ ...e, timestamp: ts(e) + k * period }) + '\n';
      parts.push(line);
      size += line.length;
    }
  }
  return Buffer.from(parts.join(''));
}
