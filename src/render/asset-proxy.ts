import type { BrowserContext, Route } from 'playwright-core';
import { isRasterizerError } from '../errors.js';
import { animationTimingHeader, imageAnimation, type ImageAnimation } from './animated-image.js';
import { NetworkPolicy } from './network-policy.js';
import type { PlayerAssets } from './player-bundle.js';

/** The player page's origin. `.invalid` never resolves, so nothing but our route can answer for it. */
export const PLAYER_ORIGIN = 'http://player.rasterizer.invalid';

interface CachedResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
  /** Set when the body is an animated image: the player captures it while it is on screen. */
  animation?: ImageAnimation;
}

/**
 * Answers every request of a render's browser context from Node: the player page from memory, and
 * every asset of the replay through the network policy. Responses get `Access-Control-Allow-Origin`
 * so fonts load even when the recorded site sent no CORS headers, and are cached for the render.
 */
export class AssetProxy {
  private cache = new Map<string, Promise<CachedResponse>>();
  failures = 0;
  refusals: string[] = [];

  constructor(
    private readonly policy: NetworkPolicy,
    private readonly player: PlayerAssets,
    private readonly signal?: AbortSignal,
  ) {}

  async attach(context: BrowserContext): Promise<void> {
    await context.route('**/*', (route) => this.handle(route));
  }

  private async handle(route: Route): Promise<void> {
    const request = route.request();
    const url = request.url();
    if (url.startsWith(PLAYER_ORIGIN + '/')) return this.servePlayer(route, new URL(url).pathname);
    if (request.method() !== 'GET' && request.method() !== 'HEAD') {
      this.refuse(url, `method ${request.method()}`);
      return route.abort('blockedbyclient').catch(() => {});
    }
    try {
      let pending = this.cache.get(url);
      if (!pending) {
        pending = this.policy.fetch(url, this.signal).then((r) => ({
          status: r.status,
          contentType: r.contentType,
          body: r.body,
          animation: r.status < 300 ? imageAnimation(r.body) : undefined,
        }));
        this.cache.set(url, pending);
      }
      const res = await pending;
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

  private refuse(url: string, why: string): void {
    this.failures++;
    if (this.refusals.length < 50) this.refusals.push(`${url.slice(0, 200)}: ${why}`);
  }

  private servePlayer(route: Route, path: string): Promise<void> {
    if (path === '/' || path === '/index.html') {
      return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: this.player.html });
    }
    if (path === '/player.js') {
      return route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: this.player.js });
    }
    return route.fulfill({ status: 404, body: '' });
  }
}
