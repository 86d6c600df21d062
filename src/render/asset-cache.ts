import CachePolicy from 'http-cache-semantics';
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { ImageAnimation } from './animated-image.js';

/** One answer of the site as the replay page gets it. */
export interface CachedResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
  /** Set when the body is an animated image: the player captures it while it is on screen. */
  animation?: ImageAnimation;
}

export interface AssetCacheOptions {
  /** Bytes of bodies kept at most; the least recently used go first. */
  maxBytes: number;
  /** Longest an answer is kept, however long the site says it stays fresh. */
  maxAgeMs: number;
}

/** What an entry costs beyond its body (key, headers, bookkeeping), so many tiny answers still count. */
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * Answers kept across the renders of one process: the worker's. A session's problems arrive as
 * several jobs of the same recording, and every job would otherwise fetch each font, stylesheet and
 * picture again from the recorded site, across the internet, while its first frame waits.
 *
 * Only what HTTP lets a shared cache reuse without asking the site (http-cache-semantics, shared:
 * not `no-store`, `private` or `no-cache`; fresh by its max-age, Expires or, for a file with
 * Last-Modified and no freshness of its own, the usual tenth of its age), and never longer than
 * `maxAgeMs`. Each entry belongs to a scope, the network policy's rules (NetworkPolicy.scope): an
 * answer fetched under one set of allowed origins is never handed to a render under another.
 */
export class AssetCache {
  private readonly lru: LRUCache<string, CachedResponse>;
  /** Answers handed out from the cache, and answers kept in it, since the process started. */
  readonly counts = { hits: 0, stored: 0 };

  constructor(private readonly options: AssetCacheOptions) {
    this.lru = new LRUCache<string, CachedResponse>({
      maxSize: options.maxBytes,
      // No one answer may take more than a quarter of the cache (a hostile page could push out the rest).
      maxEntrySize: Math.max(1, Math.floor(options.maxBytes / 4)),
      sizeCalculation: (r) => r.body.length + ENTRY_OVERHEAD_BYTES,
      ttl: options.maxAgeMs,
    });
  }

  /** A fresh answer for `url` under `scope`, if one is kept. */
  get(scope: string, url: string): CachedResponse | undefined {
    const hit = this.lru.get(key(scope, url));
    if (hit) this.counts.hits++;
    return hit;
  }

  has(scope: string, url: string): boolean {
    return this.lru.has(key(scope, url));
  }

  /**
   * Keeps the answer when HTTP lets a shared cache reuse it (a failure never); says whether it did.
   * Every render asks with the same request headers, so only `Vary: *` matters, and it gives no
   * lifetime (http-cache-semantics).
   */
  offer(scope: string, url: string, response: CachedResponse, headers: IncomingHttpHeaders): boolean {
    if (response.status !== 200) return false;
    const policy = new CachePolicy({ url, method: 'GET', headers: {} }, { status: response.status, headers }, { shared: true });
    const ttl = Math.min(policy.timeToLive(), this.options.maxAgeMs);
    if (!policy.storable() || ttl <= 0) return false;
    this.lru.set(key(scope, url), response, { ttl });
    if (!this.lru.has(key(scope, url))) return false;
    this.counts.stored++;
    return true;
  }

  /** Bytes held now (bodies and their overhead). */
  get size(): number {
    return this.lru.calculatedSize;
  }
}

function key(scope: string, url: string): string {
  return `${scope}\n${url}`;
}
