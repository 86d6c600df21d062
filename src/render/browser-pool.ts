import type { Browser } from 'playwright-core';
import type { Logger } from '../observability/logger.js';
import { withDeadline } from '../util/deadline.js';
import { launchBrowser } from './browser.js';

/**
 * The engine's launchBrowser() (same binary and flags) minus Playwright's signal handlers: by default
 * Playwright closes its browsers on SIGTERM/SIGINT/SIGHUP, which would kill the renders a worker is
 * draining on SIGTERM. The pool closes its browsers itself once the jobs are done.
 */
export function launchPoolBrowser(): Promise<Browser> {
  return launchBrowser({ handleSIGTERM: false, handleSIGINT: false, handleSIGHUP: false });
}

/** A browser lent to one job, and to that job only. Release it when the job is over, whatever happened. */
export interface BrowserLease {
  browser: Browser;
  release(): Promise<void>;
  /**
   * Closes the browser now, whatever it is doing (a render that stopped answering): calls pending in
   * it fail, so the render settles. The next job gets a fresh browser.
   */
  discard(reason: string): Promise<void>;
}

interface Slot {
  browser: Browser;
  jobsStarted: number;
  busy: boolean;
  retired: boolean;
}

/** How long a browser gets to close before the pool stops waiting for it. */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * Warm Chromium processes, one per job running at once: a browser renders one job at a time (the
 * render engine drives frames with HeadlessExperimental.beginFrame, and two pages doing that in one
 * browser crash its GPU process: "overlapping IssueExternalBeginFrame"). Each job still gets a fresh
 * context in its browser. An idle browser waits for the next job; after `recycleAfter` jobs it is
 * closed when its job ends, which bounds the memory a long-lived browser accumulates. A browser that
 * disconnects (crash, OOM kill) is dropped at once and the next job launches a new one.
 */
export class BrowserPool {
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private closed = false;
  /** Browsers launched so far (tests and logs). */
  launches = 0;

  constructor(
    private readonly options: { recycleAfter: number; logger?: Logger; launch?: () => Promise<Browser> },
  ) {}

  async acquire(): Promise<BrowserLease> {
    if (this.closed) throw new Error('browser pool is closed');
    let slot: Slot | undefined;
    while (!slot && this.idle.length > 0) {
      const candidate = this.idle.pop()!;
      if (!candidate.retired && candidate.browser.isConnected()) slot = candidate;
      else void this.closeSlot(candidate);
    }
    slot ??= await this.launch();
    slot.busy = true;
    slot.jobsStarted++;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      slot.busy = false;
      if (this.closed || slot.retired || !slot.browser.isConnected() || slot.jobsStarted >= this.options.recycleAfter) {
        await this.closeSlot(slot);
      } else {
        this.idle.push(slot);
      }
    };
    return {
      browser: slot.browser,
      release,
      discard: async (reason: string) => {
        this.options.logger?.warn({ reason }, 'closing a browser that stopped answering');
        slot.retired = true;
        await this.closeSlot(slot);
      },
    };
  }

  /** The most recently launched browser still running, if any (tests use it to simulate a crash). */
  get browser(): Browser | undefined {
    return [...this.slots].reverse().find((s) => !s.retired && s.browser.isConnected())?.browser;
  }

  /** Browsers running now (busy or idle). */
  get size(): number {
    return this.slots.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    await Promise.all([...this.slots].map((s) => this.closeSlot(s)));
  }

  private async launch(): Promise<Slot> {
    const browser = await (this.options.launch ?? launchPoolBrowser)();
    const slot: Slot = { browser, jobsStarted: 0, busy: false, retired: false };
    this.launches++;
    this.slots.add(slot);
    browser.on('disconnected', () => {
      if (!slot.retired) this.options.logger?.warn({ launches: this.launches }, 'browser disconnected; the next job starts a new one');
      slot.retired = true;
      this.slots.delete(slot);
      const i = this.idle.indexOf(slot);
      if (i >= 0) this.idle.splice(i, 1);
    });
    if (this.closed) {
      await this.closeSlot(slot);
      throw new Error('browser pool is closed');
    }
    this.options.logger?.debug({ launches: this.launches }, 'browser launched');
    return slot;
  }

  private async closeSlot(slot: Slot): Promise<void> {
    slot.retired = true;
    this.slots.delete(slot);
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    if (!slot.browser.isConnected()) return;
    await withDeadline(slot.browser.close(), CLOSE_TIMEOUT_MS, 'closing a browser').catch((err: unknown) =>
      this.options.logger?.warn({ err: { message: (err as Error).message } }, 'closing a browser failed; leaving it'),
    );
  }
}
