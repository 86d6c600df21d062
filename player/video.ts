/**
 * Videos in the replay, shown at the picture they had at each step's moment.
 *
 * rrweb keeps media paused while its replay is paused, and ours always is between the steps Node
 * drives, so a video the user watched would stand at one picture for the whole clip. Seeking the
 * replay's own video does not fix it: under begin-frame control Chromium shows a paused video's
 * sought picture only at the next seek (BENCHMARKS.md, stop 23). So each video's bytes are loaded
 * once into a video of the player's own (a blob: URL, which seeks without byte ranges), seeked to
 * the step's media time, its frame for that time taken as a VideoFrame and drawn, and the picture
 * shown as the replay video's background, with the replay video's own picture moved out of its box
 * (VIDEO_RULES; the box, its controls and its layout stay the page's).
 *
 * A seek decodes from the keyframe before its time, so a large video with keyframes far apart
 * costs much per picture: a playing video's next seek starts as soon as a picture is taken, and
 * its pictures come less often the more frames a seek decodes (gapMs).
 */

import { within } from './within.js';

/** What a wait within a step's deadline gives when it fails or runs out. */
const LATE = Symbol('late');

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
/** A frame without a duration is taken to last this long (µs); frame times are compared this loosely (s). */
const FRAME_FALLBACK_US = 100_000;
const FRAME_SLACK_S = 0.001;
/** Looks at the video's current frame (4 ms apart) after which one that stands still is taken whatever its time. */
const SETTLED_TRIES = 12;
/** A playing video's picture stands this many times what it costs (gapMs). */
const COST_TO_GAP = 3;
/**
 * The estimate of a picture's cost (gapMs), per megapixel: of the picture as drawn (its draw,
 * encode and decode in the page, and the area of the GIF it changes, which the browser copies and
 * Node encodes at every new picture: a 900x506 picture of a 1280x720 video took 25 ms in the page
 * and about 75 ms in all), and of each frame its seek decoded (154 frames of 1280x720 in 213 ms).
 */
const PICTURE_MS_PER_MEGAPIXEL = 100;
const DECODE_MS_PER_MEGAPIXEL = 1.5;
/** JPEG: the pictures are of video, already lossy; PNG would cost 3-10 times the encode. */
const PICTURE_QUALITY = 0.9;

interface Source {
  video: HTMLVideoElement;
  url: string;
  /** The seek started for the next picture of a playing video, right after this one. */
  next?: { time: number; done: Promise<number> };
  /** What its last picture cost the page, as estimated from the frames its seek decoded (gapMs). */
  costMs: number;
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
  /** The replay time it was drawn for. */
  offsetMs: number;
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
  /** The replay time of the last step, and how far it moved on from the one before. */
  private lastOffsetMs: number | undefined;
  private stepMs = 0;

  constructor(
    /** rrweb's state for a replay media element, when it has one. */
    private readonly stateOf: (video: HTMLVideoElement) => MediaState | undefined,
    /**
     * Picture pixels per CSS pixel of the replayed page: the GIF's, with some to spare. The browser
     * scales the page down to the GIF's size anyway; a picture at the video's own size would cost
     * its drawing, encoding and decoding several times over at every step (a 1280x720 video: 17,
     * 15 and 15 ms at 960x540).
     */
    private readonly pixelsPerCssPx: () => number,
  ) {}

  /**
   * Shows each video on screen in `doc` at its picture for replay time `offsetMs` (ms since the
   * Replayer's first event), waiting at most `capMs` for videos to load and seek.
   */
  async apply(doc: Document, offsetMs: number, capMs: number): Promise<void> {
    if (this.lastOffsetMs !== undefined && offsetMs > this.lastOffsetMs) this.stepMs = offsetMs - this.lastOffsetMs;
    this.lastOffsetMs = offsetMs;
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

  /**
   * How often (ms of replay time) a video on screen in `doc` shows a new picture at `offsetMs`, or
   * null when none plays: 0 for every slot, more for a video whose pictures cost much (gapMs).
   */
  playing(doc: Document, offsetMs: number): number | null {
    let every: number | null = null;
    for (const { state, src } of this.onScreen(doc)) {
      if (!state.isPlaying) continue;
      // Its length is known once loaded; until then a playing video counts as playing.
      const source = this.sources.get(src)?.source;
      const duration = source?.video.duration;
      if (state.loop || duration === undefined || !Number.isFinite(duration) || mediaTime(state, offsetMs) < duration) {
        every = Math.min(every ?? Infinity, source ? gapMs(source) : 0);
      }
    }
    return every;
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
    const source = await within(this.load(src), left(), LATE);
    if (source === LATE || !source) return;
    const own = source.video;
    let time = mediaTime(state, offsetMs);
    const duration = own.duration;
    if (Number.isFinite(duration) && duration > 0) time = state.loop ? time % duration : Math.min(time, duration);
    const before = this.shown.get(video);
    const recent = before && state.isPlaying && offsetMs >= before.offsetMs && offsetMs - before.offsetMs < gapMs(source);
    if (before && before.src === src && (before.time === time || recent)) {
      // The same picture, or one too soon after it; put it back if the page's events replaced the
      // video's style attribute.
      if (video.style.getPropertyPriority('background-image') !== 'important') paint(video, before);
      return;
    }
    const next = source.next;
    source.next = undefined;
    // The seek this picture needs was most likely started after the last one (below): the decoder
    // worked on it while the browser drew and Node took pictures.
    const decoded = await within(next?.time === time ? next.done : seekTo(own, time), left(), LATE);
    if (decoded === LATE || decoded < 0) return;
    const url = await this.picture(own, video, time, left);
    if (!url) return;
    const img = new Image();
    img.src = url;
    if ((await within(img.decode(), left(), LATE)) === LATE) return;
    const shown: Shown = { src, time, offsetMs, url, width: own.videoWidth, height: own.videoHeight };
    this.shown.set(video, shown);
    paint(video, shown);
    const drawnMp = (this.canvas.width * this.canvas.height) / 1e6;
    source.costMs = PICTURE_MS_PER_MEGAPIXEL * drawnMp + DECODE_MS_PER_MEGAPIXEL * decoded * ((own.videoWidth * own.videoHeight) / 1e6);
    if (state.isPlaying && this.stepMs > 0 && Number.isFinite(duration) && duration > 0) {
      // A seek decodes from the last keyframe (a 1280x720 H.264 video: ~95 ms), on the decoder's
      // threads: the next picture's starts now, at the step it will be due.
      const inMs = Math.ceil(Math.max(this.stepMs, gapMs(source)) / this.stepMs) * this.stepMs;
      const ahead = time + (inMs / 1000) * state.playbackRate;
      const nextTime = state.loop ? ahead % duration : Math.min(ahead, duration);
      source.next = { time: nextTime, done: seekTo(own, nextTime) };
      source.next.done.catch(() => {});
    }
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

  /**
   * The video's picture at `time` as a data: URL, at most the size its box shows it at. A `seeked`
   * can come before the decoder's new frame is the video's current one (seen under load: a paused
   * video drew the frame of the seek before it), so the frame is taken as a VideoFrame, whose
   * timestamp says which it is, and taken again until it is the one that covers `time`.
   */
  private async picture(own: HTMLVideoElement, shownIn: HTMLVideoElement, time: number, left: Deadline): Promise<string | undefined> {
    const w = own.videoWidth;
    const h = own.videoHeight;
    if (!w || !h) return undefined;
    const box = shownIn.getBoundingClientRect();
    const px = this.pixelsPerCssPx();
    const scale = Math.min(1, MAX_PICTURE_PX / Math.max(w, h), Math.max((box.width * px) / w, (box.height * px) / h));
    const c = this.canvas;
    c.width = Math.max(1, Math.round(w * scale));
    c.height = Math.max(1, Math.round(h * scale));
    const ctx = c.getContext('2d');
    if (!ctx) return undefined;
    let last: number | undefined;
    for (let tries = 1; ; tries++) {
      const frame = new VideoFrame(own);
      try {
        const start = frame.timestamp / 1e6;
        const end = start + (frame.duration ?? FRAME_FALLBACK_US) / 1e6;
        // A file whose frame times are not its media times (an edit list) never matches: once the
        // frame has stood still for a while, it is the one.
        const settled = tries >= SETTLED_TRIES && start === last;
        if ((start <= time + FRAME_SLACK_S && time < end + FRAME_SLACK_S) || settled) {
          ctx.drawImage(frame, 0, 0, c.width, c.height);
          break;
        }
        last = start;
      } finally {
        frame.close();
      }
      if (left() <= 0) return undefined;
      await new Promise((r) => setTimeout(r, 4));
    }
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
    if (await ready) return { video, url, costMs: 0 };
    URL.revokeObjectURL(url);
    return undefined;
  } catch {
    if (url) URL.revokeObjectURL(url);
    return undefined;
  }
}

/**
 * How long a playing video's picture stands before the next is drawn, in replay ms: at every step
 * while pictures are cheap (a small video), sparser as they cost more, so that a video costs a
 * render a share of its time, not all of it. The cost is estimated from the frames the last seek
 * decoded (a seek decodes from the keyframe before its time: a 1280x720 H.264 video with a
 * keyframe every 250 frames decoded 19 frames in 45 ms for 0.5 s, 154 in 213 ms for 5 s), not
 * timed, so that a render's pictures do not depend on how loaded the machine is.
 */
function gapMs(source: Source): number {
  return source.costMs * COST_TO_GAP;
}

/**
 * Seeks `video` to `time`; resolves once it shows it, with how many frames that decoded, or -1 when
 * it did not get there. A seek started while another runs replaces it, and the `seeked` of the one
 * replaced can still come: only one that lands at `time` counts.
 */
function seekTo(video: HTMLVideoElement, time: number): Promise<number> {
  if (at(video, time) && !video.seeking && video.readyState >= 2) return Promise.resolve(0);
  const decodedBefore = video.getVideoPlaybackQuality().totalVideoFrames;
  return new Promise<number>((resolve) => {
    const done = (ok: boolean) => {
      video.removeEventListener('seeked', onSeeked);
      video.removeEventListener('error', onError);
      resolve(ok ? Math.max(0, video.getVideoPlaybackQuality().totalVideoFrames - decodedBefore) : -1);
    };
    const onSeeked = () => {
      if (at(video, time) && !video.seeking) done(true);
      else if (!video.seeking) done(false);
    };
    const onError = () => done(false);
    video.addEventListener('seeked', onSeeked);
    video.addEventListener('error', onError);
    video.currentTime = time;
  });
}

/** Whether the video stands at `time`: Chromium keeps media time in microseconds. */
function at(video: HTMLVideoElement, time: number): boolean {
  return Math.abs(video.currentTime - time) < 1e-5;
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
  // A blob: URL was the recorded page's own object: nothing here can load it.
  if (!chosen || chosen.startsWith('blob:')) return undefined;
  try {
    return new URL(chosen, video.ownerDocument.baseURI).href;
  } catch {
    return undefined;
  }
}

/** Marks a replay video whose picture is ours (VIDEO_RULES hide its own). */
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

