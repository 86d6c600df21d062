// The player page: runs in Chromium, replays rrweb events into a sandboxed iframe (rrweb's Replayer
// never grants allow-scripts unless UNSAFE_replayCanvas is set, and we never set it) and exposes a
// step API that Node drives one frame at a time. Nothing here reads the clock: what a frame shows
// depends only on the replay time Node asks for.
import { Replayer } from '@posthog/rrweb';
import type { eventWithTime } from '@posthog/rrweb-types';
import rrwebCss from '@posthog/rrweb/dist/style.css';
import type { PlayerConfig, StepResult } from '../src/render/player-protocol.js';

/** A page declaring more faces than this (icon sets, many subsets) loads the rest when it uses them. */
const MAX_EAGER_FONTS = 40;
const EventType = { DomContentLoaded: 0, Load: 1, FullSnapshot: 2, IncrementalSnapshot: 3, Meta: 4, Custom: 5 } as const;

/**
 * The Replayer's internals a forward step uses (present in @posthog/rrweb and upstream rrweb 2.x):
 * the cast function its own synchronous seek applies each event with, and the emitter its flush
 * (virtual DOM diff, pointer position) listens on. Checked at run time; pause(t) is the fallback.
 */
interface ReplayerInternals {
  getCastFn?: (event: eventWithTime, isSync: boolean) => () => void;
  emitter?: { emit(type: string): void };
}
const ScrollSource = 3;

interface Scroll {
  x: number;
  y: number;
}

class Player {
  private replayer: Replayer;
  private events: eventWithTime[];
  private firstTs: number;
  private applied = 0;
  /** rrweb has done its first seek (built the page); later forward steps can be applied directly. */
  private seeked = false;
  private href = '';
  /** Last recorded scroll per node id since the last full snapshot: re-applied once late assets change layout. */
  private scrolls = new Map<number, Scroll>();
  private stage: HTMLElement;
  private footerUrl: HTMLElement;
  private footerTime: HTMLElement;
  private ripples: HTMLElement[] = [];
  private overlay: HTMLElement;
  private scale = 1;
  private offset = { x: 0, y: 0 };

  constructor(
    events: eventWithTime[],
    private cfg: PlayerConfig,
  ) {
    this.events = events;
    this.firstTs = events[0]!.timestamp;
    this.stage = document.getElementById('stage')!;
    this.stage.style.width = `${cfg.frameWidth}px`;
    this.stage.style.height = `${cfg.frameHeight}px`;
    const footer = document.getElementById('footer')!;
    footer.style.height = `${cfg.footerHeight}px`;
    footer.style.display = cfg.footerHeight > 0 ? 'flex' : 'none';
    footer.style.fontSize = `${Math.max(10, Math.round(cfg.footerHeight * 0.46))}px`;
    this.footerUrl = document.getElementById('footer-url')!;
    this.footerTime = document.getElementById('footer-time')!;
    this.replayer = new Replayer(events, {
      root: this.stage,
      speed: 1,
      skipInactive: false,
      showWarning: false,
      showDebug: false,
      mouseTail: false,
      triggerFocus: true,
      pauseAnimation: true,
      UNSAFE_replayCanvas: false,
      useVirtualDom: true,
      insertStyleRules: [
        // Scrollbars would eat into the recorded viewport and shift the layout.
        'html::-webkit-scrollbar, body::-webkit-scrollbar { display: none; }',
      ],
    });
    this.replayer.on('resize', (d) => this.fit(d as { width: number; height: number }));
    const wrapper = this.stage.querySelector('.replayer-wrapper') as HTMLElement;
    this.overlay = document.createElement('div');
    this.overlay.className = 'rr-click-layer';
    wrapper.appendChild(this.overlay);
  }

  /** Scales the recorded viewport into the fixed picture area, letterboxed when its shape changes. */
  private fit({ width, height }: { width: number; height: number }): void {
    if (!(width > 0 && height > 0)) return;
    const s = Math.min(this.cfg.frameWidth / width, this.cfg.frameHeight / height);
    this.scale = s;
    this.offset = { x: (this.cfg.frameWidth - width * s) / 2, y: (this.cfg.frameHeight - height * s) / 2 };
    const wrapper = this.stage.querySelector('.replayer-wrapper') as HTMLElement;
    wrapper.style.width = `${width}px`;
    wrapper.style.height = `${height}px`;
    wrapper.style.transform = `translate(${this.offset.x}px, ${this.offset.y}px) scale(${s})`;
  }

  private get iframe(): HTMLIFrameElement {
    return this.replayer.iframe;
  }

  async settleStart(): Promise<void> {
    // The Replayer emits its first resize and full snapshot from timers; let them run before the
    // first seek so they cannot land after (and undo) a later viewport change.
    await new Promise((r) => setTimeout(r, 5));
  }

  /**
   * Brings the replay to time `t` (absolute ms). `cuts` are the timestamps of page loads (Meta
   * events) inside the step: seeking across a navigation in one batch can leave the old page's
   * scroll on the new one, so each page is reached in its own seek.
   */
  async step(t: number, cuts: number[], assetCapMs: number): Promise<StepResult> {
    for (const c of cuts) if (c < t) this.seek(c);
    this.seek(t);
    this.drawClicks(t);
    this.footerTime.textContent = `${clock(t - this.cfg.sessionStartTs)}`;
    this.footerUrl.textContent = this.href;
    return this.settle(assetCapMs);
  }

  /** Waits for what the page is loading, then puts scroll positions back where the recording had them. */
  async settle(assetCapMs: number): Promise<StepResult> {
    const pending = await this.waitForAssets(assetCapMs);
    this.restoreScrolls();
    return { pending, href: this.href };
  }

  private seek(t: number): void {
    const target = t - this.firstTs;
    const from = this.applied;
    let pageLoad = false;
    // Track what the seek applies (scrolls, page URL) from our own copy of the events.
    while (this.applied < this.events.length && this.events[this.applied]!.timestamp < t) {
      const e = this.events[this.applied++]! as { type: number; data: Record<string, unknown> };
      if (e.type === EventType.Meta && typeof e.data.href === 'string') this.href = e.data.href;
      else if (e.type === EventType.FullSnapshot) {
        pageLoad = true;
        this.scrolls.clear();
        const node = e.data.node as { id?: number } | undefined;
        const off = e.data.initialOffset as { left?: number; top?: number } | undefined;
        if (node?.id !== undefined && off) this.scrolls.set(node.id, { x: off.left ?? 0, y: off.top ?? 0 });
      } else if (e.type === EventType.IncrementalSnapshot && e.data.source === ScrollSource) {
        const { id, x, y } = e.data as { id: number; x: number; y: number };
        this.scrolls.set(id, { x, y });
      }
    }
    const internals = this.replayer as unknown as ReplayerInternals;
    if (this.seeked && !pageLoad && typeof internals.getCastFn === 'function' && typeof internals.emitter?.emit === 'function') {
      // A forward step: apply just the events since the last frame, as rrweb's own seek does, then
      // flush. rrweb's pause(t) would also get there, but it walks every event of the recording on
      // each call (delays, snapshot search, timers), which grows with the session's length.
      for (let i = from; i < this.applied; i++) {
        const e = this.events[i]!;
        if (e.type === EventType.DomContentLoaded || e.type === EventType.Load || e.type === EventType.Custom) continue;
        internals.getCastFn(e, true)();
      }
      internals.emitter.emit('flush');
      return;
    }
    this.replayer.pause(Math.max(0, target));
    this.seeked = true;
  }

  private restoreScrolls(): void {
    const mirror = this.replayer.getMirror();
    const win = this.iframe.contentWindow;
    for (const [id, s] of this.scrolls) {
      const node = mirror.getNode(id);
      if (!node) continue;
      if (node.nodeType === Node.DOCUMENT_NODE) {
        if (win && (Math.round(win.scrollX) !== Math.round(s.x) || Math.round(win.scrollY) !== Math.round(s.y))) {
          win.scrollTo({ left: s.x, top: s.y, behavior: 'instant' });
        }
      } else if (node instanceof Element || (node as Element).scrollTo) {
        const el = node as Element;
        if (Math.round(el.scrollLeft) !== Math.round(s.x) || Math.round(el.scrollTop) !== Math.round(s.y)) {
          el.scrollTo({ left: s.x, top: s.y, behavior: 'instant' });
        }
      }
    }
  }

  /** Waits (at most capMs) for fonts, stylesheets and visible images the current DOM asked for. */
  private async waitForAssets(capMs: number): Promise<number> {
    const deadline = performance.now() + capMs;
    // A load can end by being replaced (rrweb swaps a style element, and its font faces with it),
    // so look again after each wait until nothing is loading.
    for (let round = 0; round < 4; round++) {
      const waits = this.pendingLoads();
      if (waits.length === 0) return 0;
      const left = deadline - performance.now();
      if (left <= 0) return waits.length;
      await Promise.race([Promise.allSettled(waits), new Promise((r) => setTimeout(r, left))]);
    }
    return this.pendingLoads().length;
  }

  private pendingLoads(): Promise<unknown>[] {
    const doc = this.iframe.contentDocument;
    if (!doc || !doc.documentElement) return [];
    // Layout makes the document request the images it needs now.
    void doc.documentElement.scrollHeight;
    const waits: Promise<unknown>[] = [];
    if (doc.fonts) {
      // Chromium starts a web font's load some time after the layout that needs it, too late for
      // this frame; so declared faces are loaded up front (each fetched once, cached for the render).
      let n = 0;
      for (const face of Array.from(doc.fonts as unknown as Iterable<FontFace>)) {
        if (face.status === 'unloaded' && n++ < MAX_EAGER_FONTS) waits.push(face.load());
        else if (face.status === 'loading') waits.push(face.loaded);
      }
    }
    const vh = this.iframe.clientHeight || 10000;
    const vw = this.iframe.clientWidth || 10000;
    for (const img of Array.from(doc.images)) {
      if (img.complete || (!img.currentSrc && !img.src)) continue;
      const r = img.getBoundingClientRect();
      if (r.bottom < 0 || r.top > vh || r.right < 0 || r.left > vw) continue;
      waits.push(loaded(img));
    }
    for (const link of Array.from(doc.querySelectorAll('link[rel~="stylesheet"]')) as HTMLLinkElement[]) {
      if (!link.sheet && link.href) waits.push(loaded(link));
    }
    return waits;
  }

  private drawClicks(t: number): void {
    const active = this.cfg.clicks.filter((c) => c.ts <= t && t < c.ts + this.cfg.clickRippleMs);
    while (this.ripples.length < active.length) {
      const el = document.createElement('div');
      el.className = 'rr-click';
      this.overlay.appendChild(el);
      this.ripples.push(el);
    }
    this.ripples.forEach((el, i) => {
      const c = active[i];
      if (!c) {
        el.style.display = 'none';
        return;
      }
      const p = (t - c.ts) / this.cfg.clickRippleMs;
      // Sizes are in recorded pixels; divide by the scale so the ripple reads the same at any output width.
      const size = (14 + 34 * p) / this.scale;
      el.style.display = 'block';
      el.style.width = el.style.height = `${size}px`;
      el.style.left = `${c.x - size / 2}px`;
      el.style.top = `${c.y - size / 2}px`;
      el.style.borderWidth = `${3 / this.scale}px`;
      el.style.opacity = String(1 - 0.8 * p);
    });
  }
}

function loaded(el: HTMLImageElement | HTMLLinkElement): Promise<void> {
  return new Promise((resolve) => {
    el.addEventListener('load', () => resolve(), { once: true });
    el.addEventListener('error', () => resolve(), { once: true });
  });
}

function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

let player: Player | undefined;

const api = {
  async init(eventsJson: string, configJson: string): Promise<void> {
    const style = document.createElement('style');
    style.textContent = rrwebCss;
    document.head.appendChild(style);
    player = new Player(JSON.parse(eventsJson) as eventWithTime[], JSON.parse(configJson) as PlayerConfig);
    await player.settleStart();
  },
  step(t: number, cuts: number[], assetCapMs: number): Promise<StepResult> {
    if (!player) throw new Error('player not initialised');
    return player.step(t, cuts, assetCapMs);
  },
  settle(assetCapMs: number): Promise<StepResult> {
    if (!player) throw new Error('player not initialised');
    return player.settle(assetCapMs);
  },
};

(window as unknown as { __rr: typeof api }).__rr = api;
