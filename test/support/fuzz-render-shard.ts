import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser } from '../../src/render/browser.js';
import { badMessage, corpusOptions, loadFuzzBase, NAMED_BROWSER_CASES, parseAndPlan, renderCase, renderShard, type RenderOutcome } from './fuzz-run.js';
import { malformedCorpus, type MalformedCase } from './malformed.js';

const RENDER_BOUND_MS = 45_000;

/**
 * Declares the tests of one render shard: every accepted case of the malformed corpus (other than
 * the named ones test/fuzz-recordings.test.ts renders) whose position falls in this shard is
 * rendered for real in one shared browser, and must end as a GIF or an InputError within the bound,
 * without taking the browser down. CHAOS=1 renders a larger, seeded corpus (see corpusOptions).
 */
export function defineRenderShard(shard: number, shards: number): void {
  let cases: MalformedCase[];
  let browser: Browser;

  beforeAll(async () => {
    const base = await loadFuzzBase();
    cases = renderShard(malformedCorpus(base, { ...corpusOptions(), large: false }), shard, shards, new Set(NAMED_BROWSER_CASES));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it(`shard ${shard + 1}/${shards}: every accepted case renders or ends in a clean InputError, within ${RENDER_BOUND_MS / 1000} s, and the browser survives`, async () => {
    const problems: string[] = [];
    const results: [string, RenderOutcome][] = [];
    let refusedEarly = 0;
    for (const c of cases) {
      const edge = parseAndPlan(c);
      if (edge.kind === 'crash') problems.push(`${c.name}: parse/plan threw ${String(edge.error)}`);
      if (edge.kind !== 'planned') {
        refusedEarly++;
        continue;
      }
      const r = await renderCase(c, edge.events, browser, RENDER_BOUND_MS);
      results.push([c.name, r]);
      if (r.kind === 'failed') problems.push(`${c.name}: ${r.error}`);
      if (r.kind === 'input-error' && badMessage(r.message)) problems.push(`${c.name}: message ${badMessage(r.message)}`);
      if (r.ms > RENDER_BOUND_MS) problems.push(`${c.name}: ${r.ms} ms`);
      if (!browser.isConnected()) {
        problems.push(`${c.name}: the browser died`);
        browser = await launchBrowser();
      }
    }
    const ok = results.filter(([, r]) => r.kind === 'ok').length;
    const refused = results.filter(([, r]) => r.kind === 'input-error').length;
    const slowest = [...results].sort((a, b) => b[1].ms - a[1].ms).slice(0, 3).map(([n, r]) => `${n} ${r.ms} ms`);
    console.info(
      `shard ${shard + 1}/${shards}: ${cases.length} cases, ${refusedEarly} refused before the browser, ${results.length} rendered: ` +
        `${ok} GIFs, ${refused} InputErrors, ${results.length - ok - refused} failures; slowest: ${slowest.join(', ')}`,
    );
    expect(problems).toEqual([]);
    expect(results.length).toBeGreaterThan(30);
  });
}
