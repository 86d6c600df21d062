import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../src/render/browser.js';
import { ensureBuilt } from './service/build.js';
import { badMessage, corpusOptions, loadFuzzBase, NAMED_BROWSER_CASES, parseAndPlan, renderCase, type EdgeOutcome } from './support/fuzz-run.js';
import { malformedCorpus, type MalformedCase } from './support/malformed.js';

/**
 * At least 500 malformed and hostile recordings derived from a real one (test/support/malformed.ts):
 * each must end as a clean InputError (one line) or a plan, and the ones that reach the browser
 * (deep DOM, a 50,000-node burst, out-of-order and far-future events, 100 MB of events) must render
 * or refuse cleanly within a bound. A sample of bad files goes through the CLI binary: exit 2 and
 * one line on stderr, memory bounded. test/fuzz-render-*.test.ts render every other accepted case.
 */

const root = new URL('..', import.meta.url).pathname;
/**
 * Parse and plan of a case: a second, plus 150 ms per MB it holds (100 MB of JSON parses in about
 * 3 s on one free core; the bound leaves room for a busy machine). Bombs count their inflated size.
 */
const edgeBoundMs = (c: MalformedCase, bytes: number) => 1000 + (150 * (c.kind === 'size' ? Math.max(bytes, 512 << 20) : bytes)) / (1 << 20);
const RENDER_BOUND_MS = 45_000;

let corpus: MalformedCase[];
let outcomes: Map<string, EdgeOutcome>;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  const base = await loadFuzzBase();
  corpus = malformedCorpus(base, corpusOptions());
  dir = await mkdtemp(join(tmpdir(), 'fuzz-recordings-'));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const byName = (name: string) => {
  const c = corpus.find((x) => x.name === name);
  if (!c) throw new Error(`no case ${name}`);
  return c;
};

describe('malformed recordings: parse and plan (no browser)', () => {
  it('the corpus holds at least 500 cases of every family, from a real recording', () => {
    const kinds = new Map<string, number>();
    for (const c of corpus) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    console.info(`corpus: ${corpus.length} cases: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    expect(corpus.length).toBeGreaterThanOrEqual(500);
    for (const k of ['format', 'truncate', 'flip', 'retype', 'data', 'field', 'structure', 'posthog', 'dom', 'size']) expect(kinds.get(k), k).toBeGreaterThan(0);
  });

  it('every case ends in an InputError with one clean line, or a plan; nothing else is thrown, nothing is slow', () => {
    outcomes = new Map();
    const problems: string[] = [];
    const started = performance.now();
    for (const c of corpus) {
      const o = parseAndPlan(c);
      outcomes.set(c.name, o);
      const bound = edgeBoundMs(c, c.bytes().length);
      if (o.kind === 'crash') problems.push(`${c.name}: threw ${String((o.error as Error)?.stack ?? o.error).split('\n').slice(0, 2).join(' ')}`);
      if (o.kind === 'input-error' && badMessage(o.message)) problems.push(`${c.name}: message ${badMessage(o.message)}: ${o.message.slice(0, 120)}`);
      if (c.expect === 'input-error' && o.kind !== 'input-error') problems.push(`${c.name}: expected an InputError, got ${o.kind}`);
      if (c.expect === 'render' && o.kind !== 'planned') problems.push(`${c.name}: expected a plan, got ${o.kind}${o.kind === 'input-error' ? `: ${o.message}` : ''}`);
      if (o.ms > bound) problems.push(`${c.name}: ${o.ms} ms (bound ${bound})`);
    }
    const count = (k: EdgeOutcome['kind']) => [...outcomes.values()].filter((o) => o.kind === k).length;
    const slowest = [...outcomes].sort((a, b) => b[1].ms - a[1].ms).slice(0, 3).map(([n, o]) => `${n} ${o.ms} ms`);
    console.info(
      `parse+plan: ${count('input-error')} InputError, ${count('planned')} planned, ${count('crash')} other errors, ` +
        `${Math.round(performance.now() - started)} ms in all; slowest: ${slowest.join(', ')}`,
    );
    expect(problems).toEqual([]);
  });
});

describe('malformed recordings that reach the browser', () => {
  const named = NAMED_BROWSER_CASES;

  it.each(named)('%s: renders, or is refused with an InputError, within the bound', async (name) => {
    const c = byName(name);
    const edge = outcomes?.get(name) ?? parseAndPlan(c);
    if (edge.kind === 'input-error') {
      console.info(`${name}: refused before the browser in ${edge.ms} ms: ${edge.message}`);
      expect(c.expect).not.toBe('render');
      return;
    }
    expect(edge.kind).toBe('planned');
    if (edge.kind !== 'planned') return;
    const r = await renderCase(c, edge.events, browser, RENDER_BOUND_MS);
    console.info(`${name}: ${r.kind} in ${r.ms} ms${r.kind === 'ok' ? ` (${r.frames} frames ${r.width}x${r.height})` : `: ${r.kind === 'failed' ? r.error : r.message}`}`);
    expect(r.kind === 'ok' || r.kind === 'input-error', r.kind === 'failed' ? r.error : '').toBe(true);
    expect(r.ms).toBeLessThan(RENDER_BOUND_MS);
    expect(browser.isConnected()).toBe(true);
  });

  it('deep DOM: 1000 levels are replayed; 3000 and 10000 are refused at parse time with one line', () => {
    expect(outcomes.get('dom/deep-snapshot-1000')?.kind).toBe('planned');
    for (const n of ['dom/deep-snapshot-3000', 'dom/deep-snapshot-10000']) {
      const o = outcomes.get(n)!;
      expect(o.kind, n).toBe('input-error');
      if (o.kind === 'input-error') expect(o.message).toMatch(/nests more than 2048 levels deep/);
    }
  });

  // Cases this corpus found in the engine, fixed there: each states what a correct engine does.
  const endsCleanly = async (name: string, boundMs = RENDER_BOUND_MS) => {
    const c = byName(name);
    const edge = parseAndPlan(c);
    if (edge.kind === 'input-error') return;
    expect(edge.kind).toBe('planned');
    if (edge.kind !== 'planned') return;
    const r = await renderCase(c, edge.events, browser, boundMs);
    console.info(`${name}: ${r.kind} in ${r.ms} ms${r.kind === 'failed' ? `: ${r.error}` : ''}`);
    expect(r.kind === 'ok' || r.kind === 'input-error', r.kind === 'failed' ? r.error : '').toBe(true);
    expect(r.ms).toBeLessThan(boundMs);
  };

  // The picture's height was width × recorded height / recorded width, unbounded: a Meta event of
  // 1 × 100000 px asked Chromium for an 800 × 80,000,000 px page. Heights are now capped at 3 × the
  // width and the recorded viewport is letterboxed into it.
  it('a Meta event of 1 × 100000 px renders or is refused with an InputError', () => endsCleanly('data/meta.tall-100000'));

  // Same cause: 320 × 100000 px rendered an 800 × 250,000 px GIF (85 s, 3.9 GB peak RSS measured).
  it('a Meta event of 320 × 100000 px renders within 5 s', () => endsCleanly('data/meta.tall-320x100000', 5000));

  // A full snapshot after the start counts as the page at the start, but events were only
  // taken up to the window's end, so a window ending before that snapshot handed the player one
  // event. The planner now refuses it, naming the snapshot's time.
  it('a window that ends before the first full snapshot is refused with a clear InputError', () => {
    const edge = parseAndPlan(byName('structure/window-ends-before-first-snapshot'));
    expect(edge.kind).toBe('input-error');
    if (edge.kind === 'input-error') expect(edge.message).toMatch(/before the page is loaded \(its full snapshot is at \d+\.\d\d s\)/);
  });
});

describe('the CLI with bad files', () => {
  interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
    peakRssMiB: number | undefined;
  }

  function cli(file: string, extra: string[] = []): Promise<Run> {
    const rssFile = `${file}.rss`;
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', new URL('./support/peak-rss.mjs', import.meta.url).href, join(root, 'bin', 'replay-rasterizer.js'), 'render', file, '--out', join(dir, 'out.gif'), ...extra],
        { cwd: dir, timeout: 120_000, env: { ...process.env, PEAK_RSS_FILE: rssFile }, maxBuffer: 10 * 1024 * 1024 },
        async (err, stdout, stderr) => {
          const kib = Number(await readFile(rssFile, 'utf8').catch(() => ''));
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr, peakRssMiB: kib > 0 ? Math.round(kib / 1024) : undefined });
        },
      );
    });
  }

  beforeAll(async () => {
    await ensureBuilt();
  });

  const sample = [
    'format/empty',
    'format/binary-garbage-3',
    'truncate/json-array/',
    'retype/snapshot.data=null',
    'posthog/window-id-object',
    'dom/deep-snapshot-10000',
    'size/gzip-bomb-1GiB',
    'size/cv-bomb-1GiB',
    'size/100MB-long-session-default-window',
  ];

  it.each(sample)('%s: exit 2, exactly one line on stderr, no stack, memory bounded', async (prefix) => {
    const c = corpus.find((x) => x.name.startsWith(prefix));
    expect(c, prefix).toBeDefined();
    const file = join(dir, `${prefix.replace(/[^a-z0-9]+/gi, '_')}.rec`);
    await writeFile(file, c!.bytes());
    const r = await cli(file);
    console.info(`${c!.name}: exit ${r.code}, peak RSS ${r.peakRssMiB ?? '?'} MiB: ${r.stderr.trim()}`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^replay-rasterizer: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // The bombs inflate to at most the 512 MiB limit; a 1 GiB inflation (or a crash) would show here.
    if (r.peakRssMiB !== undefined) expect(r.peakRssMiB).toBeLessThan(c!.large ? 1400 : 400);
  });

  it('control: the same CLI renders the unbroken recording (exit 0, one JSON line)', async () => {
    const c = byName('format/crlf-json-lines');
    const file = join(dir, 'good.rec');
    await writeFile(file, c.bytes());
    const r = await cli(file, ['--fps', '5', '--width', '200', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toHaveProperty('frames');
  });
});
