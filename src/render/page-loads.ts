import type { CDPSession } from 'playwright-core';

/**
 * A request the page reported and never reported the end of (a load the devtools agent does not
 * close, in a document torn down mid-load) stops counting after this; the network policy gives up
 * on a request at 8 s anyway.
 */
const FORGOTTEN_AFTER_MS = 10_000;

/**
 * What the replayed page is loading, as the page itself reports it: the devtools Network events on
 * the CDP session the player's steps are sent on. A request counts from the moment the page makes
 * it (a style change asks for a background image), which is before the step that made it answers
 * on the same session; it reaches the asset proxy only later, through the browser and Playwright,
 * and a quiet stretch after the step could be skipped whole before it did (measured under load: a
 * CSS background that loaded after the last picture of the clip's quiet stretch, so the GIF never
 * showed it).
 */
export class PageLoads {
  private readonly open = new Map<string, number>();
  private idleWaiters: (() => void)[] = [];
  /** Bumped when a request starts or ends: the picture may have changed since the last capture. */
  activity = 0;

  private constructor() {}

  /** Starts following the page's requests on `cdp` (the session the player's steps use). */
  static async follow(cdp: CDPSession): Promise<PageLoads> {
    const loads = new PageLoads();
    // Not media: a video or audio element streams its source and leaves the request open while
    // its buffer is full (a 1 MB video held every step of a render at the 1.5 s asset cap until the
    // render's asset budget was gone). A video's pictures come from player/video.ts, which waits
    // for its own load within the step.
    cdp.on('Network.requestWillBeSent', (e) => {
      if (e.type !== 'Media') loads.started(e.requestId);
    });
    cdp.on('Network.loadingFinished', (e) => loads.ended(e.requestId));
    cdp.on('Network.loadingFailed', (e) => loads.ended(e.requestId));
    // No response bodies kept for this session: only the events are wanted.
    await cdp.send('Network.enable', { maxTotalBufferSize: 0, maxResourceBufferSize: 0 });
    return loads;
  }

  get inflight(): number {
    const now = performance.now();
    for (const [id, since] of this.open) if (now - since > FORGOTTEN_AFTER_MS) this.ended(id);
    return this.open.size;
  }

  /** Resolves when nothing is in flight, or after `ms`. */
  waitIdle(ms: number): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }

  private started(id: string): void {
    // A redirect is the same request going on.
    if (this.open.has(id)) return;
    this.open.set(id, performance.now());
    this.activity++;
  }

  private ended(id: string): void {
    if (!this.open.delete(id)) return;
    this.activity++;
    if (this.open.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
