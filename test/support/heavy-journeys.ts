import type { Journey, JourneyContext } from './recorder.js';
import { APIDOCS_PATH } from './apidocs-site.js';
import { BOOTSTRAP_PATH } from './bootstrap-site.js';
import { COMPONENTS_PATH } from './components-site.js';
import { DASHBOARD_PATH } from './dashboard-site.js';
import { BIGDOM_MODULES, type HeavySiteKind } from './heavy-sites.js';

const DASHBOARD_QUEUE_PATH = `${DASHBOARD_PATH}/queue`;

/**
 * Journeys on big documentation pages (issue 8), each about 40 s so that a 30 s moment fits with
 * room either side, with a live screenshot at each still moment (no event of the tab in the second
 * before it). They run on the Rust docs (test/support/heavy-sites.ts) or, without them, on the
 * generated big-DOM site.
 */

/** Seconds every heavy journey lasts at least, and the moment the benchmark renders from it. */
export const HEAVY_MOMENT = { startS: 4, endS: 34 } as const;

const QUIET_MS = 1000;

function helpers(ctx: JourneyContext) {
  return {
    shot: (label: string) => ctx.shotWhenQuiet(label, QUIET_MS),
    /** Clicks the first visible match (moving there first) and waits for what it loads. */
    async click(selector: string) {
      const el = ctx.page.locator(`${selector} >> visible=true`).first();
      await el.scrollIntoViewIfNeeded();
      const box = await el.boundingBox();
      if (box) await ctx.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 10 });
      await el.click();
      await ctx.page.waitForLoadState('load');
    },
    /** Moves the pointer over the reading column, as someone about to scroll it. */
    async overContent(x = 700, y = 450) {
      await ctx.page.mouse.move(x, y, { steps: 8 });
    },
  };
}

/**
 * rustdoc (std): the Vec page (16,000 nodes), read and scrolled, a jump from the sidebar, the search
 * UI (typing a query, the results, opening one), a navigation to the Iterator trait, the settings
 * menu switching to the dark theme, and more scrolling in the dark theme.
 */
export const rustdocJourney: Journey = async (ctx) => {
  const { page, origin, idle, wheel } = ctx;
  const { shot, click, overContent } = helpers(ctx);
  await page.goto(`${origin}/std/vec/struct.Vec.html`);
  await shot('vec-top');
  await overContent();
  await idle(1500);
  await wheel(1600, 16);
  await shot('vec-examples');
  await idle(1200);
  await wheel(2400, 20);
  await shot('vec-guarantees');
  await click('.sidebar a[href="#method.capacity"]');
  await shot('vec-capacity');
  await idle(800);
  await click('#search-button');
  await page.keyboard.type('peekable', { delay: 140 });
  await shot('search-results');
  await click('#search .search-results a');
  await shot('peekable');
  await idle(1000);
  await click('a[href$="trait.Iterator.html"]');
  await shot('iterator-top');
  await overContent();
  await wheel(1500, 15);
  await shot('iterator-scrolled');
  await click('.settings-menu a');
  await shot('settings-open');
  await click('#theme-dark');
  await shot('settings-dark');
  await click('.settings-menu a');
  await overContent();
  await wheel(1200, 12);
  await shot('iterator-dark-scrolled');
  await idle(2500);
  await wheel(-600, 6);
  await shot('iterator-dark-back');
  // Past HEAVY_MOMENT's end on a fast machine too (a recording of 33.4 s left a 29.4 s moment).
  await idle(3500);
  await page.mouse.move(400, 300, { steps: 3 });
};

/**
 * mdBook (Rust by Example): the dark (navy) theme from the theme menu, the sidebar hidden, the search
 * (typing, results, opening one), the window made narrower and wide again, scrolling, and the next chapter.
 */
export const mdbookJourney: Journey = async (ctx) => {
  const { page, origin, idle, wheel } = ctx;
  const { shot, click, overContent } = helpers(ctx);
  await page.goto(`${origin}/rust-by-example/index.html`);
  await shot('rbe-intro');
  await idle(1000);
  await click('#mdbook-theme-toggle');
  await shot('theme-menu');
  await click('#mdbook-theme-navy');
  await shot('navy');
  await idle(2000);
  await overContent();
  await wheel(900, 9);
  await shot('navy-scrolled');
  await click('#mdbook-sidebar-toggle');
  await shot('sidebar-hidden');
  await click('#mdbook-search-toggle');
  await page.keyboard.type('closure', { delay: 140 });
  await shot('search-results');
  await idle(1500);
  await click('#mdbook-searchresults a');
  await shot('search-hit');
  await page.setViewportSize({ width: 1024, height: 800 });
  await shot('narrow');
  await page.setViewportSize({ width: 1280, height: 800 });
  await shot('wide-again');
  await idle(2000);
  await overContent(640, 450);
  await wheel(1500, 15);
  await shot('scrolled');
  await idle(1500);
  await wheel(1500, 15);
  await shot('scrolled-more');
  await click('.nav-chapters.next, a[rel="next"]');
  await shot('next-chapter');
  await idle(1500);
  await overContent(640, 450);
  await wheel(800, 8);
  await shot('next-chapter-scrolled');
  await idle(1500);
  await page.mouse.move(400, 300, { steps: 3 });
};

/**
 * The biggest real page at hand: the Rust Reference's print page (every chapter on one page: 4.4 MB
 * of HTML, about 120,000 layout objects, a container query on each of its thousands of rules), read
 * and scrolled far, the sidebar hidden, the coal theme, scrolled back and on again. The page takes
 * seconds to load, so the journey idles until it has lasted PRINT_JOURNEY_MS.
 */
export const printJourney: Journey = async (ctx) => {
  const { page, origin, idle, wheel } = ctx;
  const { shot, click, overContent } = helpers(ctx);
  const start = Date.now();
  await page.goto(`${origin}/reference/print.html`, { timeout: 60_000 });
  await shot('print-top');
  await overContent(640, 450);
  await idle(1500);
  await wheel(3000, 20);
  await shot('print-scrolled');
  await idle(1500);
  await wheel(6000, 30);
  await shot('print-far');
  await click('#mdbook-sidebar-toggle');
  await shot('print-sidebar-hidden');
  await click('#mdbook-theme-toggle');
  await click('#mdbook-theme-coal');
  await shot('print-coal');
  await idle(1500);
  await overContent(640, 450);
  await wheel(-2500, 15);
  await shot('print-back');
  await idle(1500);
  await wheel(4000, 25);
  await shot('print-on');
  await idle(Math.max(2500, PRINT_JOURNEY_MS - (Date.now() - start)));
  await page.mouse.move(400, 300, { steps: 3 });
};

/** How long the print journey lasts at least: HEAVY_MOMENT's end and a few seconds to spare. */
const PRINT_JOURNEY_MS = 40_000;

/** The generated big-DOM site: the same kinds of action as the rustdoc journey. */
export const bigdomJourney: Journey = async (ctx) => {
  const { page, origin, idle, wheel } = ctx;
  const { shot, click, overContent } = helpers(ctx);
  await page.goto(`${origin}/module/m3.html`);
  await shot('module-top');
  await overContent();
  await idle(1500);
  await wheel(1600, 16);
  await shot('module-scrolled');
  await idle(1200);
  await wheel(2400, 20);
  await shot('module-deep');
  await click('.sidebar a[href="#item-120"]');
  await shot('item-jump');
  await click('#q');
  await page.keyboard.type('buffer', { delay: 140 });
  await shot('search-results');
  await idle(2000);
  await click('#results a');
  await shot('search-hit');
  await idle(1000);
  await click(`.sidebar a[href="/module/m${BIGDOM_MODULES - 1}.html"]`);
  await shot('other-module');
  await idle(2000);
  await overContent();
  await wheel(1500, 15);
  await shot('other-module-scrolled');
  await click('#theme');
  await shot('dark');
  await idle(2000);
  await overContent();
  await wheel(1200, 12);
  await shot('dark-scrolled');
  await idle(2500);
  await wheel(-600, 6);
  await shot('dark-back');
  await idle(3500);
  await page.mouse.move(400, 300, { steps: 3 });
};

/**
 * Someone reading a long page, as people do: the pointer wanders over the text most of the time (a
 * position every 50 ms, passing over links), rests now and then, and the page is scrolled with the
 * wheel between stretches of reading. The scripted journeys above move the pointer in one jump per
 * action; this one moves it the way a person's hand does, which is what most recorded time looks like.
 */
function readingJourney(path: string): Journey {
  return async (ctx) => {
    const { page, origin, idle, wheel } = ctx;
    const { shot } = helpers(ctx);
    let t = 0;
    /** The pointer drifting over the reading column for `ms`, along a smooth path that sweeps its lines. */
    const wander = async (ms: number) => {
      for (const end = t + ms; t < end; t += 50) {
        const s = t / 1000;
        await page.mouse.move(560 + 260 * Math.sin(s * 0.9) + 40 * Math.sin(s * 3.1), 420 + 200 * Math.sin(s * 0.37) + 25 * Math.cos(s * 2.3));
        await idle(50);
      }
    };
    await page.goto(`${origin}${path}`);
    await shot('top');
    await wander(5000);
    await shot('reading-1');
    await wheel(900, 9);
    await wander(6000);
    await shot('reading-2');
    await wander(4000);
    await wheel(1400, 14);
    await wander(6000);
    await shot('reading-3');
    await wander(5000);
    await wheel(-500, 5);
    await wander(5000);
    await shot('reading-4');
    await wander(3000);
    await idle(1000);
  };
}

/**
 * The Node.js API docs (a site none of our fixtures imitate): the fs page, the dark theme from its
 * toggle, scrolling, a version history opened (a <summary> clicked: no focus ring), past code blocks
 * whose CJS/ESM toggles the page's script set (checked in the markup, unchecked by the script), a
 * picker opened by hovering, the path page from the sidebar, and scrolling there.
 */
export const nodeDocsJourney: Journey = async (ctx) => {
  const { page, origin, idle, wheel } = ctx;
  const { shot, click, overContent } = helpers(ctx);
  await page.goto(`${origin}/fs.html`);
  await shot('fs-top');
  await idle(1500);
  // The toggle is in the header: clicked where it is, before scrolling takes the header away.
  const toggle = await page.locator('#theme-toggle-btn').boundingBox();
  if (toggle) {
    await page.mouse.move(toggle.x + toggle.width / 2, toggle.y + toggle.height / 2, { steps: 10 });
    await page.mouse.click(toggle.x + toggle.width / 2, toggle.y + toggle.height / 2);
  }
  await shot('dark');
  await overContent();
  await idle(1500);
  await wheel(2500, 20);
  await shot('dark-scrolled');
  await click('details.changelog summary');
  await shot('history-open');
  await idle(1500);
  await overContent();
  await wheel(3000, 20);
  await shot('code-blocks');
  await idle(2000);
  await wheel(-8000, 30);
  await page.hover('.picker-header >> visible=true');
  await shot('picker-open');
  await overContent();
  await click('#column2 a[href="path.html"]');
  await shot('path-top');
  await overContent();
  await idle(1500);
  await wheel(1800, 15);
  await shot('path-scrolled');
  await idle(2000);
  await wheel(2400, 16);
  await shot('path-further');
  await idle(3500);
  await page.mouse.move(400, 300, { steps: 3 });
};

/**
 * A web application (bull-board, the queue dashboard: test/support/dashboard-site.ts): the overview,
 * a queue card's menu opened and closed with Escape, a queue, its failed jobs scrolled, a job's
 * tabs, the completed jobs, the settings dialog with its theme popup set to dark, the sidebar slid
 * away and back, the Redis dialog, and the queue filter typed into.
 */
export const dashboardJourney: Journey = async (ctx) => {
  const { page, origin, idle, wheel } = ctx;
  const { shot, click } = helpers(ctx);
  const press = async (selector: string, nth: number) => {
    const el = page.locator(selector).nth(nth);
    const box = await el.boundingBox();
    if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 10 });
    await el.click();
  };
  const queue = `${DASHBOARD_QUEUE_PATH}/rasterize`;
  await page.goto(`${origin}${DASHBOARD_PATH}/`);
  await shot('overview');
  await idle(1000);
  await press('main button[aria-haspopup="menu"]', 1);
  await shot('card-menu');
  await page.keyboard.press('Escape');
  await shot('menu-closed');
  await click(`a[href="${queue}"]`);
  await shot('queue-latest');
  await click(`a[href="${queue}?status=failed"]`);
  await shot('failed');
  await page.mouse.move(700, 500, { steps: 5 });
  await wheel(700, 10);
  await shot('failed-scrolled');
  await click('button:has-text("Data")');
  await shot('job-data');
  await click('button:has-text("Logs")');
  await shot('job-logs');
  await click(`a[href="${queue}?status=completed"]`);
  await shot('completed');
  await press('header li button', -1);
  await shot('settings');
  await press('[role=dialog] button[aria-haspopup]', 2);
  await shot('theme-options');
  await click('[role=option]:has-text("Dark")');
  await shot('dark-chosen');
  await click('[role=dialog] button:has-text("Close")');
  await shot('dark-queue');
  await click('button[aria-label="Collapse sidebar"]');
  await shot('sidebar-collapsed');
  await press('header li button', 0);
  await shot('redis');
  await click('[role=dialog] button:has-text("Close")');
  await shot('redis-closed');
  await click('button[aria-label="Expand sidebar"]');
  await shot('sidebar-back');
  await click('input[placeholder]');
  await page.keyboard.type('thumb', { delay: 120 });
  await shot('filtered');
  await idle(3500);
  await page.mouse.move(400, 300, { steps: 3 });
};

/**
 * Swagger UI over the service's OpenAPI document (test/support/apidocs-site.ts): an operation
 * expanded, "Try it out", the request body edited and sent (the service's 401 comes back), the
 * authorize dialog, a schema unfolded, the operations filtered.
 */
export const apiDocsJourney: Journey = async (ctx) => {
  const { page, origin, idle, wheel } = ctx;
  const { shot, click } = helpers(ctx);
  const op = '#operations-default-post_v1_rasterize';
  await page.goto(`${origin}${APIDOCS_PATH}`);
  await page.locator(`${op}`).waitFor();
  await shot('overview');
  await idle(1000);
  await click(`${op} .opblock-summary-control`);
  await shot('rasterize-open');
  await click(`${op} .try-out__btn`);
  await shot('try-out');
  await click(`${op} textarea.body-param__text`);
  await page.keyboard.press('Control+A');
  await page.keyboard.type('{"session_id": "sess-42", "team_id": 1, "start_s": 10, "end_s": 40}', { delay: 40 });
  await shot('body-typed');
  await click(`${op} .execute`);
  await page.locator(`${op} .live-responses-table`).waitFor();
  await shot('executed');
  await page.mouse.move(700, 450, { steps: 5 });
  await wheel(700, 10);
  await shot('response-scrolled');
  await click('.btn.authorize');
  await shot('authorize');
  await click('.dialog-ux input');
  await page.keyboard.type('not-the-token', { delay: 60 });
  await shot('token-typed');
  await click('.dialog-ux .btn-done');
  await shot('authorize-closed');
  await click(`${op} .opblock-summary-control`);
  await shot('rasterize-closed');
  await click('.models article .json-schema-2020-12-accordion');
  await shot('schema-open');
  await click('.models article .json-schema-2020-12-expand-deep-button');
  await shot('schema-expanded');
  await page.mouse.move(700, 450, { steps: 5 });
  await wheel(900, 10);
  await shot('schemas-scrolled');
  await click('input.operation-filter-input');
  await page.keyboard.type('preview', { delay: 120 });
  await shot('filtered');
  await idle(3500);
  await page.mouse.move(400, 300, { steps: 3 });
};

/**
 * An account settings page built from Shoelace's web components (test/support/components-site.ts):
 * an email fixed, a region chosen from a select, a line typed, a theme picked, the form saved (a
 * spinner, a toast), the security tab with a password typed, a switch and a details panel, the
 * delete dialog opened, typed into and dismissed, the user menu, a checkbox, the plan tab, a tooltip.
 */
export const componentsJourney: Journey = async (ctx) => {
  const { page, origin, idle } = ctx;
  const { shot, click } = helpers(ctx);
  await page.goto(`${origin}${COMPONENTS_PATH}`);
  await page.waitForFunction(`['sl-tab-group', 'sl-select', 'sl-input', 'sl-dialog'].every((n) => customElements.get(n))`);
  await shot('overview');
  await idle(500);
  await click('sl-input[name=email]');
  await page.keyboard.type('.com', { delay: 80 });
  await shot('email-typed');
  await click('sl-select[name=region]');
  await shot('select-open');
  await click('sl-option[value=eu-central]');
  await shot('select-chosen');
  await click('sl-textarea[name=bio]');
  await page.keyboard.type('Engineer.', { delay: 60 });
  await click('sl-radio-button[value=dark]');
  await shot('radio');
  await click('#save');
  await page.locator('sl-alert#saved[open]').waitFor();
  await shot('saved');
  await click('sl-tab[panel=security]');
  await shot('security');
  await click('#new-password');
  await page.keyboard.type('short', { delay: 80 });
  await click('sl-switch#two-factor');
  await shot('switch-on');
  await click('sl-details[summary="Active sessions"]');
  await shot('details-open');
  await click('#delete');
  await shot('dialog-open');
  await click('#confirm');
  await page.keyboard.type('DEL', { delay: 100 });
  await shot('confirm-typed');
  await click('#keep');
  await shot('dialog-closed');
  await click('#user-button');
  await shot('menu-open');
  await page.keyboard.press('Escape');
  await click('sl-tab[panel=notifications]');
  await shot('notifications');
  await click('sl-checkbox:has-text("Product news")');
  await click('sl-tab[panel=plan]');
  await shot('plan');
  await ctx.moveTo('sl-icon-button[name=bell]');
  await shot('tooltip');
  await idle(3500);
  await page.mouse.move(400, 300, { steps: 3 });
};

/**
 * A page built from Bootstrap 5 (test/support/bootstrap-site.ts), its transitions at Bootstrap's own
 * lengths: an accordion opened and another closed, a tooltip, the navbar's dropdown, a modal over its
 * backdrop opened and closed, the carousel moved on twice, a toast, the offcanvas panel opened and
 * closed, a tab, a collapse, a floating label typed into, the first accordion item again. Besides
 * shots of the page at rest, shots in the middle of transitions, on the GIF's 10 fps grid (from the
 * recording's first event) so that each is compared with a frame drawn at its time.
 */
export const bootstrapJourney: Journey = async (ctx) => {
  const { page, origin, idle, shotAt } = ctx;
  const { shot, click } = helpers(ctx);
  await page.goto(`${origin}${BOOTSTRAP_PATH}`);
  const t0 = await ctx.firstEventTs();
  const onSlot = (at: number) => t0 + Math.ceil((at - t0) / 100) * 100;
  /** Clicks, then shoots the transition it starts at each of `midMs` after the click (on the grid), then at rest. */
  const transition = async (selector: string, label: string, midMs: number[]) => {
    await click(selector);
    const t = Date.now();
    for (const [i, ms] of midMs.entries()) await shotAt(`${label}-mid-${i + 1}`, onSlot(t + ms));
    await shot(label);
  };
  await shot('overview');
  await idle(2500);
  await transition('#acc2', 'accordion-2', [100, 200]);
  await ctx.moveTo('#tip');
  await shot('tooltip');
  await click('#drop');
  await shot('dropdown');
  await page.keyboard.press('Escape');
  await transition('#open-modal', 'modal-open', [100, 250]);
  await transition('#close-modal', 'modal-closed', [100]);
  await transition('#next', 'carousel-2', [200, 400]);
  await transition('#next', 'carousel-3', [300]);
  await transition('#toast-btn', 'toast', [100]);
  await transition('#offcanvas-btn', 'offcanvas-open', [150]);
  await transition('#offcanvas-close', 'offcanvas-closed', [150]);
  await transition('#tab2', 'tab-2', []);
  await transition('#collapse-btn', 'collapse', [200]);
  await click('#fl');
  await page.keyboard.type('ada@example.com', { delay: 80 });
  await shot('typed');
  await transition('.accordion-button:not(#acc2)', 'accordion-1', [150]);
  // The carousel's own ride is off; the progress bar's stripes and the spinners move on their own.
  await idle(8000);
  await shot('idle');
  await page.mouse.move(400, 300, { steps: 3 });
};

/**
 * A documentation site in Material for MkDocs (test/support/mkdocs-site.ts): the home page scrolled,
 * the dark palette, the Guide tab (a page swapped in place), a folded warning opened, a code tab,
 * a long scroll with the pointer over the text (every table passes under it), the back-to-top
 * button shown and clicked, the search typed and a result opened, the Reference tab scrolled, the
 * light palette again.
 */
export const mkdocsJourney: Journey = async (ctx) => {
  const { page, origin, idle, wheel } = ctx;
  const { shot, click, overContent } = helpers(ctx);
  await page.goto(`${origin}/`);
  await shot('home');
  await idle(2000);
  await overContent(500, 450);
  await wheel(900, 6);
  await shot('home-scrolled');
  await click('label[for^=__palette]');
  await shot('dark');
  await click('.md-tabs__link >> text=Guide');
  await shot('guide');
  await overContent(500, 450);
  await wheel(700, 5);
  await click('details.warning > summary');
  await shot('details-open');
  await click('.tabbed-labels label:nth-child(2)');
  await shot('js-tab');
  await overContent(500, 300);
  await wheel(2500, 10);
  await shot('far-down');
  await page.mouse.move(640, 10, { steps: 5 });
  await wheel(-300, 3);
  await shot('top-button');
  await click('.md-top');
  await shot('back-at-top');
  await click('.md-search__input');
  await page.keyboard.type('retries', { delay: 100 });
  await shot('search');
  await click('.md-search-result__link');
  await shot('result');
  await idle(1000);
  await click('.md-tabs__link >> text=Reference');
  await shot('reference');
  await overContent(500, 450);
  await wheel(1800, 10);
  await shot('reference-scrolled');
  await idle(1000);
  await click('label[for^=__palette]');
  await shot('light');
  await overContent(500, 450);
  await wheel(1200, 8);
  await shot('light-scrolled');
  await idle(5000);
  await page.mouse.move(400, 300, { steps: 3 });
};

/** The journey for a heavy row: rustdoc, mdBook or the Reference's print page on the Rust docs, the generated site otherwise; `reading` on either. */
export function heavyJourney(kind: HeavySiteKind, which: 'rustdoc' | 'mdbook' | 'reading' | 'print'): { name: string; journey: Journey } {
  if (which === 'reading') {
    return kind === 'bigdom'
      ? { name: 'reading (a wandering pointer) on the big-DOM site', journey: readingJourney('/module/m3.html') }
      : { name: 'reading (a wandering pointer) on the rustdoc Vec page', journey: readingJourney('/std/vec/struct.Vec.html') };
  }
  if (kind === 'bigdom') return { name: 'big-DOM', journey: bigdomJourney };
  if (which === 'print') return { name: "the Rust Reference's print page", journey: printJourney };
  return which === 'rustdoc' ? { name: 'rustdoc (std)', journey: rustdocJourney } : { name: 'mdBook (Rust by Example)', journey: mdbookJourney };
}
