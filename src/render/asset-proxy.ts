import type { BrowserContext, Route } from 'playwright-core';
import { isRasterizerError } from '../errors.js';
import { animationTimingHeader, imageAnimation } from './animated-image.js';
import type { AssetCache, CachedResponse } from './asset-cache.js';
import { documentStylesheets, LINKED_STYLESHEETS_PATH, stylesheetPage, type DocumentStylesheets } from './lost-css.js';
import { NetworkPolicy } from './network-policy.js';
import type { PlayerAssets } from './player-bundle.js';

/**
 * Prefetches in flight at once. The page asks for a built page's assets all at once (the proxy
 * fetches whatever it asks for at once), so one it asks for before a prefetch starts gains nothing:
 * at 6 at a time, the fixture shop's 12 came in two round trips, the second after a Chromium that
 * started in 70 ms had asked for them (test/asset-prefetch.test.ts).
 */
const PREFETCH_CONCURRENCY = 16;

/** The player page's origin. `.invalid` never resolves, so nothing but our route can answer for it. */
export const PLAYER_ORIGIN = 'http://player.rasterizer.invalid';

/**
 * Answers every request of a render's browser context from Node: the player page from memory, and
 * every asset of the replay through the network policy. Responses get `Access-Control-Allow-Origin`
 * so fonts load even when the recorded site sent no CORS headers, and are cached for the render
 * (and, given the worker's cache, for later renders as HTTP allows: asset-cache.ts).
 */
export class AssetProxy {
  private cache = new Map<string, Promise<CachedResponse>>();
  failures = 0;
  refusals: string[] = [];
  /** Fetched ahead (prefetch), and of those, asked for by the page. */
  readonly prefetch = { urls: 0, used: 0 };
  private readonly prefetched = new Set<string>();
  /** What each page's document says of its stylesheets, read once: the prefetch and the player both ask. */
  private readonly documents = new Map<string, Promise<DocumentStylesheets>>();
  /** Answers the page got from the cache shared between renders, not from the site. */
  fromSharedCache = 0;

  constructor(
    private readonly policy: NetworkPolicy,
    private readonly player: Promise<PlayerAssets>,
    private readonly signal?: AbortSignal,
    private readonly shared?: AssetCache,
  ) {}

  /**
   * Fetches `urls` before the page asks (asset-prefetch.ts), PREFETCH_CONCURRENCY at a time in the
   * order given (the first page's first). A failure is nobody's until the page asks for that URL:
   * then it is refused or failed as if fetched then.
   */
  startPrefetch(urls: readonly string[]): void {
    // What the shared cache holds needs no fetch ahead: it is answered at once when asked for.
    const queue = urls.filter((u) => !this.cache.has(u) && !this.shared?.has(this.policy.scope, u));
    const next = async (): Promise<void> => {
      for (let url = queue.shift(); url !== undefined && !this.signal?.aborted; url = queue.shift()) {
        // Counted when it starts: one the page asked for first, or a render that ended, is not.
        if (this.cache.has(url)) continue;
        this.prefetch.urls++;
        this.prefetched.add(url);
        const res = await this.fetchCached(url).catch(() => null);
        // A page's document, asked for the stylesheets it links (asset-prefetch.ts): the player
        // fetches those next, so they come ahead of the rest (a round trip less from a far site).
        if (res?.status === 200 && /html/i.test(res.contentType ?? '') && stylesheetPage(url) === url) {
          const { links } = await this.documentStylesheets(url);
          queue.unshift(...links.filter((l) => !this.cache.has(l) && !queue.includes(l)));
        }
      }
    };
    for (let i = 0; i < PREFETCH_CONCURRENCY; i++) void next();
  }

  async attach(context: BrowserContext): Promise<void> {
    await context.route('**/*', (route) => this.handle(route));
  }

  private async handle(route: Route): Promise<void> {
    const request = route.request();
    const url = request.url();
    if (url.startsWith(PLAYER_ORIGIN + '/')) return this.servePlayer(route, new URL(url));
    if (request.method() !== 'GET' && request.method() !== 'HEAD') {
      this.refuse(url, `method ${request.method()}`);
      return route.abort('blockedbyclient').catch(() => {});
    }
    try {
      if (this.prefetched.delete(url)) this.prefetch.used++;
      const res = await this.fetchCached(url);
      if (res.status >= 400) this.failures++;
      await route.fulfill({
        status: res.status,
        headers: {
          ...(res.contentType ? { 'content-type': res.contentType } : {}),
          'access-control-allow-origin': '*',
          'cache-control': 'no-store',
          // The replayed document is of another origin than the assets: it may read their timing.
          'timing-allow-origin': '*',
          ...(res.animation ? { 'server-timing': animationTimingHeader(res.animation) } : {}),
        },
        body: res.body,
      });
    } catch (err) {
      this.refuse(url, isRasterizerError(err, 'network_policy') ? err.message : `fetch failed: ${(err as Error).message}`);
      await route.abort(isRasterizerError(err, 'network_policy') ? 'blockedbyclient' : 'failed').catch(() => {});
    }
  }

  /** One fetch a URL for the render, whoever asks first; none when the shared cache has it. */
  private fetchCached(url: string): Promise<CachedResponse> {
    let pending = this.cache.get(url);
    if (!pending) {
      const kept = this.shared?.get(this.policy.scope, url);
      if (kept) {
        this.fromSharedCache++;
        pending = Promise.resolve(kept);
      } else {
        pending = this.policy.fetch(url, this.signal).then((r) => {
          const answer: CachedResponse = {
            status: r.status,
            contentType: r.contentType,
            body: r.body,
            animation: r.status < 300 ? imageAnimation(r.body) : undefined,
          };
          // Redirected: the redirect's own lifetime is not known (a 302 to a signed URL, say).
          if (r.finalUrl === url) this.shared?.offer(this.policy.scope, url, answer, r.headers);
          return answer;
        });
      }
      this.cache.set(url, pending);
    }
    return pending;
  }

  private refuse(url: string, why: string): void {
    this.failures++;
    if (this.refusals.length < 50) this.refusals.push(`${url.slice(0, 200)}: ${why}`);
  }

  /**
   * The stylesheets `page`'s document links, and its style elements' text (player/stylesheets.ts
   * asks, to find the sheets the recording lost declarations from): read here so that the document,
   * often the biggest thing a page fetches, does not cross to the browser. None when the document
   * cannot be had; that is not one of the replay's asset failures.
   */
  private documentStylesheets(page: string | null): Promise<DocumentStylesheets> {
    const none = { links: [], styles: [] };
    if (page === null || stylesheetPage(page) !== page) return Promise.resolve(none);
    let read = this.documents.get(page);
    if (!read) {
      read = this.fetchCached(page).then(
        (res) => (res.status === 200 && /html/i.test(res.contentType ?? '') ? documentStylesheets(res.body.toString('utf8'), page) : none),
        () => none,
      );
      this.documents.set(page, read);
    }
    return read;
  }

  /** Resolves once the player page can be served (rejects as its bundling did). */
  async playerReady(): Promise<void> {
    await this.player;
  }

  private async servePlayer(route: Route, url: URL): Promise<void> {
    const path = url.pathname;
    if (path === LINKED_STYLESHEETS_PATH) {
      const page = url.searchParams.get('page');
      if (page !== null && this.prefetched.delete(page)) this.prefetch.used++;
      const sheets = await this.documentStylesheets(page);
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(sheets) });
    }
    // openIn waited for the player (playerReady) before the page asked for it.
    if (path === '/' || path === '/index.html') {
      return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: (await this.player).html });
    }
    if (path === '/player.js') {
      return route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: (await this.player).js });
    }
    return route.fulfill({ status: 404, body: '' });
  }
}
