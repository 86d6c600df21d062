/**
 * Videos in the replay, shown at the picture they had at each step's moment.
 *
 * rrweb keeps media paused while its replay is paused, and ours always is between the steps Node
 * drives, so a video the user watched would stand at one picture for the whole clip. Seeking the
 * replay's own video does not fix it: under begin-frame control Chromium shows a paused video's
 * sought picture only at the next seek (BENCHMARKS.md, stop 23). A picture drawn from the decoder
 * once `seeked` has fired is the right one, so each video's bytes are loaded once into a video of
 * the player's own (a blob: URL, which seeks without byte ranges), seeked to the step's moment,
 * drawn, and shown as the replay video's background, with the replay video's own picture moved out
 * of its box (`object-position`; the box, its controls and its layout stay the page's).
 */

/** rrweb's MediaManager state of one media element (its mediaMap's values). */
export interface MediaState {
  isPlaying: boolean;
  currentTimeAtLastInteraction: number;
  /** ms since the Replayer's first event, when the state was set. */
  lastInteractionTimeOffset: number;
  playbackRate: number;
  loop: boolean;
}

/** Videos drawn per step at most (a grid of autoplaying thumbnails costs a seek and a draw each). */
const MAX_VIDEOS = 6;
/** Videos kept loaded for the render; the oldest is let go past this. */
const MAX_SOURCES = 8;
/** A picture is drawn at most this size (the video's box on the page is smaller, or the video is). */
const MAX_PICTURE_PX = 1280;
/** JPEG: the pictures are of video, already lossy; PNG would cost 3-10 times the encode. */
const PICTURE_QUALITY = 0.9;

interface Source {
  video: HTMLVideoElement;
  url: string;
}

/** A source being loaded, and once loaded, what it is (undefined: it cannot be). */
interface Loading {
  done: Promise<Source | undefined>;
  source?: Source;
}

/** What a replay video shows: its source and media time, and our picture of it. */
interface Shown {
  src: string;
  time: number;
  url: string;
  width: number;
  height: number;
}

type Deadline = () => number;

export class VideoReplay {
  /** The player's own videos, by the replay video's source URL. */
  private readonly sources = new Map<string, Loading>();
  private readonly shown = new WeakMap<HTMLVideoElement, Shown>();
  private readonly canvas = document.createElement('canvas');

  constructor(
    /** rrweb's state for a replay media element, when it has one. */
    private readonly stateOf: (video: HTMLVideoElement) => MediaState | undefined,
  ) {}

  /**
   * Shows each video on screen in `doc` at its picture for replay time `offsetMs` (ms since the
   * Replayer's first event), waiting at most `capMs` for videos to load and seek.
   */
  async apply(doc: Document, offsetMs: number, capMs: number): Promise<void> {
    const videos = this.onScreen(doc);
    if (videos.length === 0) return;
    const end = performance.now() + capMs;
    const left: Deadline = () => Math.max(0, end - performance.now());
    for (const v of videos) {
      try {
        await this.showAt(v.video, v.state, v.src, offsetMs, left);
      } catch {
        // A video the browser cannot decode or seek keeps the replay's own picture.
      }
    }
  }

  /** Whether a video on screen in `doc` plays at `offsetMs`: its picture changes from slot to slot. */
  playing(doc: Document, offsetMs: number): boolean {
    for (const { state, src } of this.onScreen(doc)) {
      if (!state.isPlaying) continue;
      // Its length is known once loaded; until then a playing video counts as playing.
      const duration = this.sources.get(src)?.source?.video.duration;
      if (state.loop || duration === undefined || !Number.isFinite(duration) || mediaTime(state, offsetMs) < duration) return true;
    }
    return false;
  }

  /** Replay videos with rrweb state and a source, in view, in document order (MAX_VIDEOS of them). */
  private onScreen(doc: Document): { video: HTMLVideoElement; state: MediaState; src: string }[] {
    const win = doc.defaultView;
    if (!win) return [];
    const out: { video: HTMLVideoElement; state: MediaState; src: string }[] = [];
    for (const video of Array.from(doc.getElementsByTagName('video'))) {
      const state = this.stateOf(video);
      const src = state && sourceOf(video);
      if (!state || !src) continue;
      const box = video.getBoundingClientRect();
      if (box.width < 1 || box.height < 1 || box.right <= 0 || box.bottom <= 0 || box.left >= win.innerWidth || box.top >= win.innerHeight) continue;
      out.push({ video, state, src });
      if (out.length >= MAX_VIDEOS) break;
    }
    return out;
  }

  private async showAt(video: HTMLVideoElement, state: MediaState, src: string, offsetMs: number, left: Deadline): Promise<void> {
    const source = await within(this.load(src), left());
    if (source === LATE || !source) return;
    const own = source.video;
    let time = mediaTime(state, offsetMs);
    const duration = own.duration;
    if (Number.isFinite(duration) && duration > 0) time = state.loop ? time % duration : Math.min(time, duration);
    const before = this.shown.get(video);
    if (before && before.src === src && before.time === time) {
      // The same picture; put it back if the page's events replaced the video's style attribute.
      if (video.style.getPropertyPriority('background-image') !== 'important') paint(video, before);
      return;
    }
    if (own.currentTime !== time || own.seeking) {
      const seeked = new Promise<void>((resolve) => own.addEventListener('seeked', () => resolve(), { once: true }));
      own.currentTime = time;
      if ((await within(seeked, left())) === LATE) return;
    }
    const url = this.picture(own, video);
    if (!url) return;
    const img = new Image();
    img.src = url;
    if ((await within(img.decode(), left())) === LATE) return;
    const shown: Shown = { src, time, url, width: own.videoWidth, height: own.videoHeight };
    this.shown.set(video, shown);
    paint(video, shown);
  }

  /** The player's own video of `src`, loaded (once per render) through the asset proxy as a blob. */
  private load(src: string): Promise<Source | undefined> {
    let loading = this.sources.get(src);
    if (!loading) {
      const entry: Loading = { done: loadVideo(src) };
      void entry.done.then((s) => (entry.source = s));
      this.sources.set(src, entry);
      loading = entry;
      if (this.sources.size > MAX_SOURCES) {
        const [oldest, gone] = this.sources.entries().next().value!;
        this.sources.delete(oldest);
        void gone.done.then((s) => s && release(s));
      }
    }
    return loading.done;
  }

  /** The video's current picture as a data: URL, at most the size its box shows it at. */
  private picture(own: HTMLVideoElement, shownIn: HTMLVideoElement): string | undefined {
    const w = own.videoWidth;
    const h = own.videoHeight;
    if (!w || !h) return undefined;
    const box = shownIn.getBoundingClientRect();
    const scale = Math.min(1, MAX_PICTURE_PX / Math.max(w, h), Math.max(box.width / w, box.height / h));
    const c = this.canvas;
    c.width = Math.max(1, Math.round(w * scale));
    c.height = Math.max(1, Math.round(h * scale));
    const ctx = c.getContext('2d');
    if (!ctx) return undefined;
    ctx.drawImage(own, 0, 0, c.width, c.height);
    // toDataURL, not toBlob: toBlob encodes in idle time, which a page driven by begin-frames reaches late.
    return c.toDataURL('image/jpeg', PICTURE_QUALITY);
  }
}

async function loadVideo(src: string): Promise<Source | undefined> {
  let url: string | undefined;
  try {
    // Through the asset proxy like every asset of the replay (it allows every origin for CORS).
    const res = await fetch(src, { mode: 'cors', credentials: 'omit' });
    if (!res.ok) return undefined;
    url = URL.createObjectURL(await res.blob());
    const video = document.createElement('video');
    video.muted = true;
    video.preload = 'auto';
    const ready = new Promise<boolean>((resolve) => {
      video.addEventListener('loadeddata', () => resolve(true), { once: true });
      video.addEventListener('error', () => resolve(false), { once: true });
    });
    video.src = url;
    if (await ready) return { video, url };
    URL.revokeObjectURL(url);
    return undefined;
  } catch {
    if (url) URL.revokeObjectURL(url);
    return undefined;
  }
}

function release(s: Source): void {
  s.video.removeAttribute('src');
  s.video.load();
  URL.revokeObjectURL(s.url);
}

/** Where the video's media time is at `offsetMs`, by rrweb's rule (MediaManager.seekTo), before looping. */
function mediaTime(s: MediaState, offsetMs: number): number {
  if (!s.isPlaying) return s.currentTimeAtLastInteraction;
  return Math.max(0, s.currentTimeAtLastInteraction + ((offsetMs - s.lastInteractionTimeOffset) / 1000) * s.playbackRate);
}

/** The URL a replay video plays: its chosen source, its src, or its first <source>. */
function sourceOf(video: HTMLVideoElement): string | undefined {
  const chosen = video.currentSrc || video.src || video.querySelector('source[src]')?.getAttribute('src') || '';
  if (!chosen || chosen.startsWith('blob:') || chosen.startsWith('data:')) return chosen.startsWith('data:') ? chosen : undefined;
  try {
    return new URL(chosen, video.ownerDocument.baseURI).href;
  } catch {
    return undefined;
  }
}

/** Marks a replay video whose picture is ours (VIDEO_RULE hides its own). */
const PICTURE_ATTR = 'data-rr-picture';

/**
 * The replay's rules for videos, inserted in its head with the player's other rules:
 * - a marked video's own picture is moved out of its box (replaced content is clipped to it),
 *   leaving its box, background and controls;
 * - a video the page gave no controls shows none. The HTML standard has a media element in a
 *   document that may not run scripts show the browser's own controls whatever its attributes say,
 *   and the replay's document may not: every video of every replay had a play button, a timeline and,
 *   while loading, a spinner over its picture, and one that failed to load a dark panel over its
 *   background.
 */
export const VIDEO_RULES = [
  `video[${PICTURE_ATTR}] { object-position: -100000px -100000px !important; }`,
  'video:not([controls])::-webkit-media-controls { display: none !important; }',
];

/**
 * Shows our picture where the video's is, sized and placed as the page's object-fit and
 * object-position place the video's (read with our mark off), and hides the video's own.
 */
function paint(video: HTMLVideoElement, shown: Shown): void {
  video.removeAttribute(PICTURE_ATTR);
  const cs = video.ownerDocument.defaultView?.getComputedStyle(video);
  const fit = cs?.objectFit ?? 'contain';
  const box = video.getBoundingClientRect();
  const natural = `${shown.width}px ${shown.height}px`;
  const fits = shown.width <= box.width && shown.height <= box.height;
  const size = fit === 'fill' ? '100% 100%' : fit === 'cover' ? 'cover' : fit === 'none' || (fit === 'scale-down' && fits) ? natural : 'contain';
  const s = video.style;
  s.setProperty('background-image', `url("${shown.url}")`, 'important');
  s.setProperty('background-size', size, 'important');
  s.setProperty('background-position', cs?.objectPosition || '50% 50%', 'important');
  s.setProperty('background-repeat', 'no-repeat', 'important');
  s.setProperty('background-origin', 'content-box', 'important');
  s.setProperty('background-clip', 'content-box', 'important');
  video.setAttribute(PICTURE_ATTR, '');
}

const LATE = Symbol('late');

/** The promise's value, or LATE when it fails or takes longer than `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((r) => (timer = setTimeout(() => r(LATE), ms)));
  try {
    return await Promise.race([p.catch((): typeof LATE => LATE), late]);
  } finally {
    clearTimeout(timer);
  }
}
