// The player page: runs in Chromium, replays rrweb events into a sandboxed iframe (rrweb's Replayer
// never grants allow-scripts unless UNSAFE_replayCanvas is set, and we never set it) and exposes a
// step API that Node drives one frame at a time. Nothing here reads the clock: what a frame shows
// depends only on the replay time Node asks for.
import { Replayer } from '@posthog/rrweb';
import type { eventWithTime } from '@posthog/rrweb-types';
import rrwebCss from '@posthog/rrweb/dist/style.css';
import { CANVAS_RULE, CanvasReplay } from './canvas.js';
import { VIDEO_RULES, VideoReplay, type MediaState } from './video.js';
import { intoShadows, moveMark, pointerChain, type ChainMark } from './flat-tree.js';
import { DetailsContent } from './details-content.js';
import { FocusReplay } from './focus.js';
import { holdOf, TIMELINE_GRAIN_MS } from './holds.js';
import { uncheckRecordedBoxes } from './form-state.js';
import { restoreLostStylesheets } from './stylesheets.js';
import { CustomElementDefinitions } from './custom-elements.js';
import { PopoverReplay } from './popover.js';
import { CommittedAnimations } from './committed-animations-dom.js';
import { ForcedStarts } from './forced-starts.js';
import { PressReplay } from './press.js';
import { ShadowRoots } from './shadow-roots.js';
import { runningSmil, startSmil } from './smil.js';
import { HOVER_ATTRIBUTE, rewriteStateSelectors } from './state-selectors.js';
import { FragmentTarget } from './target.js';
import { UserValidity } from './user-validity.js';
import { loadPageFonts } from './fonts.js';
import { EventType, IncrementalSource } from '../src/recording/rrweb-shape.js';
import { ANIMATED_IMAGE_TIMING, type Motion, type PlayerConfig, type PlayerPayload, type PlayerWindow, type Pointer, type Ripple, type StepResult, type StylesheetReport } from '../src/render/player-protocol.js';

/**
 * The Replayer's internals a forward step uses (present in @posthog/rrweb and upstream rrweb 2.x):
 * the cast function its own synchronous seek applies each event with, and the emitter its flush
 * (virtual DOM diff, pointer position) listens on. Checked at run time; pause(t) is the fallback.
 */
interface ReplayerInternals {
  getCastFn?: (event: eventWithTime, isSync: boolean) => () => void;
  emitter?: { emit(type: string): void };
  /** rrweb's MediaManager: what each media element does, as of the events applied. */
  mediaManager?: { mediaMap?: Map<HTMLMediaElement, MediaState> };
}
/** Incremental sources that change nothing a style depends on (mouse moves do: rrweb emulates :hover). */
const QUIET_SOURCES = new Set<number>([IncrementalSource.Scroll, IncrementalSource.Log, IncrementalSource.CanvasMutation]);
/** Incremental sources that cannot move the page under the pointer. */
const HOVER_NEUTRAL_SOURCES = new Set<number>([IncrementalSource.Log, IncrementalSource.CanvasMutation, IncrementalSource.Selection, IncrementalSource.MediaInteraction]);
/** A video's picture is drawn this much larger than it shows in the GIF (the browser scales it twice on the way). */
const VIDEO_PICTURE_SPARE = 1.5;
/** Longest the videos' pictures may take in one step, whatever is left of the asset cap (player/video.ts). */
const VIDEO_STEP_MS = 300;
/** A display frame of the recorded page: changes within one are styled together, as the browser did. */
const FRAME_MS = 16;
/** Changes older than this before a frame are applied in one batch; what they started has finished. */
const RECENT_MS = 5000;
/** Catching up on more events than this at once goes through rrweb's virtual DOM. */
const VIRTUAL_DOM_BATCH = 500;
/** The side of rrweb's cursor box (.replayer-mouse in its style.css), in the recorded page's css px. */
const POINTER_CSS_PX = 20;

/** The hover attribute state-selectors.ts's rewrite matches. */
const HOVER_MARK: ChainMark = {
  has: (e) => e.hasAttribute(HOVER_ATTRIBUTE),
  add: (e) => e.setAttribute(HOVER_ATTRIBUTE, ''),
  remove: (e) => e.removeAttribute(HOVER_ATTRIBUTE),
};
/** rrweb's hover class, which its own stylesheet rewrite matches: the plain approach's, which has no other. */
const RRWEB_HOVER_MARK: ChainMark = {
  has: (e) => e.classList.contains(':hover'),
  add: (e) => e.classList.add(':hover'),
  remove: (e) => e.classList.remove(':hover'),
};

/** pause(t) applies events stamped before t: a hair past the snapshot includes it. */
const SNAPSHOT_EPSILON_MS = 0.01;

interface Scroll {
  x: number;
  y: number;
}

/** An image the asset proxy found animated (ANIMATED_IMAGE_TIMING), by URL. */
interface AnimatedImage {
  loopMs: number;
  frames: number;
  /** 0: forever. */
  plays: number;
  /** Replay time it was first seen on screen, where Chromium starts playing it. */
  firstSeenTs?: number;
}

/** An element that shows an animated image, itself or in a pseudo-element (::before, ::after). */
interface ImageUser {
  el: Element;
  url: string;
  pseudo: boolean;
}

/** Pseudo-elements in a selector: their host element is what carries the image on screen. */
const PSEUDO_ELEMENT = /::?(before|after|marker|backdrop|placeholder|first-line|first-letter|selection)\b/gi;

function earliest(a: number | null, b: number): number {
  return a === null ? b : Math.min(a, b);
}

/**
 * How often what moves by itself is captured (ms of replay time; the GIF's slots bound it from below).
 * - A finite animation gets FINITE_FRAMES_PER_RUN pictures per run: a 0.5 s transition or a 1.2 s
 *   fade is captured at every slot of a 10 fps GIF, a 6 s progress bar or slow slide every 200 ms.
 * - One that never pauses (a ticker, moving stripes) every INFINITE_EVERY_MS: at full rate it makes
 *   every slot a capture for as long as it is on screen. Measured on the motion fixture's 30 s moment
 *   (a ticker, a spinner): 200 ms gave 211 captures and 1.15 MB, 400 ms 162 and 0.93 MB with SSIM
 *   >= 0.98 at every moment, 500 ms 134 but a moment at 0.92 (a ticker half a second stale).
 * - A small one (a spinner, a pulsing dot: under SMALL_AREA_PX css px) every SMALL_EVERY_MS: its
 *   picture changes little, and any rate below its own turn shows it jumping anyway.
 * Carousels move at full rate between their holds. Figures per setting: BENCHMARKS.md.
 */
const FINITE_FRAMES_PER_RUN = 30;
const INFINITE_EVERY_MS = 400;
const SMALL_EVERY_MS = 800;
const SMALL_AREA_PX = 64 * 64;
/**
 * An animated image whose frames last this long or more on average is drawn at every slot (a picture
 * only where its frame changed), so each frame shows on time; a faster one is sampled by its size.
 * Sampled sparsely, Chromium's image animation (cc's ImageAnimationController) restarts a first pass
 * it fell behind on, so a slow slideshow would show its frames late.
 */
const SLOW_IMAGE_FRAME_MS = 200;

class Player {
  private replayer: Replayer;
  private events: eventWithTime[];
  private firstTs: number;
  private applied = 0;
  /** rrweb has done its first seek (built the page); later forward steps can be applied directly. */
  private seeked = false;
  /** Loads waited for through a whole frame's cap without ending: never waited for again. */
  private waitedOut = new WeakSet<object>();
  /** Animations already placed on the replay clock. */
  private known = new WeakSet<Animation>();
  /** The animations on the page at the last stampAnimations, which a later change can retarget, pause or resume (catchUp). */
  private animations: Animation[] = [];
  /** Those of them paused (by the page's CSS) as of the last change: catchUp must tell them from ones about to start without asking their playState. */
  private paused = new WeakSet<Animation>();
  href = '';
  /** Last recorded scroll per node id since the last full snapshot: re-applied once late assets change layout. */
  private scrolls = new Map<number, Scroll>();
  private scale = 1;
  private offset = { x: 0, y: 0 };
  /** rrweb's cursor element: it places it (style left/top), Node draws it (pointerAt). */
  private readonly mouse: HTMLElement | null;
  /**
   * Whether the page may look different since the last step began: anything but the pointer moving
   * over the same elements (Node draws the pointer) sets it. A step that leaves it false, with
   * nothing moving by itself, is still (StepResult.still): Node draws no frame for it.
   */
  private changed = true;
  /** The elements hover() marked hovered: the one under the pointer and its ancestors. */
  private hovered: Element[] = [];
  /**
   * The page changed under the pointer since rrweb last hovered from a pointer event. Chromium then
   * hovers what is under the pointer now, with no event rrweb records: rehover() hit-tests where the
   * pointer is. 'now' after scrolls alone (Chromium hovers anew in the frame that scrolled), 'next'
   * after a layout change (Chromium: at the frame after the one that laid it out), done at the next
   * step's start, when the frame drawn meanwhile has the page's layout and paint properties clean. A
   * hit test forces them: on a rustdoc page, 22 ms after a change against 1.2 ms after a scroll. The
   * heavy row's median step went from 2.7-4.0 to 7.1-7.4 ms with these hit tests (most after its
   * wheel scrolls); deferring the scrolls' too was no cheaper (6.4-7.5 ms, more steps and pictures).
   */
  private hoverDue: 'now' | 'next' | null = null;
  /**
   * A new document came (a Meta event with another address) and no pointer event since: the
   * browser knows no pointer position in a new document until the pointer moves, so it hovers
   * nothing there, whatever is under the pointer.
   */
  private pointerUnknown = false;
  /** The last Meta event tracked named another address than the one before it. */
  private newDocument = true;
  /** Animated images the page loaded, by URL (noteLoads). */
  private animatedImages = new Map<string, AnimatedImage>();
  /** The elements that show them (animatedImageUsers), kept while no step changes the page. */
  private imageUsers: ImageUser[] | undefined;
  /** Canvas drawing the recording holds (rrweb, without UNSAFE_replayCanvas, skips it). */
  private readonly canvas: CanvasReplay;
  private readonly video: VideoReplay;
  /** The element the page's URL fragment points at (`:target`), which the replay's document has no fragment for. */
  private readonly target = new FragmentTarget();
  /** The form fields the user dealt with (`:user-invalid`, `:user-valid`), which the replay's fields never were. */
  private readonly validity = new UserValidity();
  /** The recording's focus events, applied as the user saw them (focus.ts). */
  private readonly focus = new FocusReplay();
  /** Which popovers are open, which the recording does not say outright (popover.ts). */
  private readonly popovers = new PopoverReplay();
  /** What the pointer is held down on (`:active`), which nothing in the replay ever is. */
  private readonly press = new PressReplay();
  private readonly forcedStarts = new ForcedStarts();
  /** Animations run by the Web Animations API, which the recording has only the ends of (committed-animations.ts). */
  private readonly committed: CommittedAnimations | undefined;
  /** `<details>` sliding open or shut by a transition that no getAnimations() lists. */
  private readonly details = new DetailsContent();
  /** The custom elements the page defined (`:defined`), which nothing in the script-less replay defines. */
  private readonly definitions = new CustomElementDefinitions();
  /** The shadow roots in the replay, whose animations the document's getAnimations() leaves out. */
  private readonly shadowRoots = new ShadowRoots();

  constructor(
    events: eventWithTime[],
    private clicks: Click[],
    private cfg: PlayerConfig,
    /** This window's own box in the stage: shown while it is the window on screen. */
    readonly root: HTMLElement,
  ) {
    this.events = events;
    this.firstTs = events[0]!.timestamp;
    this.committed = cfg.naive || cfg.motion === 'frozen' ? undefined : new CommittedAnimations(events);
    this.replayer = new Replayer(events, {
      root,
      speed: 1,
      skipInactive: false,
      showWarning: false,
      showDebug: false,
      mouseTail: false,
      // The plain approach focuses as rrweb does; the engine as the user saw it (focus.ts).
      triggerFocus: cfg.naive === true,
      plugins: cfg.naive === true ? [] : [this.focus.plugin, this.target.plugin, this.popovers.plugin, this.validity.plugin, this.definitions.plugin, this.press.plugin],
      // Animations run on the replay clock (the frame times Node gives): rrweb's pause must not stop them.
      // 'frozen' keeps rrweb's behaviour, for the tests' control and the benchmark.
      pauseAnimation: cfg.motion === 'frozen' || cfg.naive === true,
      UNSAFE_replayCanvas: false,
      // Forward steps apply events to the real DOM. With the virtual DOM, every step that carries a
      // mutation copies the whole document into it and diffs it back (measured on rustdoc pages: a
      // 400-900 ms step while the user types into the search box, 5-80 ms without).
      useVirtualDom: cfg.naive === true,
      insertStyleRules: [
        // Scrollbars would eat into the recorded viewport and shift the layout.
        'html::-webkit-scrollbar, body::-webkit-scrollbar { display: none; }',
        CANVAS_RULE,
        ...VIDEO_RULES,
      ],
    });
    this.replayer.on('resize', (d) => this.fit(d as { width: number; height: number }));
    this.mouse = root.querySelector<HTMLElement>('.replayer-mouse');
    this.canvas = new CanvasReplay((id) => this.replayer.getMirror().getNode(id));
    this.video = new VideoReplay(
      (v) => (this.replayer as unknown as ReplayerInternals).mediaManager?.mediaMap?.get(v),
      () => this.scale * (cfg.outputScale ?? 1) * VIDEO_PICTURE_SPARE,
    );
    const internals = this.replayer as unknown as { hoverElements?: (el: Element) => void };
    if (typeof internals.hoverElements === 'function') internals.hoverElements = (el) => this.hover(this.underPointer(el));
  }

  /**
   * rrweb's hover emulation (its hoverElements) with the same outcome, the element under the pointer
   * and its ancestors marked hovered (with an attribute the rewritten `:hover` matches, not rrweb's
   * class: state-selectors.ts), but changing only the marks that differ. rrweb takes the class off
   * every element and puts it back on the new chain at each pointer position, which restyles the
   * chain's dependents even when the pointer stayed over the same element: on a rustdoc page,
   * 17-19 ms a step for a pointer that only moved (BENCHMARKS.md, stop 20), where the page must not
   * change at all for Node to draw the pointer without a picture (src/render/pointer.ts).
   */
  private hover(el: Element | null): void {
    // Up the flat tree, as Chromium hovers: a slotted element's slot and the shadow hosts around it
    // are hovered too (a web component's button part under its label, the component itself).
    const chain = pointerChain(el);
    if (moveMark(this.hovered, chain, this.cfg.naive ? RRWEB_HOVER_MARK : HOVER_MARK)) this.changed = true;
    this.hovered = chain;
  }

  /**
   * Hovers what is under the pointer now, when the page changed under it since the last pointer
   * event (a wheel scroll, a list that grew, a menu that opened under it): Chromium hit-tests again
   * at the next frame, and rrweb records no event for it, so the replay kept hovering what had moved
   * away (a table's highlighted row scrolled off with the pointer over another).
   */
  private rehover(doc: Document | null | undefined): void {
    if (!doc) return;
    if (this.pointerUnknown) return;
    const mouse = this.mouse;
    if (!mouse || mouse.classList.contains('touch-device')) return;
    let x = parseFloat(mouse.style.left);
    let y = parseFloat(mouse.style.top);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    let d: Document = doc;
    let el: Element | null = null;
    // Down through same-origin frames and open shadow roots, as the browser's hit test goes.
    for (let depth = 0; depth < 16; depth++) {
      el = intoShadows(d.elementFromPoint(x, y), x, y);
      const inner = (el as HTMLIFrameElement | null)?.contentDocument;
      if (!el || !inner || (el.tagName !== 'IFRAME' && el.tagName !== 'FRAME')) break;
      const box = el.getBoundingClientRect();
      x -= box.left + el.clientLeft;
      y -= box.top + el.clientTop;
      d = inner;
    }
    this.hover(el);
  }

  /**
   * The element a recorded pointer event names, or what is under the pointer inside it when it is a
   * shadow host: an event over a component's own text names the component (its text is the host's
   * child, slotted), and Chromium hovered the parts under it too (the label, the button part). Only
   * in the top document, whose coordinates the pointer has.
   */
  private underPointer(el: Element | null): Element | null {
    if (!el?.shadowRoot || el.ownerDocument !== this.iframe.contentDocument || !this.mouse) return el;
    const x = parseFloat(this.mouse.style.left);
    const y = parseFloat(this.mouse.style.top);
    return Number.isFinite(x) && Number.isFinite(y) ? intoShadows(el, x, y) : el;
  }

  /** Scales the recorded viewport into the fixed picture area, letterboxed when its shape changes. */
  private fit({ width, height }: { width: number; height: number }): void {
    if (!(width > 0 && height > 0)) return;
    this.changed = true;
    const s = Math.min(this.cfg.frameWidth / width, this.cfg.frameHeight / height);
    this.scale = s;
    this.offset = { x: (this.cfg.frameWidth - width * s) / 2, y: (this.cfg.frameHeight - height * s) / 2 };
    const wrapper = this.root.querySelector('.replayer-wrapper') as HTMLElement;
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
    this.changed = false;
    if (this.hoverDue === 'next') {
      this.hoverDue = null;
      if (!this.cfg.naive) this.rehover(this.iframe.contentDocument);
    }
    let fontMs = 0;
    for (const c of cuts) if (c < t) fontMs += await this.seekFontsFirst(c, t, assetCapMs - fontMs);
    fontMs += await this.seekFontsFirst(t, t, assetCapMs - fontMs);
    const r = await this.settle(Math.max(0, assetCapMs - fontMs), t);
    return { ...r, assetMs: (r.assetMs ?? 0) + fontMs };
  }

  /**
   * A seek whose page is built has its web fonts loaded before anything lays it out: the history
   * after the snapshot is applied only then. Laid out first with fallback fonts, a page is laid out
   * again, whole, when they come (a rustdoc Vec page: 280-320 ms each time, BENCHMARKS.md stop 32).
   * Returns how long the fonts took. `capMs` counts from the page built, not from the step's start:
   * building a big page (the Rust Reference's print page, 19.6 MB of snapshot) took longer than a
   * step's whole asset cap, which then left its fonts no time, and the page was laid out whole twice
   * (1.3 s each).
   */
  private async seekFontsFirst(t: number, frameTs: number, capMs: number): Promise<number> {
    const rest = this.seek(t, frameTs);
    if (!rest) return 0;
    const from = performance.now();
    // Only a head start: a page whose fonts cannot be read or loaded gets them from layout, as before.
    const doc = this.iframe.contentDocument;
    if (doc) await loadPageFonts(doc, from + capMs).catch(() => {});
    const ms = performance.now() - from;
    rest();
    return ms;
  }

  /** Waits for what the page is loading, then puts scroll positions back where the recording had them. */
  async settle(assetCapMs: number, frameTs: number): Promise<StepResult> {
    const from = performance.now();
    await this.canvas.apply(assetCapMs);
    const doc = this.iframe.contentDocument;
    const mediaFrom = performance.now();
    const canvasMs = mediaFrom - from;
    // Not charged to the asset cap (a clip of a playing video draws a picture at every step), but
    // bounded: a video that will not seek costs a step VIDEO_STEP_MS at most.
    if (doc) await this.video.apply(doc, frameTs - this.firstTs, Math.max(VIDEO_STEP_MS, assetCapMs - canvasMs));
    const { pending, waitedMs } = await this.waitForAssets(Math.max(0, assetCapMs - canvasMs));
    if (!this.cfg.naive && this.popovers.apply(doc, this.replayer.getMirror())) this.changed = true;
    if (!this.cfg.naive && this.target.mark(doc)) this.changed = true;
    if (!this.cfg.naive && this.validity.mark(this.replayer.getMirror())) this.changed = true;
    if (!this.cfg.naive && this.press.apply(this.replayer.getMirror())) this.changed = true;
    if (!this.cfg.naive && this.cfg.motion !== 'frozen' && doc && startSmil(doc)) this.changed = true;
    if (!this.cfg.naive && this.focus.retry()) this.changed = true;
    if (!this.cfg.naive && this.focusFrame()) this.changed = true;
    this.restoreScrolls();
    this.noteLoads();
    if (this.hoverDue === 'now') {
      this.hoverDue = null;
      if (!this.cfg.naive) this.rehover(doc);
    }
    const { movedSinceDrawn, ...motion } = this.motion(frameTs);
    // An animation waiting for its delay (or between equal keyframes) is not still either: the page's
    // animation clock only moves on with the frames drawn, so with none drawn it would wait forever.
    // Nor is one that ended since the last frame drawn: this frame shows its end.
    const moving = motion.everyMs !== null || motion.nextStartTs !== null || movedSinceDrawn;
    const still = !this.changed && !moving;
    // Only where there is a pointer to hover from: none recorded yet, or none known in a new document.
    const pointer = this.pointerAt();
    const recheck = this.hoverDue === 'next' && !this.cfg.naive && !this.pointerUnknown && pointer !== null;
    return { pending, href: this.href, motion, ripples: this.ripplesAt(frameTs), pointer, still, recheck, assetMs: canvasMs + waitedMs };
  }

  /**
   * A page built for a new document gives its `autofocus` element the focus, as Chromium did on
   * load. The replay's frame is sandboxed without scripts, which blocks autofocus, and the recorder
   * saw no focus event when it started after the page's first frame (PostHog's script loads
   * asynchronously): a login page's field showed unfocused. Before the history after the snapshot,
   * whose focus and blur events then move it on.
   */
  private autofocus(): void {
    const doc = this.iframe.contentDocument;
    const el = doc?.querySelector<HTMLElement>('[autofocus]');
    if (!el || typeof el.focus !== 'function') return;
    el.focus({ preventScroll: true });
  }

  /**
   * Gives the replay's frame the focus the user's page had: Chromium draws a selection (rrweb replays
   * them) in the active colours only in the focused frame, and in grey elsewhere; the replay's frame
   * had it only once the recording focused an element in it, so text the user selected by dragging
   * showed grey. True when that changed the page.
   */
  private focusFrame(): boolean {
    if (document.activeElement === this.iframe) return false;
    this.iframe.contentWindow?.focus();
    return document.activeElement === this.iframe;
  }

  /**
   * Whatever the page fetched since the last look (an image or font that came in without an event:
   * one not waited for, or off screen when asked for) may have changed it.
   */
  private noteLoads(): void {
    const perf = this.iframe.contentWindow?.performance;
    if (!perf?.getEntriesByType) return;
    const entries = perf.getEntriesByType('resource') as PerformanceResourceTiming[];
    if (entries.length > 0) {
      this.changed = true;
      // An image that came in can move what is under the pointer.
      this.hoverDue = 'next';
    }
    for (const e of entries) {
      const t = e.serverTiming?.find((s) => s.name === ANIMATED_IMAGE_TIMING);
      if (!t || this.animatedImages.has(e.name)) continue;
      const [plays, frames] = t.description.split(' ').map(Number);
      this.animatedImages.set(e.name, { loopMs: t.duration, plays: plays || 0, frames: frames || 2 });
    }
    perf.clearResourceTimings();
  }

  /**
   * Applies the events before `t`. `frameTs` is the replay time of the frame that will show them:
   * the animations those events start are set to where they would be at that frame. A seek that
   * builds a page stops after the snapshot and returns the rest (seekFontsFirst).
   */
  private seek(t: number, frameTs: number): (() => void) | undefined {
    if (this.cfg.naive) {
      // The benchmark's plain approach: rrweb's own seek, with its defaults, for every frame.
      let end = this.applied;
      while (end < this.events.length && this.events[end]!.timestamp < t) end++;
      this.track(end);
      this.changed = true;
      this.replayer.pause(Math.max(0, t - this.firstTs));
      return undefined;
    }
    let end = this.applied;
    let snapshot = -1;
    while (end < this.events.length && this.events[end]!.timestamp < t) {
      if (this.events[end]!.type === EventType.FullSnapshot) snapshot = end;
      end++;
    }
    const internals = this.replayer as unknown as ReplayerInternals;
    const canCast = typeof internals.getCastFn === 'function' && typeof internals.emitter?.emit === 'function';
    if (!this.seeked || snapshot >= 0 || !canCast) {
      // A page load: rrweb builds it (pause replays from the last full snapshot before the time).
      // With casting available, the page is built as it was at its snapshot and the events after
      // it are applied forward, so animations start when their events happened.
      const upTo = canCast && snapshot >= 0 ? snapshot + 1 : canCast && !this.seeked ? this.firstSnapshotEnd(end) : end;
      this.track(upTo);
      this.changed = true;
      this.canvas.reset();
      for (let i = upTo - 1; i >= 0; i--) {
        if (this.events[i]!.type !== EventType.FullSnapshot) continue;
        this.canvas.addNodes((this.events[i]!.data as { node?: unknown }).node);
        break;
      }
      this.replayer.pause(Math.max(0, this.events[upTo - 1]!.timestamp + SNAPSHOT_EPSILON_MS - this.firstTs));
      // A snapshot of the same address is rrweb's checkout of the same document, as a rule: the
      // pointer is where it was, over the page built again.
      this.hoverDue = 'next';
      this.pointerUnknown = this.newDocument;
      this.seeked = true;
      this.known = new WeakSet();
      this.animations = [];
      this.paused = new WeakSet();
      const ageMs = frameTs - this.events[upTo - 1]!.timestamp;
      // What is left (the history after the snapshot) is the caller's to run, once the page's fonts
      // are in. The snapshot's animations are stamped then too: getAnimations() lays the page out
      // (Chromium 156), and laid out before its fonts came, the Rust Reference's print page was laid
      // out whole twice (1.3 s each). No frame is drawn while a step waits for fonts, so the
      // animations created meanwhile have not started and are stamped as they were before.
      return () => {
        if (this.newDocument && !this.cfg.naive) this.autofocus();
        this.stampAnimations(ageMs);
        if (upTo < end && canCast) this.forward(end, frameTs, internals as Required<ReplayerInternals>);
      };
    }
    this.forward(end, frameTs, internals as Required<ReplayerInternals>);
    return undefined;
  }

  /** Index just past the first full snapshot at or before `end` (the clip starts at its Meta + snapshot). */
  private firstSnapshotEnd(end: number): number {
    for (let i = this.applied; i < end; i++) if (this.events[i]!.type === EventType.FullSnapshot) return i + 1;
    return end;
  }

  /**
   * Applies events [applied, end) as rrweb's own synchronous seek does (its pause(t) would walk every
   * event of the recording on each call, which grows with the session's length), in groups of what
   * happened within one display frame of the recorded page. Recent groups are followed by a style
   * update, so that the transitions and animations their changes start are started at the time of
   * the group's last change that can start one, not at the frame's.
   */
  private forward(end: number, frameTs: number, internals: Required<ReplayerInternals>): void {
    const from = this.applied;
    this.track(end);
    let i = from;
    // Older changes in one batch: an animation they started has had RECENT_MS to run.
    const recentFrom = frameTs - RECENT_MS;
    let changed = false;
    let groupTs = 0;
    let old = from;
    while (old < end && this.events[old]!.timestamp < recentFrom) old++;
    // A burst (thousands of changes in one step) goes in one virtual-DOM batch too: styling the page
    // after each of its display frames costs more than placing its animations exactly, and rrweb's
    // direct mutations slow down with the number of children (measured on 50,000 text nodes added
    // in 3 s: over 30 s a step group by group, 4-22 s a step direct, 0.5-3.5 s batched).
    const burst = end - from > VIRTUAL_DOM_BATCH;
    // A long history (the first frame of a clip late in a session) is built in rrweb's virtual DOM and
    // written to the page once; small steps go straight to the page, where copying and diffing the
    // whole document would cost more than the changes (measured: 30 min of a busy page, 45,000
    // events: 2.8 s virtual, 8.8 s direct; a step on a rustdoc page: 400-900 ms virtual, 5-80 ms direct).
    if (burst) old = end;
    const batch = old - from > VIRTUAL_DOM_BATCH;
    if (batch) this.replayer.config.useVirtualDom = true;
    try {
      while (i < old) changed = this.cast(i++, internals) || changed;
      if (i > from) internals.emitter.emit('flush');
    } finally {
      if (batch) this.replayer.config.useVirtualDom = false;
    }
    if (changed) {
      this.committed?.start(this.replayer.getMirror(), i);
      this.stampAnimations(frameTs - this.events[i - 1]!.timestamp);
    }
    while (i < end) {
      groupTs = this.events[i]!.timestamp;
      changed = false;
      // What the group started, the browser started at its last change that could start one (a
      // forced style update in that task, or the frame after it), not at the group's first event:
      // a click's mousedown 14 ms before the mutation it led to had put Bootstrap's collapse 14 ms on.
      let startedTs = groupTs;
      const caughtUp = this.catchUp(groupTs, frameTs);
      while (i < end && this.events[i]!.timestamp < groupTs + FRAME_MS) {
        if (this.cast(i, internals)) {
          changed = true;
          startedTs = this.events[i]!.timestamp;
        }
        i++;
      }
      if (changed) {
        internals.emitter.emit('flush');
        this.committed?.start(this.replayer.getMirror(), i);
        this.stampAnimations(frameTs - startedTs);
      }
      caughtUp?.(changed ? startedTs : undefined);
    }
    // Pointer position and selection of the last group.
    internals.emitter.emit('flush');
  }

  /** Casts event `index`; true when it can start a transition or animation in the replay document. */
  private cast(index: number, internals: Required<ReplayerInternals>): boolean {
    const e = this.events[index]!;
    if (e.type === EventType.DomContentLoaded || e.type === EventType.Load || e.type === EventType.Custom) return false;
    const source = e.type === EventType.IncrementalSnapshot ? (e.data as { source: number }).source : undefined;
    // A script's forced style update between two changes of one task (forced-starts.ts); a virtual
    // DOM batch writes the page once, after the transitions' time has passed.
    const staged = source === IncrementalSource.Mutation && !this.cfg.naive && !this.replayer.config.useVirtualDom ? this.forcedStarts.before(e.data as { adds?: unknown; attributes?: unknown }, this.replayer.getMirror()) : undefined;
    internals.getCastFn(e, true)();
    staged?.();
    this.committed?.cast(index);
    if (source === IncrementalSource.CanvasMutation) this.canvas.add(e.data);
    else if (source === IncrementalSource.Mutation) for (const a of (e.data as { adds?: { node?: unknown }[] }).adds ?? []) this.canvas.addNodes(a.node);
    // A pointer move changes the page only through what it hovers (hover, at the flush).
    if (source !== IncrementalSource.MouseMove) this.changed = true;
    // A press or release restyles what is held at its time, so that a transition it starts is placed
    // there (in a virtual DOM batch its nodes may not be on the page yet: settle() marks them).
    // So does a click's jump to a fragment (the plugin has just read it): an animation its `:target`
    // starts (rustdoc fades its mark in) is placed from the click, not from the step after it.
    if (source === IncrementalSource.MouseInteraction && !this.cfg.naive && !this.replayer.config.useVirtualDom) {
      this.press.apply(this.replayer.getMirror());
      this.target.mark(this.iframe.contentDocument);
    }
    // rrweb hovers from the last pointer event at the flush; a change after it may move the page under it.
    if (source === IncrementalSource.MouseMove || source === IncrementalSource.MouseInteraction) {
      this.hoverDue = null;
      this.pointerUnknown = false;
    } else if (source === IncrementalSource.Scroll) this.hoverDue ??= 'now';
    else if (source === undefined || !HOVER_NEUTRAL_SOURCES.has(source)) this.hoverDue = 'next';
    if (source === undefined) return true;
    return !QUIET_SOURCES.has(source);
  }

  /** What the events up to `end` tell us beyond the DOM: page URL and scroll positions. */
  private track(end: number): void {
    while (this.applied < end) {
      const e = this.events[this.applied++]! as { type: number; data: Record<string, unknown> };
      this.shadowRoots.note(e);
      if (e.type === EventType.Meta && typeof e.data.href === 'string') {
        this.newDocument = e.data.href !== this.href;
        this.href = e.data.href;
      } else if (e.type === EventType.FullSnapshot) {
        this.scrolls.clear();
        const node = e.data.node as { id?: number } | undefined;
        const off = e.data.initialOffset as { left?: number; top?: number } | undefined;
        if (node?.id !== undefined && off) this.scrolls.set(node.id, { x: off.left ?? 0, y: off.top ?? 0 });
      } else if (e.type === EventType.IncrementalSnapshot && e.data.source === IncrementalSource.Scroll) {
        const { id, x, y } = e.data as { id: number; x: number; y: number };
        this.scrolls.set(id, { x, y });
      }
    }
  }

  /**
   * Animations and transitions that appeared since the last call were started by changes made
   * `ageMs` of replay time before the coming frame: move them that far on, so that at the frame
   * they are where the user's browser had them. (The browser starts a new animation at its next
   * frame; an animation not yet started holds its current time, and starts from it.)
   */
  private stampAnimations(ageMs: number): void {
    if (this.cfg.motion === 'frozen') return;
    const doc = this.iframe.contentDocument;
    if (!doc?.getAnimations) return;
    // getAnimations() brings style up to date, which is what creates the new animations.
    const all = this.shadowRoots.animations(doc, this.replayer.getMirror());
    // Read while the page's style is up to date (getAnimations() just brought it there), before any
    // time is set below: a CSS animation's playState brings style up to date first, so read after a
    // new one's time was set, each new one cost a style update more.
    const states = all.map((a) => a.playState);
    all.forEach((a, k) => {
      if (states[k] === 'paused') this.paused.add(a);
      else this.paused.delete(a);
    });
    all.forEach((a, k) => {
      if (this.known.has(a)) return;
      this.known.add(a);
      if (ageMs > 0 && states[k] === 'running' && onTime(a.effect?.getComputedTiming())) a.currentTime = Number(a.currentTime ?? 0) + ageMs * a.playbackRate;
    });
    this.animations = all;
  }

  /**
   * Puts the page's animations where the user's browser had them at replay time `ts`, ahead of the
   * changes made then, which take them from there: a change that retargets a transition (a menu
   * closed while it still opens, a carousel clicked mid-slide) starts the new one from the old one's
   * value at that moment, and a pause (`animation-play-state` under a hovered ticker) holds the
   * animation where it is. Unmoved, the running ones are where the last frame drawn left them (a slot
   * back or more: at 10 fps a box's way back started up to 100 ms of its travel off, and stayed off
   * to its end), or, started by this step, already at its frame; and a pause holds at the time of the
   * next frame drawn, when the browser settles it. Returns what to do once the changes are styled
   * (their last at `startedTs`; undefined when none could restyle): the ones still running go back
   * to where they were, the ones now paused keep their time at `ts`, and the ones now resumed are
   * aged from `startedTs` to the frame, as stampAnimations ages new ones (the browser resumes one at
   * its next frame).
   */
  private catchUp(ts: number, frameTs: number): ((startedTs: number | undefined) => void) | undefined {
    if (this.animations.length === 0 || this.cfg.motion === 'frozen') return undefined;
    const drawnTs = drawnReplayTs();
    const moved: { a: Animation; by: number }[] = [];
    const held: Animation[] = [];
    for (const a of this.animations) {
      // Read without styling the page: a CSS animation's playState and pending bring its style up
      // to date first, which here (the group's changes not in yet) would be a style update more
      // for every group. Its current and start times do not; a paused one and one about to start
      // (this step's) both have no start time, and `paused` tells them apart.
      const time = a.currentTime;
      // Only those on time: a scroll-driven one's time is a share of its scroll, which the replay sets.
      if (typeof time !== 'number' || !a.playbackRate) continue;
      const waiting = a.startTime === null;
      if (waiting && this.paused.has(a)) {
        held.push(a);
        continue;
      }
      const at = waiting ? frameTs : drawnTs;
      if (at === undefined) continue;
      const by = (ts - at) * a.playbackRate;
      if (Math.abs(by) < TIMELINE_GRAIN_MS) continue;
      a.currentTime = time + by;
      moved.push({ a, by });
    }
    if (moved.length === 0 && held.length === 0) return undefined;
    return (startedTs) => {
      if (startedTs === undefined) {
        // Nothing was restyled (no change in the group could start or stop one): all as they were.
        for (const { a, by } of moved) a.currentTime = Number(a.currentTime) - by;
        return;
      }
      // The group's changes are styled now (stampAnimations): read every state before the first
      // time is set, which would make the next read style the page again.
      const movedStates = moved.map(({ a }) => ({ state: a.playState, pending: a.pending }));
      const heldStates = held.map((a) => ({ state: a.playState, pending: a.pending }));
      moved.forEach(({ a, by }, k) => {
        const { state, pending } = movedStates[k]!;
        // (One moved past its end is finished now: back too, so that motion() sees it end since the last frame.)
        if (state === 'running' || state === 'finished') a.currentTime = Number(a.currentTime) - by;
        else if (state === 'paused') {
          // A pause settles its time at the next frame unless the time is set (Web Animations' hold time).
          if (pending) a.currentTime = Number(a.currentTime);
          this.paused.add(a);
        }
      });
      held.forEach((a, k) => {
        const { state, pending } = heldStates[k]!;
        if (state !== 'running') return;
        this.paused.delete(a);
        if (pending) a.currentTime = Number(a.currentTime) + (frameTs - startedTs) * a.playbackRate;
      });
    };
  }

  /**
   * Whether something in the visible replay moves by itself at `frameTs`: finite animations and
   * transitions (captured at full rate until they end), infinite ones (spinners, tickers: the
   * renderer samples them less often), and when the next animation waiting for its delay starts.
   */
  private motion(frameTs: number): Motion & { movedSinceDrawn: boolean } {
    const out: Motion = { everyMs: null, nextStartTs: null };
    const doc = this.iframe.contentDocument;
    const win = this.iframe.contentWindow;
    if (this.cfg.motion === 'frozen' || !doc?.getAnimations || !win) return { ...out, movedSinceDrawn: false };
    const vw = win.innerWidth;
    const vh = win.innerHeight;
    const every = (ms: number) => {
      out.everyMs = Math.min(out.everyMs ?? Infinity, ms);
    };
    // Running animations are where the last frame drawn left them, which can be slots before this
    // one; those this step started wait for its frame, and were set for it (stampAnimations).
    const drawnTs = Math.min(frameTs, drawnReplayTs() ?? frameTs);
    let movedSinceDrawn = false;
    for (const a of this.shadowRoots.animations(doc, this.replayer.getMirror())) {
      if (a.playState !== 'running' || !a.playbackRate) continue;
      const effect = a.effect as KeyframeEffect | null;
      if (!effect) continue;
      const timing = effect.getComputedTiming();
      if (!onTime(timing)) continue;
      const local = Number(timing.localTime ?? 0);
      const delay = Number(timing.delay ?? 0);
      const end = Number(timing.endTime ?? 0);
      const rate = Math.abs(a.playbackRate);
      /** Its own time from now to the coming frame. */
      const ahead = a.pending ? 0 : (frameTs - drawnTs) * rate;
      if (local + ahead >= end && end !== Infinity) {
        // Ended since the last frame drawn: this frame shows its end, and nothing after it. One
        // that ends just before the frame may still be drawn short of its end (TIMELINE_GRAIN_MS):
        // the slot after it is looked at too.
        if (local < end) movedSinceDrawn = true;
        if (local + ahead < end + TIMELINE_GRAIN_MS) every(0);
        continue;
      }
      // An infinite animation off screen (a spinner in a closed menu, a ticker scrolled away) is not
      // sampled. Finite ones always are: they end, and one that slides something in starts off screen.
      const target = effect.target;
      const box = end === Infinity && target ? target.getBoundingClientRect() : undefined;
      if (box && target && !showsOnScreen(target, box, vw, vh)) continue;
      if (local + ahead < delay) {
        // Still waiting for its delay at the frame: nothing moves until then.
        out.nextStartTs = earliest(out.nextStartTs, frameTs + (delay - local - ahead) / rate);
        continue;
      }
      // (One whose delay ends before the frame is motion now.)
      const hold = local < delay ? { holdingMs: 0, hasHolds: false } : holdOf(effect, timing, ahead);
      if (hold.holdingMs > 0) {
        // Between two equal keyframes (a carousel's pause between slides), or within a step: still until the hold ends.
        out.nextStartTs = earliest(out.nextStartTs, frameTs + hold.holdingMs / rate);
        continue;
      }
      if (end !== Infinity) {
        every(Number(timing.duration) / rate / FINITE_FRAMES_PER_RUN || 0);
        // Its end on time too, not at the next sample after it (up to 200 ms late at 30 a run).
        out.nextStartTs = earliest(out.nextStartTs, frameTs + (end - local - ahead) / rate);
      } else if (hold.hasHolds) every(0);
      else every(box && box.width * box.height < SMALL_AREA_PX ? SMALL_EVERY_MS : INFINITE_EVERY_MS);
    }
    // Details sliding open or shut, which no getAnimations() lists (player/details-content.ts).
    this.details.note(doc, frameTs);
    const details = this.details.motion(frameTs);
    if (details.moving) every(0);
    if (details.endTs !== null) out.nextStartTs = earliest(out.nextStartTs, details.endTs);
    if (details.ended) movedSinceDrawn = true;
    for (const run of runningSmil(doc)) {
      const box = run.target.getBoundingClientRect();
      if (!showsOnScreen(run.target, box, vw, vh) || !shown(run.target)) continue;
      // As a CSS animation of the same kind (the SVG's timeline moves with the frames drawn).
      if (run.startsInMs > 0) out.nextStartTs = earliest(out.nextStartTs, frameTs + run.startsInMs);
      else if (run.finiteMs !== null) every(run.finiteMs / FINITE_FRAMES_PER_RUN);
      else every(box.width * box.height < SMALL_AREA_PX ? SMALL_EVERY_MS : INFINITE_EVERY_MS);
    }
    this.imageMotion(doc, frameTs, vw, vh, every);
    // A playing video shows another picture every slot, or less often when its pictures cost much (player/video.ts).
    const videoEvery = this.video.playing(doc, frameTs - this.firstTs);
    if (videoEvery !== null) every(videoEvery);
    return { ...out, movedSinceDrawn };
  }

  /**
   * Animated images on screen (a GIF spinner, an animated WebP banner) move as the browser plays them
   * on the frame clock, with no event and no animation the page can see: each is sampled as an
   * infinite animation of its size is. One that plays a set number of times is sampled until it has,
   * counted from the first frame it was seen on screen.
   */
  private imageMotion(doc: Document, frameTs: number, vw: number, vh: number, every: (ms: number) => void): void {
    if (this.animatedImages.size === 0) return;
    // Which elements show them changes only with the page (events, hover, loads all set `changed`);
    // where they are is read again at every step.
    if (this.changed || !this.imageUsers) this.imageUsers = this.animatedImageUsers(doc);
    for (const { el, url, pseudo } of this.imageUsers) {
      const a = this.animatedImages.get(url)!;
      // A pseudo-element's box cannot be read: its element is rendered is all that can be known.
      const box = pseudo ? undefined : el.getBoundingClientRect();
      if (box && (!onScreen(box, vw, vh) || box.width === 0 || box.height === 0)) continue;
      if (!shown(el)) continue;
      a.firstSeenTs ??= frameTs;
      if (a.plays > 0 && frameTs - a.firstSeenTs >= a.loopMs * a.plays) continue;
      // A slow one (a slideshow, a blinking badge) at every slot: the browser then draws its frames on
      // time, and a slot where it did not change is no picture. A fast one as an infinite animation.
      const frameMs = a.loopMs / a.frames;
      every(frameMs >= SLOW_IMAGE_FRAME_MS ? 0 : box && box.width * box.height < SMALL_AREA_PX ? SMALL_EVERY_MS : INFINITE_EVERY_MS);
    }
  }

  /** The elements that show an animated image: images of that URL, and elements styled with it (CSS backgrounds). */
  private animatedImageUsers(doc: Document): ImageUser[] {
    const out: ImageUser[] = [];
    for (const img of Array.from(doc.images)) {
      const url = img.currentSrc || img.src;
      if (this.animatedImages.has(url)) out.push({ el: img, url, pseudo: false });
    }
    for (const { url, selector, pseudo } of this.imageRules(doc)) {
      try {
        for (const el of Array.from(doc.querySelectorAll(selector))) out.push({ el, url, pseudo });
      } catch {
        // A selector this browser reads in a sheet but not in querySelectorAll: not followed.
      }
    }
    const paths = new Map([...this.animatedImages.keys()].map((url) => [pathOf(url), url]));
    for (const el of Array.from(doc.querySelectorAll('[style]'))) {
      const style = el.getAttribute('style') ?? '';
      for (const [path, url] of paths) if (style.includes(path)) out.push({ el, url, pseudo: false });
    }
    return out;
  }

  /**
   * The style rules that name an animated image (by path: a sheet may name it relatively): the
   * selector of the elements they style, and whether they style a pseudo-element of them.
   */
  private imageRules(doc: Document): { url: string; selector: string; pseudo: boolean }[] {
    const out: { url: string; selector: string; pseudo: boolean }[] = [];
    const paths = [...this.animatedImages.keys()].map((url) => [url, pathOf(url)] as const);
    const visit = (rules: CSSRuleList) => {
      for (const rule of Array.from(rules)) {
        // The replayed document's rules are of its own window: `instanceof CSSStyleRule` here is false for them.
        if (isStyleRule(rule)) {
          const text = rule.style.cssText;
          for (const [url, path] of paths) {
            if (!text.includes(path)) continue;
            const host = rule.selectorText.replace(PSEUDO_ELEMENT, '');
            out.push({ url, selector: host, pseudo: host !== rule.selectorText });
          }
        }
        const nested = (rule as CSSGroupingRule).cssRules;
        if (nested) visit(nested);
      }
    };
    for (const sheet of Array.from(doc.styleSheets)) {
      try {
        visit(sheet.cssRules);
      } catch {
        // A cross-origin sheet without CORS cannot be read: its rules are not followed.
      }
    }
    return out;
  }

  private restoreScrolls(): void {
    const mirror = this.replayer.getMirror();
    const win = this.iframe.contentWindow;
    for (const [id, s] of this.scrolls) {
      const node = mirror.getNode(id);
      if (!node) continue;
      if (node.nodeType === Node.DOCUMENT_NODE) {
        if (win && (Math.round(win.scrollX) !== Math.round(s.x) || Math.round(win.scrollY) !== Math.round(s.y))) {
          this.changed = true;
          win.scrollTo({ left: s.x, top: s.y, behavior: 'instant' });
        }
      } else if (node instanceof Element || (node as Element).scrollTo) {
        const el = node as Element;
        if (Math.round(el.scrollLeft) !== Math.round(s.x) || Math.round(el.scrollTop) !== Math.round(s.y)) {
          this.changed = true;
          el.scrollTo({ left: s.x, top: s.y, behavior: 'instant' });
        }
      }
    }
  }

  /**
   * Waits (at most capMs) for fonts, stylesheets and visible images the current DOM asked for.
   * `waitedMs`: how long something was loading meanwhile (0 when nothing was).
   */
  private async waitForAssets(capMs: number): Promise<{ pending: number; waitedMs: number }> {
    const deadline = performance.now() + capMs;
    let since: number | undefined;
    // A load can end by being replaced (rrweb swaps a style element, and its font faces with it),
    // so look again after each wait until nothing is loading.
    let waits: Map<object, Promise<unknown>> = new Map();
    for (let round = 0; round < 4; round++) {
      waits = this.pendingLoads();
      if (waits.size === 0 && round === 0) {
        // A load the layout asked for may start in the next task.
        await new Promise((r) => setTimeout(r, 0));
        waits = this.pendingLoads();
      }
      if (waits.size === 0) return { pending: 0, waitedMs: since === undefined ? 0 : performance.now() - since };
      // Something is loading (or was, when it came in while we waited): the page may change.
      this.changed = true;
      since ??= performance.now();
      const left = deadline - performance.now();
      if (left <= 0) break;
      await Promise.race([Promise.allSettled(waits.values()), new Promise((r) => setTimeout(r, left))]);
    }
    waits = this.pendingLoads();
    // What did not load within a whole wait is not waited for again: a stylesheet link whose load
    // event fired before we looked, or one that never loads, would otherwise hold every later frame
    // (measured on an mdBook page: all 300 slots of a 30 s moment captured, 71 distinct).
    for (const target of waits.keys()) this.waitedOut.add(target);
    return { pending: waits.size, waitedMs: since === undefined ? 0 : performance.now() - since };
  }

  /** What the page is loading now and we have not given up on: fonts, visible images, stylesheets. */
  private pendingLoads(): Map<object, Promise<unknown>> {
    const waits = new Map<object, Promise<unknown>>();
    const doc = this.iframe.contentDocument;
    if (!doc || !doc.documentElement) return waits;
    // Layout makes the document request the images it needs now.
    void doc.documentElement.scrollHeight;
    const add = (target: object, p: () => Promise<unknown>) => {
      if (!this.waitedOut.has(target)) waits.set(target, p());
    };
    if (doc.fonts) {
      // Layout starts the loads of the faces the page's text uses, and only those: loading every
      // declared face up front (as an earlier version did) fetched and decoded 1.5 MB of fonts on
      // rustdoc pages, a Korean face included, for nothing; the GIFs were byte-identical.
      for (const face of Array.from(doc.fonts as unknown as Iterable<FontFace>)) {
        if (face.status === 'loading') add(face, () => face.loaded);
      }
    }
    const vh = this.iframe.clientHeight || 10000;
    const vw = this.iframe.clientWidth || 10000;
    for (const img of Array.from(doc.images)) {
      if (img.complete || (!img.currentSrc && !img.src)) continue;
      const r = img.getBoundingClientRect();
      if (r.bottom < 0 || r.top > vh || r.right < 0 || r.left > vw) continue;
      add(img, () => loaded(img));
    }
    for (const link of Array.from(doc.querySelectorAll('link[rel~="stylesheet"]')) as HTMLLinkElement[]) {
      if (!link.sheet && link.href && !link.disabled) add(link, () => loaded(link));
    }
    return waits;
  }

  /**
   * The clicks drawn at `t`, where they are on the picture. Node draws them on the frames
   * (src/render/ripples.ts), not the page: a frame that differs from the last only by its ripples
   * is then not a picture the browser has to take (BENCHMARKS.md, stop 19).
   */
  private ripplesAt(t: number): Ripple[] {
    return this.clicks
      .filter((c) => c.ts <= t && t < c.ts + this.cfg.clickRippleMs)
      .map((c) => ({ x: this.offset.x + c.x * this.scale, y: this.offset.y + c.y * this.scale, progress: (t - c.ts) / this.cfg.clickRippleMs }));
  }

  /**
   * Where rrweb put the pointer, on the picture. Node draws it (src/render/pointer.ts; the page hides
   * rrweb's cursor, player/index.html): a slot where only the pointer moved is then no picture for
   * the browser to take, unless the move changed what is hovered. None before the recording gives a
   * position (rrweb would show its cursor in the top left corner, where the user's never was), and
   * none on a touch device, whose touch marker the page still draws.
   */
  private pointerAt(): Pointer | null {
    const mouse = this.mouse;
    if (!mouse || mouse.classList.contains('touch-device')) return null;
    const left = parseFloat(mouse.style.left);
    const top = parseFloat(mouse.style.top);
    if (!Number.isFinite(left) || !Number.isFinite(top)) return null;
    return { x: this.offset.x + left * this.scale, y: this.offset.y + top * this.scale, size: POINTER_CSS_PX * this.scale };
  }
}

/**
 * Whether an animation runs on time (the document's timeline), not on a scroll or view timeline
 * (`animation-timeline: scroll()` or `view()`: a reading progress bar, a section fading in as it
 * scrolls into view). Those follow the page's scroll positions, which the replay restores, and move
 * with them only, which are events; their times are percentages, and setting one a time in ms threw,
 * which failed the render of any page that had one.
 */
function onTime(timing: ComputedEffectTiming | undefined): boolean {
  return typeof timing?.duration === 'number';
}

/** Whether a box meets the viewport (a line of zero width or height does: an animated border, say). */
function onScreen(box: DOMRect, vw: number, vh: number): boolean {
  return !(box.bottom <= 0 || box.right <= 0 || box.top >= vh || box.left >= vw || (box.width === 0 && box.height === 0));
}

/** Descendants looked at for an animated element whose own box is empty or off screen (showsOnScreen). */
const DESCENDANTS_LOOKED_AT = 64;

/**
 * Whether an element's animation can show on screen: its box is on screen, or one of its first
 * descendants' is, for a box that holds none of them. CodeMirror's caret is in a layer of no size
 * (`contain: size`) whose children overflow it: its blink (an infinite animation of the layer) was
 * taken for one off screen and never sampled, and the caret stood still in the GIF.
 */
function showsOnScreen(el: Element, box: DOMRect, vw: number, vh: number): boolean {
  if (onScreen(box, vw, vh)) return true;
  let n = 0;
  for (const d of el.querySelectorAll('*')) {
    if (++n > DESCENDANTS_LOOKED_AT) break;
    if (onScreen(d.getBoundingClientRect(), vw, vh)) return true;
  }
  return false;
}

function isStyleRule(rule: CSSRule): rule is CSSStyleRule {
  return typeof (rule as CSSStyleRule).selectorText === 'string' && (rule as CSSStyleRule).style !== undefined;
}

/** A URL's path and query: how a style sheet that names it relatively still names it. */
function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

/** Whether an element is rendered and not hidden by visibility or full transparency (where the browser can tell). */
function shown(el: Element): boolean {
  const check = (el as Element & { checkVisibility?: (o: object) => boolean }).checkVisibility;
  return check ? check.call(el, { opacityProperty: true, visibilityProperty: true, checkOpacity: true, checkVisibilityCSS: true }) : true;
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

type Click = PlayerWindow['clicks'][number];

/**
 * The stage: one Player per window (tab) of the recording, each in its own box, the one the user was
 * in at a frame's time shown and stepped. A window taking the screen again catches up from where it
 * was left, as its own events say.
 */
class Show {
  private players = new Map<string, Player>();
  private windows: Map<string, PlayerWindow>;
  private current: Player | undefined;
  private stage = document.getElementById('stage')!;
  private footerUrl = document.getElementById('footer-url')!;
  private footerTime = document.getElementById('footer-time')!;

  constructor(
    windows: PlayerWindow[],
    private cfg: PlayerConfig,
  ) {
    this.windows = new Map(windows.map((w) => [w.key, w]));
    this.stage.style.width = `${cfg.frameWidth}px`;
    this.stage.style.height = `${cfg.frameHeight}px`;
    const footer = document.getElementById('footer')!;
    footer.style.height = `${cfg.footerHeight}px`;
    footer.style.display = cfg.footerHeight > 0 ? 'flex' : 'none';
    footer.style.fontSize = `${Math.max(10, Math.round(cfg.footerHeight * 0.46))}px`;
  }

  /** The window on screen at `t`, its player made (and its first page built) the first time. */
  private async playerAt(t: number): Promise<Player> {
    let key = this.cfg.schedule[0]!.key;
    for (const span of this.cfg.schedule) if (span.fromTs <= t) key = span.key;
    let player = this.players.get(key);
    if (!player) {
      const w = this.windows.get(key);
      if (!w) throw new Error(`no events for window ${JSON.stringify(key)}`);
      const root = document.createElement('div');
      root.className = 'rr-window';
      this.stage.appendChild(root);
      player = new Player(w.events as eventWithTime[], w.clicks, this.cfg, root);
      this.players.set(key, player);
      await player.settleStart();
    }
    if (player !== this.current) {
      for (const p of this.players.values()) p.root.style.display = p === player ? 'block' : 'none';
      this.current = player;
    }
    return player;
  }

  async step(t: number, cuts: number[], assetCapMs: number): Promise<StepResult> {
    const shown = this.current;
    const player = await this.playerAt(t);
    const r = await player.step(t, cuts, assetCapMs);
    const time = clock(t - this.cfg.sessionStartTs);
    // The footer's text, and which window is on screen, are the page's too.
    const same = player === shown && this.footerTime.textContent === time && this.footerUrl.textContent === player.href;
    this.footerTime.textContent = time;
    this.footerUrl.textContent = player.href;
    return same ? r : { ...r, still: false };
  }

  settle(assetCapMs: number, frameTs: number): Promise<StepResult> {
    if (!this.current) throw new Error('settle before the first step');
    return this.current.settle(assetCapMs, frameTs);
  }
}

let show: Show | undefined;

/**
 * Resolves once the frame after the last step that was not still has been drawn. Node captures that
 * frame while it already steps to the next slot (src/render/capture-loop.ts): a step given
 * `afterFrame` waits for this first, so its changes cannot reach the picture being taken. The animation-frame callback
 * runs at the start of that frame's main-frame update, and the message after it once the update
 * (style, layout, paint, commit to the compositor) is done; the compositor then rasters and draws
 * from what was committed, while this thread is free to change the document again.
 */
let drawn: Promise<void> = Promise.resolve();
/** The last step sent, which the next one waits for. */
let stepping: Promise<unknown> = Promise.resolve();

/**
 * Replay time minus this page's timeline time, learnt from a drawn frame: Node draws each frame at a
 * frame time that is the slot's replay time plus a constant (src/render/frame-source.ts).
 */
let timelineToReplay: number | undefined;

/**
 * The replay time of the last frame drawn, where the page's running animations are now: the
 * timeline moves only with the frames Node draws, and slots not captured are not drawn. Undefined
 * before the first frame.
 */
function drawnReplayTs(): number | undefined {
  const now = document.timeline.currentTime;
  return timelineToReplay === undefined || now === null ? undefined : Number(now) + timelineToReplay;
}

/** `t`: the replay time of the step whose frame comes next. */
function watchNextFrame(t: number): void {
  drawn = new Promise((resolve) => {
    requestAnimationFrame((frameTime) => {
      timelineToReplay = t - frameTime;
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  });
}

/** Runs a step or settle and reports how long it took the page (without the wait for the frame before it). */
async function timed(t: number, work: () => Promise<StepResult>): Promise<StepResult> {
  const from = performance.now();
  const r = await work();
  // Node draws no frame for a still step (capture-loop.ts): a step after it waits for the frame of
  // the last step that was drawn.
  if (!r.still) watchNextFrame(t);
  return { ...r, ms: performance.now() - from };
}

const api = {
  /**
   * `payloadGzip64`: the windows and their events (PlayerPayload) as gzipped JSON in base64: a sixth
   * of the bytes through CDP (5 MB of rustdoc events: ~500 ms as a JSON string, ~250 ms gzipped).
   * Unpacked with the native base64 decoder and read as bytes: a data: URL fetch and a text body
   * took 568-726 ms for 6 MB of rustdoc events, this 430-531 (2026-12-01, 3 runs each in a page
   * alone, CDP transfer included; BENCHMARKS.md).
   */
  async init(payloadGzip64: string, configJson: string): Promise<StylesheetReport> {
    const style = document.createElement('style');
    style.textContent = rrwebCss;
    document.head.appendChild(style);
    const gz = new Blob([Uint8Array.fromBase64(payloadGzip64)]);
    const json = new TextDecoder().decode(await new Response(gz.stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
    const payload = JSON.parse(json) as PlayerPayload;
    const cfg = JSON.parse(configJson) as PlayerConfig;
    // The plain approach replays the recording as rrweb would, with what it lost.
    const eventLists = payload.windows.map((w) => w.events as eventWithTime[]);
    if (!cfg.naive) uncheckRecordedBoxes(eventLists);
    const stylesheets = cfg.naive ? { lost: 0, restored: 0, repaired: 0 } : await restoreLostStylesheets(eventLists);
    // After the restore, which compares the recorded texts with the site's as they were recorded.
    if (!cfg.naive) rewriteStateSelectors(eventLists);
    show = new Show(payload.windows, cfg);
    return stylesheets;
  },
  /**
   * `afterFrame`: Node is capturing the frame of the last step; wait until it is drawn before
   * changing the page. Steps run one after another: Node sends the next slot's step before the
   * answer to this one (capture-loop.ts, stepAhead).
   */
  step(t: number, cuts: number[], assetCapMs: number, afterFrame = false): Promise<StepResult> {
    const s = show;
    if (!s) throw new Error('player not initialised');
    const run = stepping.then(async () => {
      if (afterFrame) await drawn;
      return timed(t, () => s.step(t, cuts, assetCapMs));
    });
    stepping = run.catch(() => {});
    return run;
  },
  settle(assetCapMs: number, frameTs: number): Promise<StepResult> {
    const s = show;
    if (!s) throw new Error('player not initialised');
    return timed(frameTs, () => s.settle(assetCapMs, frameTs));
  },
};

(window as unknown as { __rr: typeof api }).__rr = api;

