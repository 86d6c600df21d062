import { HEAVY_MOMENT } from '../../test/support/heavy-journeys.js';
import { redisReachable } from '../../test/support/dashboard-site.js';
import { nodeDocsRoot } from '../../test/support/heavy-sites.js';
import { mkdocsMissing } from '../../test/support/mkdocs-site.js';
import { behindPlainLines, clipWindow, interleaved, measure, momentLines, summarise, table, timingLines, type Summary } from '../lib/measure.js';
import type { BenchRow, RowReport } from '../lib/row.js';

/**
 * Heavy pages (issue 8): a 30 s moment of a journey on big documentation pages (rustdoc on std, or
 * mdBook's Rust by Example; the generated big-DOM site when the machine has no Rust docs), rendered
 * with the engine and with the plain approach interleaved in one run. Reports wall time (browser
 * start included), the ratio to the plain approach, the median step, bytes and SSIM against the live
 * screenshots. Targets: wall <= 5 s, <= 0.1x plain, median step <= 40 ms on rustdoc; SSIM >= 0.95
 * where the recorder lost nothing.
 */
function heavyRow(which: 'rustdoc' | 'mdbook' | 'reading' | 'print' | 'nodedocs' | 'dashboard' | 'apidocs' | 'components' | 'bootstrap' | 'mkdocs'): BenchRow {
  return {
    name: which === 'rustdoc' ? 'heavy' : which,
    about: ABOUT[which],
    // The plain approach takes minutes on the print page.
    onlyWhenAsked: which === 'print',
    async run(ctx): Promise<RowReport> {
      if (which === 'nodedocs' && !nodeDocsRoot()) {
        const why = 'no Node.js API docs on this machine (/usr/share/doc/nodejs/api, or $NODE_DOCS_DIR): nothing rendered';
        return { row: this.name, lines: [why], figures: { skipped: why } };
      }
      const noMkdocs = which === 'mkdocs' ? mkdocsMissing() : undefined;
      if (noMkdocs) {
        const why = `${noMkdocs}: nothing recorded`;
        return { row: this.name, lines: [why], figures: { skipped: why } };
      }
      if (which === 'dashboard' && !(await redisReachable())) {
        const why = 'no Redis at $REDIS_URL (or 127.0.0.1:6379) for the dashboard\'s queues: nothing recorded';
        return { row: this.name, lines: [why], figures: { skipped: why } };
      }
      const s = await ctx.sessions.get(which);
      const { startS, endS } = clipWindow(HEAVY_MOMENT.startS, HEAVY_MOMENT.endS, s.lengthS);
      const windowS = endS - startS;
      // The recorder loses some of these pages' styles (rustdoc's `font: ... var()` shorthands): SSIM is
      // also taken against rrweb's own real-time replay, which shows what the recording holds.
      const reference = ctx.options['no-reference'] ? undefined : await ctx.sessions.reference(which);
      const m = { events: s.events, startS, endS, allowOrigins: [s.origin], shots: s.shots, viewport: s.viewport, reference };
      ctx.log(`${this.name} row: ${s.what}; window ${startS}-${endS} s`);
      const runs = await interleaved([
        { method: 'engine', times: ctx.runs, run: () => measure('engine', m, {}, ctx.log) },
        { method: 'plain', times: ctx.plainRuns, run: () => measure('plain', m, { method: 'plain' }, ctx.log) },
      ]);
      const rows: Summary[] = [summarise('engine', runs.get('engine')!, windowS)];
      // --plain-runs 0 leaves the baseline out (and the ratio with it).
      if (ctx.plainRuns > 0) rows.push(summarise('plain (seek + screenshot every frame)', runs.get('plain')!, windowS));
      const [e, p] = rows as [Summary, Summary | undefined];
      const ratio = p ? +(e.wall_s / p.wall_s).toFixed(3) : null;
      const lines = [
        `recording: ${s.what} (${s.lengthS.toFixed(1)} s, ${s.events.length} events); window ${startS}-${endS} s, 10 fps, 800 px; ${e.moments.length} live screenshots in the window`,
        '',
        ...table(rows),
        '',
        ...timingLines(rows),
        '',
        `engine / plain wall: ${ratio ?? 'not measured (--plain-runs 0)'} (target <= 0.1); wall ${e.wall_s} s (target <= 5 s); median step ${e.median_step_ms} ms over ${e.steps} steps (target <= 40 ms on rustdoc); ${e.bytes.toLocaleString('en')} bytes; SSIM mean ${e.ssim_mean}, min ${e.ssim_min} against live screenshots${e.ssim_ref_mean === null ? '' : `, mean ${e.ssim_ref_mean}, min ${e.ssim_ref_min} against the real-time rrweb replay`}`,
        `pictures the browser took: ${e.captured} for ${e.frames} GIF frames`,
        ...momentLines(e),
        ...behindPlainLines(e, p),
      ];
      return { row: this.name, lines, figures: { recording: s.what, window: [startS, endS], engine_vs_plain_wall_ratio: ratio, table: rows } };
    },
  };
}

const ABOUT = {
  rustdoc: 'rustdoc (std docs) journey, 30 s moment: engine vs plain, median step, bytes, SSIM',
  mdbook: 'mdBook (Rust by Example) journey, 30 s moment: engine vs plain, median step, bytes, SSIM',
  reading: 'reading the rustdoc Vec page with a wandering pointer, 30 s moment: engine vs plain, pictures per frame, bytes, SSIM',
  print: "the Rust Reference's print page (4.4 MB of HTML, ~120,000 layout objects), 30 s moment: engine vs plain, bytes, SSIM",
  nodedocs: 'the Node.js API docs (Debian\'s nodejs package; a site none of our fixtures imitate), 30 s moment: engine vs plain, bytes, SSIM',
  dashboard: 'a web application: bull-board (the queue dashboard, a React app) over BullMQ queues on Redis, 30 s moment: engine vs plain, bytes, SSIM',
  apidocs: "a web application: Swagger UI (a React app) over the service's OpenAPI document, 30 s moment: engine vs plain, bytes, SSIM",
  components: 'a web application built from web components: Shoelace (Lit, shadow roots, adopted stylesheets, `:not(:defined)` hidden), 30 s moment: engine vs plain, bytes, SSIM',
  bootstrap: "a page built from Bootstrap 5's components (its CSS and JavaScript), shots in the middle of its transitions, 30 s moment: engine vs plain, bytes, SSIM",
  mkdocs: "a documentation site in Material for MkDocs (Debian's mkdocs-material: instant navigation, palettes, tabs, tables styled by `:not([class])`), 30 s moment: engine vs plain, bytes, SSIM",
};

export const rustdocRow = heavyRow('rustdoc');
export const mdbookRow = heavyRow('mdbook');
export const readingRow = heavyRow('reading');
export const printRow = heavyRow('print');
export const nodeDocsRow = heavyRow('nodedocs');
export const dashboardRow = heavyRow('dashboard');
export const apiDocsRow = heavyRow('apidocs');
export const componentsRow = heavyRow('components');
export const bootstrapRow = heavyRow('bootstrap');
export const mkdocsRow = heavyRow('mkdocs');
