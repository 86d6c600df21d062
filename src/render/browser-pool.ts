import { readFileSync } from 'node:fs';
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
  /** The browser lent now: a replace() changes it. */
  readonly browser: Browser;
  release(): Promise<void>;
  /**
   * Gives up the lent browser (it stopped answering mid-render: `reason`) and lends a fresh one in its
   * place, for the job to go on with at once. The old one is closed (killed if it will not close)
   * beside the job, not before it goes on.
   */
  replace(reason: string): Promise<Browser>;
  /**
   * Closes the browser now, whatever it is doing (a render that stopped answering): calls pending in
   * it fail, so the render settles. The next job gets a fresh browser.
   */
  discard(reason: string): Promise<void>;
}

interface Slot {
  browser: Browser;
  /** The browser's process id, when the browser said it at launch (for the kill when it will not close). */
  pid: number | undefined;
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
    const lend = (s: Slot): Slot => {
      s.busy = true;
      s.jobsStarted++;
      return s;
    };
    let lent = lend(slot ?? (await this.launch()));
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      const slot = lent;
      slot.busy = false;
      if (this.closed || slot.retired || !slot.browser.isConnected() || slot.jobsStarted >= this.options.recycleAfter) {
        await this.closeSlot(slot);
      } else {
        this.idle.push(slot);
      }
    };
    return {
      get browser() {
        return lent.browser;
      },
      release,
      replace: async (reason: string) => {
        this.options.logger?.warn({ reason }, 'replacing a browser that stopped answering');
        const old = lent;
        old.retired = true;
        void this.closeSlot(old);
        lent = lend(await this.launch());
        return lent.browser;
      },
      discard: async (reason: string) => {
        this.options.logger?.warn({ reason }, 'closing a browser that stopped answering');
        lent.retired = true;
        await this.closeSlot(lent);
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
    const slot: Slot = { browser, pid: await browserPid(browser), jobsStarted: 0, busy: false, retired: false };
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
    try {
      await withDeadline(slot.browser.close(), CLOSE_TIMEOUT_MS, 'closing a browser');
    } catch (err) {
      // A browser that does not answer its close (stopped, wedged) would stay for good, holding its
      // memory: its processes are killed instead (Playwright starts each browser in a process group
      // of its own).
      const killed = slot.pid !== undefined && killGroup(slot.pid);
      this.options.logger?.warn({ err: { message: (err as Error).message }, pid: slot.pid, killed }, killed ? 'closing a browser failed; killed it' : 'closing a browser failed; leaving it');
    }
  }
}

/** The browser's own process id, as Chromium reports it (undefined if it does not within a second). */
async function browserPid(browser: Browser): Promise<number | undefined> {
  try {
    const cdp = await withDeadline(browser.newBrowserCDPSession(), 1000, 'a browser session');
    try {
      const info = (await withDeadline(cdp.send('SystemInfo.getProcessInfo'), 1000, 'the process list')) as { processInfo: { type: string; id: number }[] };
      return info.processInfo.find((p) => p.type === 'browser')?.id;
    } finally {
      await cdp.detach().catch(() => {});
    }
  } catch {
    return undefined;
  }
}

/**
 * SIGKILLs the browser's process group (Playwright starts each browser in one of its own; the
 * process it reports may be the launcher script's child in that group), or the process alone.
 */
function killGroup(pid: number): boolean {
  const pgid = groupOf(String(pid));
  // Never our own group: a browser started without a group of its own shares the worker's.
  const targets = pgid !== undefined && pgid > 1 && pgid !== groupOf('self') ? [-pgid, pid] : [pid];
  for (const target of targets) {
    try {
      process.kill(target, 'SIGKILL');
      return true;
    } catch {
      // gone already
    }
  }
  return false;
}

/** A process's group id from /proc/<pid>/stat ("pid (comm) state ppid pgrp ..."; comm may hold spaces). */
function groupOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}
