import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { planClip, type Clip } from '../../src/recording/clip.js';
import { isInputError } from '../../src/errors.js';
import { parseRecording } from '../../src/recording/parse.js';
import type { RrwebEvent } from '../../src/recording/types.js';
import { renderRecording } from '../../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../../src/render/types.js';
import { startSite } from './site-server.js';
import { recordJourney } from './recorder.js';
import type { CorpusOptions, MalformedCase } from './malformed.js';

/** What became of one malformed case at the parse and plan stage (no browser). */
export type EdgeOutcome =
  | { kind: 'input-error'; message: string; ms: number }
  | { kind: 'planned'; events: RrwebEvent[]; clip: Clip; ms: number }
  | { kind: 'crash'; error: unknown; ms: number };

export const FUZZ_RENDER = { fps: 5, width: 240 } as const;

/**
 * The families the brief names as reaching the browser (deep DOM, a 50,000-node burst,
 * out-of-order and far-future events, 100 MB of events), each with what it must reach: the browser
 * and a GIF, or the parser's refusal for that very reason. A case that ended on some earlier,
 * unrelated InputError would never test what it is named after, so that fails.
 * test/fuzz-recordings.test.ts renders these by name; the render shards take every other accepted case.
 */
export const NAMED_CASE_REACHES: Record<string, 'a GIF' | RegExp> = {
  'dom/deep-snapshot-1000': 'a GIF',
  'dom/deep-snapshot-3000': /nests more than 2048 levels deep/,
  'dom/deep-snapshot-10000': /nests more than 2048 levels deep/,
  'dom/deep-mutation-chain-10000': /nests elements more than 1024 deep/,
  'dom/mutation-burst-50000': 'a GIF',
  'dom/wide-snapshot-100000': 'a GIF',
  'structure/reversed': 'a GIF',
  'structure/shuffled': 'a GIF',
  'structure/incrementals-before-snapshot': 'a GIF',
  'structure/far-future-last-event-short-window': 'a GIF',
  'structure/far-future-end-window': 'a GIF',
  'size/100MB-long-session': 'a GIF',
};
export const NAMED_BROWSER_CASES = Object.keys(NAMED_CASE_REACHES);

export function planOptions(c: MalformedCase) {
  return { ...DEFAULT_RENDER_OPTIONS, ...FUZZ_RENDER, startS: c.startS ?? 0, endS: c.endS };
}

export function parseAndPlan(c: MalformedCase): EdgeOutcome {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const { events } = parseRecording(c.bytes());
    const clip = planClip(events, planOptions(c));
    return { kind: 'planned', events, clip, ms: ms() };
  } catch (error) {
    if (isInputError(error)) return { kind: 'input-error', message: error.message, ms: ms() };
    return { kind: 'crash', error, ms: ms() };
  }
}

/** Why an InputError's message would not do as the one line a user (or the CLI) shows. */
export function badMessage(message: string): string | undefined {
  if (message.trim() === '') return 'empty';
  if (/[\r\n]/.test(message)) return 'more than one line';
  if (message.length > 400) return `${message.length} characters`;
  if (/\n\s+at |\bat .+:\d+:\d+\)/.test(message)) return 'looks like a stack trace';
  return undefined;
}

export type RenderOutcome =
  | { kind: 'ok'; ms: number; frames: number; width: number; height: number }
  | { kind: 'input-error'; message: string; ms: number }
  | { kind: 'failed'; error: string; ms: number };

/**
 * Renders an accepted case for real. Past `boundMs` it is a failure: the render's abort signal
 * fires (checked between frames) and, in case the page itself hangs inside a step, a timer
 * settles the race anyway.
 */
export async function renderCase(c: MalformedCase, events: RrwebEvent[], browser: Browser, boundMs: number): Promise<RenderOutcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  let timer: NodeJS.Timeout | undefined;
  try {
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result within ${boundMs + 5000} ms (hang)`)), boundMs + 5000);
    });
    const r = await Promise.race([renderRecording(events, planOptions(c), { browser, signal: AbortSignal.timeout(boundMs) }), hang]);
    return { kind: 'ok', ms: ms(), frames: r.frames, width: r.width, height: r.height };
  } catch (error) {
    if (isInputError(error)) return { kind: 'input-error', message: error.message, ms: ms() };
    return { kind: 'failed', error: String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 300), ms: ms() };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The corpus's shape. By default the fixed one (the same cases on every run). CHAOS=1 explores:
 * several times more truncations, byte flips and junk fields, from CHAOS_SEED (default: today's
 * date, so the parallel render shards agree; set it to replay a run). Run it with
 * `CHAOS=1 [CHAOS_SEED=n] npx vitest run test/fuzz-recordings.test.ts test/fuzz-render-*.test.ts`.
 */
export function corpusOptions(): CorpusOptions {
  if (process.env.CHAOS !== '1') return {};
  const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Date.now() / 86_400_000));
  console.info(`CHAOS corpus, seed ${seed}`);
  return { seed, truncations: 200, flips: 300, fieldFuzz: 300 };
}

export const FUZZ_BASE_PATH = fileURLToPath(new URL('../fixtures/hostile/fuzz-base.json.gz', import.meta.url));

/**
 * The recording the corpus is derived from: the one recorded into test/fixtures/hostile by
 * test/support/record-fuzz-base.ts (so the corpus is the same on every run), or a fresh one when
 * FUZZ_LIVE=1.
 */
export async function loadFuzzBase(): Promise<unknown[]> {
  if (process.env.FUZZ_LIVE === '1') return recordFuzzBase();
  return JSON.parse(gunzipSync(await readFile(FUZZ_BASE_PATH)).toString('utf8')) as unknown[];
}

/**
 * The fuzz corpus's base: rrweb's recorder on the fixture shop, about 3 s with a scroll, a page
 * load and a click that changes the DOM.
 */
export async function recordFuzzBase(browser?: Browser): Promise<unknown[]> {
  const site = await startSite();
  try {
    const rec = await recordJourney(
      site.origin,
      async ({ page, origin, idle, wheel, moveTo }) => {
        await page.goto(`${origin}/`);
        await idle(300);
        await moveTo('#shop-now');
        await wheel(400, 4);
        await idle(300);
        await page.click('#card-2');
        await page.waitForLoadState('load');
        await idle(500);
        await moveTo('#add');
        await page.click('#add');
        await idle(500);
      },
      { viewport: { width: 1024, height: 700 }, browser },
    );
    return rec.events;
  } finally {
    await site.close();
  }
}

/**
 * Cases that show bugs in lead-owned files (see the it.fails tests in test/fuzz-recordings.test.ts);
 * the render shards leave them out so that they stay green until those are fixed.
 */
export const KNOWN_BUG_CASES: Record<string, string> = {
  'data/meta.tall-100000': 'render.ts: frame height unbounded (width × 100000 / 1) -> Chromium refuses the page size',
  'data/meta.tall-320x100000': 'render.ts: frame height unbounded -> a 240 × 75,000 px render takes ~20 s and GBs of memory',
};

/** Flips mostly land in digits and give near-identical recordings: the first few (about half parse) are rendered. */
const FLIP_CASES = 16;

/**
 * The cases a render shard takes: every case that reaches the browser (and a sample of the other
 * accepted ones), except the named and the known-bug ones, split into `shards` by position (so the
 * render tests run as parallel files, each well under a minute and a half).
 */
export function renderShard(corpus: MalformedCase[], shard: number, shards: number, except: Set<string>): MalformedCase[] {
  let flips = 0;
  const chosen = corpus.filter((c) => {
    if (except.has(c.name) || KNOWN_BUG_CASES[c.name]) return false;
    if (c.browser) return true;
    // Other families rarely parse; those that do (CRLF lines, a digit changed) are sampled.
    return c.kind !== 'flip' || flips++ < FLIP_CASES;
  });
  return chosen.filter((_, i) => i % shards === shard);
}
