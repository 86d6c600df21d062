import type { Browser } from 'playwright-core';
import { launchBrowser } from '../render/browser.js';
import type { Logger } from '../observability/logger.js';

/**
 * The engine's launchBrowser() (same binary and flags) minus Playwright's signal handlers: by default
 * Playwright closes its browsers on SIGTERM/SIGINT/SIGHUP, which would kill the renders a worker is
 * draining on SIGTERM. The pool closes its browsers itself once the jobs are done.
 */
export function launchPoolBrowser(): Promise<Browser> {
  return launchBrowser({ handleSIGTERM: false, handleSIGINT: false, handleSIGHUP: false });
}

/** A browser lent to one job. Release it when the job is over, whatever happened. */
export interface BrowserLease {
  browser: Browser;
  release(): Promise<void>;
}

interface Slot {
  browser: Browser;
  jobsStarted: number;
  active: number;
  retired: boolean;
}

/** A browser process that died under a job: the job is retried on a fresh one. */
export class BrowserCrashed extends Error {
  override readonly name = 'BrowserCrashed';
}

/**
 * One warm Chromium shared by the worker's concurrent jobs (the render engine opens a fresh context
 * per job, so jobs see nothing of each other). After `recycleAfter` jobs the browser is retired:
 * new jobs get a new one and the old one closes when its last job ends, which bounds the memory a
 * long-lived browser accumulates. A browser that disconnects (crash, OOM kill) is replaced at once.
 */
export class BrowserPool {
  private current: Slot | undefined;
  private launching: Promise<Slot> | undefined;
  private readonly retiring = new Set<Slot>();
  private closed = false;
  /** Browsers launched so far (tests and logs). */
  launches = 0;

  constructor(
    private readonly options: { recycleAfter: number; logger?: Logger; launch?: () => Promise<Browser> },
  ) {}

  async acquire(): Promise<BrowserLease> {
    if (this.closed) throw new Error('browser pool is closed');
    let slot = this.current;
    if (!slot || slot.retired || !slot.browser.isConnected()) {
      if (slot) this.retire(slot);
      slot = await this.launch();
    }
    slot.jobsStarted++;
    slot.active++;
    if (slot.jobsStarted >= this.options.recycleAfter) this.retire(slot);
    let released = false;
    return {
      browser: slot.browser,
      release: async () => {
        if (released) return;
        released = true;
        slot.active--;
        if (slot.retired && slot.active === 0) await this.closeSlot(slot);
      },
    };
  }

  /** The browser of the current generation, if one is running (tests use it to simulate a crash). */
  get browser(): Browser | undefined {
    return this.current?.browser;
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.retiring];
    if (this.current) slots.push(this.current);
    this.current = undefined;
    await Promise.all(slots.map((s) => this.closeSlot(s)));
  }

  private launch(): Promise<Slot> {
    // Concurrent jobs arriving together share one launch instead of starting a browser each.
    this.launching ??= (async () => {
      try {
        const browser = await (this.options.launch ?? launchPoolBrowser)();
        const slot: Slot = { browser, jobsStarted: 0, active: 0, retired: false };
        this.launches++;
        browser.on('disconnected', () => {
          if (!slot.retired) this.options.logger?.warn({ launches: this.launches }, 'browser disconnected; the next job starts a new one');
          slot.retired = true;
          this.retiring.delete(slot);
          if (this.current === slot) this.current = undefined;
        });
        if (this.closed) {
          await browser.close();
          throw new Error('browser pool is closed');
        }
        this.current = slot;
        this.options.logger?.debug({ launches: this.launches }, 'browser launched');
        return slot;
      } finally {
        this.launching = undefined;
      }
    })();
    return this.launching;
  }

  private retire(slot: Slot): void {
    if (this.current === slot) this.current = undefined;
    slot.retired = true;
    if (slot.active === 0) void this.closeSlot(slot);
    else this.retiring.add(slot);
  }

  private async closeSlot(slot: Slot): Promise<void> {
    slot.retired = true;
    this.retiring.delete(slot);
    if (this.current === slot) this.current = undefined;
    if (slot.browser.isConnected()) {
      await slot.browser.close().catch((err: unknown) => this.options.logger?.warn({ err }, 'closing a browser failed'));
    }
  }
}
