import sharp from 'sharp';
import type { Clip, FrameSlot } from '../recording/clip.js';
import { PaletteSampler } from './gif.js';
import { pictureLayout, type FrameGeometry, type PictureLayout, type PixelBox } from './geometry.js';
import { drawMarks, marksBox, sameMarks, unionBox, type Marks } from './marks.js';
import type { Motion, StepResult } from './player-protocol.js';
import { pointerSprite, type PointerSprite } from './pointer.js';
import type { ReplayPage } from './replay-page.js';
import type { RenderContext } from './types.js';

// libvips keeps its last 100 operations for reuse; every picture we decode is new, so the cache never
// hits and only keeps those operations alive in a long-running worker.
sharp.cache(false);

/** Longest we hold one frame for its assets, and for all frames of a render together. */
const ASSET_WAIT_PER_FRAME_MS = 1500;
const ASSET_WAIT_PER_RENDER_MS = 8000;
/** Steps in flight ahead of the slot being captured (stepAhead). */
const STEPS_IN_FLIGHT = 4;
/** Slots not to be captured that a step sent ahead may pass over (a second at 10 fps). */
const SKIPPED_AHEAD_MAX = 10;
/** Decoded pictures kept in memory up to this; past it they are decoded again at encode time. */
const RAW_FRAME_BUDGET_BYTES = 384 * 1024 * 1024;

const STILL: Motion = { everyMs: null, nextStartTs: null };

/**
 * One frame of the clip: a picture, decoded (on libuv's threads) to RGBA at the GIF's size, with its
 * marks (ripples, pointer) drawn on at encode time, into `canvas` when one is given: read the
 * result before asking any frame for its pixels with the same canvas again.
 */
export interface CapturedFrame {
  delayCs: number;
  rgba(canvas?: Uint8Array): Promise<Uint8Array>;
  /** Where it can differ from the frame before (the same picture, its marks moved); undefined: anywhere. */
  changedBox?: PixelBox;
}

/** A picture the browser took, decoded once; frames that differ only by their marks share it. */
interface Picture {
  /** Resolves once decoded and sampled. */
  decoded: Promise<void>;
  rgba(): Promise<Buffer>;
}

interface Frame extends CapturedFrame {
  picture: Picture;
  marks: Marks;
}

export interface CaptureTimings {
  /** Replaying up to the first frame (the page's history before the window). */
  firstStepMs: number;
  /** Waiting for the replay to reach each later captured frame, in all; and each step's own length. */
  replayMs: number;
  stepMs: number[];
  /** Steps sent while the frame before was captured (their time overlaps the capture's). */
  stepsAhead: number;
  captureMs: number;
  /** Slots whose step changed nothing on the page but the pointer: no frame drawn by the browser. */
  stillSlots: number;
  /** Time the steps spent waiting for assets, in the page and here (the asset budget's charge). */
  assetWaitMs: number;
}

/**
 * Steps the replay through the clip's frame slots and captures only those that can differ from the
 * last frame: an event landed, a click ripple or the footer clock moved, the page's network is
 * busy, or something on the page moves by itself. Other slots lengthen the last frame. A slot whose
 * page the browser did not redraw (only a ripple or the pointer moved) is the last picture with the
 * slot's marks drawn on it (marks.ts).
 */
export class CaptureLoop {
  readonly frames: Frame[] = [];
  readonly sampler = new PaletteSampler();
  readonly timings: CaptureTimings = { firstStepMs: 0, replayMs: 0, stepMs: [], stepsAhead: 0, captureMs: 0, stillSlots: 0, assetWaitMs: 0 };
  /** Pictures the browser returned (frames holds those that differ from the one before). */
  pictures = 0;
  private lastPng: Buffer | undefined;
  private rawBytes = 0;
  private waitBudget = ASSET_WAIT_PER_RENDER_MS;
  private seenActivity = -1;
  private carryPending = false;
  private motion: Motion = STILL;
  private lastCaptureTs = -Infinity;
  private readonly pending: Promise<unknown>[] = [];
  /** The last capture's time on screen; and the placing of its picture, still under way. */
  private shown: Shown | undefined;
  private placing: Promise<void> = Promise.resolve();
  /** Steps sent before their slot's turn (stepAhead), by slot: the next slots to capture, in order. */
  private readonly ahead = new Map<number, Promise<StepResult>>();

  private readonly size: { width: number; height: number };
  private readonly layout: PictureLayout;
  private readonly sprite: Promise<PointerSprite>;
  /** Where a frame's marks are drawn to sample their colours (frameOf; one frame at a time). */
  private canvas: Uint8Array | undefined;

  constructor(
    private readonly page: ReplayPage,
    private readonly clip: Clip,
    geometry: FrameGeometry,
    /** The plain approach (the benchmark's baseline) captures every slot. */
    private readonly everySlot: boolean,
    /** Whether a step may be sent while the frame before it is captured (stepAhead). */
    private readonly stepsAhead = true,
    /** Whether a still step (StepResult.still) is spared its frame. */
    private readonly skipStill = true,
  ) {
    this.size = { width: geometry.width, height: geometry.height };
    this.layout = pictureLayout(geometry);
    this.sprite = pointerSprite();
    // Awaited by the frames that draw a pointer; a clip without one must not leave it unhandled.
    this.sprite.catch(() => {});
  }

  async run(onProgress?: RenderContext['onProgress']): Promise<void> {
    const total = this.clip.frames.length;
    for (let k = 0; k < total; k++) {
      this.page.signal.throwIfAborted();
      const slot = this.clip.frames[k]!;
      const shown = this.shown;
      // A slot passed over by a step already sent for a later one is not captured either: the page
      // is (or soon will be) past it, and a step cannot go back.
      if (shown && !this.everySlot && !this.ahead.has(k) && (!this.changes(slot) || this.sentPast(k))) {
        lengthen(shown, slot.delayCs);
      } else {
        await this.captureSlot(k);
      }
      onProgress?.({ done: k + 1, total, captured: this.pictures });
    }
    const waitedFrom = performance.now();
    await this.placing;
    this.timings.captureMs += performance.now() - waitedFrom;
  }

  /** Resolves once every capture is decoded (and the palette sampler has seen it). */
  async decoded(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Whether the picture at this slot can differ from the last one taken. */
  private changes(slot: FrameSlot): boolean {
    const loads = this.page.loads;
    return this.due(slot) || loads.activity !== this.seenActivity || loads.inflight > 0;
  }

  /**
   * Whether the slot is a new picture whatever the network does before it: an event lands in it,
   * assets were still loading at the last picture, or something on screen moves.
   */
  private due(slot: FrameSlot): boolean {
    return slot.dirty || this.carryPending || moves(this.motion, slot.seekTs, this.lastCaptureTs);
  }

  private async captureSlot(k: number): Promise<void> {
    const slot = this.clip.frames[k]!;
    const waitedFrom = performance.now();
    const at = this.at(slot);
    const ahead = this.ahead.get(k);
    this.ahead.delete(k);
    const sent = ahead ?? this.page.step(slot.seekTs, slot.cuts, Math.min(ASSET_WAIT_PER_FRAME_MS, this.waitBudget), at);
    // The next slots' steps go out behind this one: each waits in the page for the frame of the step
    // before it if that one is drawn, and runs at once if it is still (a pointer that only moved).
    this.stepAhead(k + 1, false);
    const { step, ownMs, assetMs } = await this.bringTo(slot, at, waitedFrom, sent, ahead !== undefined);
    const replayed = performance.now();
    // The first step replays the page's history up to the window: that is setup, paid once.
    if (k === 0) this.timings.firstStepMs = replayed - waitedFrom;
    else {
      this.timings.replayMs += replayed - waitedFrom;
      this.timings.stepMs.push(ownMs);
      if (ahead) this.timings.stepsAhead++;
    }
    this.waitBudget = Math.max(0, this.waitBudget - assetMs);
    this.timings.assetWaitMs += assetMs;
    this.carryPending = step.pending > 0 || this.page.loads.inflight > 0 || step.recheck === true;
    this.seenActivity = this.page.loads.activity;
    this.motion = step.motion;
    this.lastCaptureTs = slot.seekTs;
    const shown: Shown = { delayCs: slot.delayCs, marks: { ripples: step.ripples, pointer: step.pointer } };
    if (step.still && this.skipStill && this.shown && !this.everySlot) {
      // Nothing changed on the page but the pointer: the browser would redraw nothing, so it is not
      // asked to; the frame is the last picture with this slot's marks.
      this.shown = shown;
      this.placeNext(this.placing.then(() => this.place(undefined, shown)));
      this.timings.stillSlots++;
      this.timings.captureMs += performance.now() - replayed;
      this.stepAhead(k + 1, true);
      return;
    }
    const drawing = this.page.draw(slot.seekTs - this.clip.startTs, at);
    this.stepAhead(k + 1, true);
    const drawn = await drawing;
    // The next frame is drawn while this one's picture is on its way (the browser encodes it while
    // it draws; 30 s moments 4-10 % faster, medians of 8 pairs, BENCHMARKS.md); the picture before
    // must be in first (FrameSource.draw).
    await this.placing;
    this.timings.captureMs += performance.now() - replayed;
    this.shown = shown;
    this.placeNext(drawn.picture.then((png) => this.place(png, shown)));
  }

  /** The placing of the latest slot's frame, which the next capture and the end of the run wait for. */
  private placeNext(placing: Promise<void>): void {
    // Awaited at the next capture or the end of the run; until then a failure must not surface as an unhandled rejection.
    placing.catch(() => {});
    this.placing = placing;
  }

  /**
   * Puts a picture in the clip, in capture order, with its slot's marks and the time its slot and
   * the skipped ones after it show. No picture (nothing on the page was redrawn) is the last one again.
   */
  private place(png: Buffer | undefined, shown: Shown): void {
    const last = this.frames[this.frames.length - 1];
    if (png) this.pictures++;
    // A picture byte for byte like the last one (a change off screen) is the last one: the same
    // encoder gave the same bytes, so there is nothing new to decode, sample or encode. (The plain
    // baseline encodes every picture it takes, as it always did.)
    const picture = png && !(last && !this.everySlot && this.lastPng?.equals(png)) ? this.keep(png) : last?.picture;
    if (!picture) throw new Error('the browser returned no picture for the first frame');
    if (last && picture === last.picture && sameMarks(shown.marks, last.marks)) shown.into = last;
    else shown.into = this.frameOf(picture, shown.marks);
    shown.into.delayCs += shown.delayCs;
  }

  /**
   * While a frame is captured (drawn, copied and encoded by the browser's compositor and its main
   * process), the page's own thread is free: the steps to the next slots are sent then, when those
   * slots are captured whatever happens meanwhile (an event lands in them, or something on screen
   * moves), so the pictures are the ones taken one step at a time. Only under begin-frame control:
   * there the page draws nothing until told, and each step waits in the page for the one before it
   * and for that one's frame to be drawn (none is for a still step). Up to STEPS_IN_FLIGHT of them,
   * sent in slot order from `from` (past the slots that will not be captured, when `known`), and
   * stopping at a slot that is not due yet: a run of still steps (a pointer moving over a page) then
   * costs the page's work, not a round trip each. Whether a slot is due for motion or loading depends
   * on the steps before it, so only slots with events of their own are sent past the first, and the
   * first only when `known` (the slot before it has its step's answer).
   */
  private stepAhead(from: number, known: boolean): void {
    // A still step's frame is not awaited in the page (player.ts, timed): drawing it anyway (skipStill
    // false) with the next step already sent would picture that next step.
    if (!this.stepsAhead || !this.skipStill || this.everySlot || this.page.source.kind !== 'begin-frame') return;
    let first = from;
    if (known) {
      // With the last step's answer in, the slots that will not be captured before the next one that
      // is are known too (nothing they depend on changes until a capture): passed over, so that the
      // next capture's step still runs while this frame is drawn. (Stopping at them made most steps
      // of a moment with events 200 ms apart wait for the frame before them: mdBook, BENCHMARKS.md.)
      while (first < from + SKIPPED_AHEAD_MAX && !this.ahead.has(first) && this.clip.frames[first] && !this.changes(this.clip.frames[first]!)) first++;
    }
    for (let k = first; k < first + STEPS_IN_FLIGHT; k++) {
      if (this.ahead.has(k)) continue;
      const slot = this.clip.frames[k];
      if (!slot || this.page.loads.inflight > 0 || !(k === first && known ? this.due(slot) : slot.dirty)) return;
      const step = this.page.step(slot.seekTs, slot.cuts, Math.min(ASSET_WAIT_PER_FRAME_MS, this.waitBudget), this.at(slot), true);
      // Awaited at its slot; a capture failing before then must not leave it an unhandled rejection.
      step.catch(() => {});
      this.ahead.set(k, step);
    }
  }

  /** Whether a step was sent for a slot after k (so the page will be past k's time). */
  private sentPast(k: number): boolean {
    for (const j of this.ahead.keys()) if (j > k) return true;
    return false;
  }

  private at(slot: FrameSlot): string {
    return `${((slot.seekTs - this.clip.recordingStartTs) / 1000).toFixed(2)} s`;
  }

  /**
   * Steps the replay, then lets what the page started loading land and settle again (within the
   * frame's cap). `ownMs`: how long that took; for a step sent ahead, which ran while the last frame
   * was captured, the page's own measure of it plus any settling after. `assetMs`: of that, the time
   * spent waiting for assets, in the page and here (the asset budget's charge).
   */
  private async bringTo(slot: FrameSlot, at: string, from: number, sent: Promise<StepResult>, sentAhead: boolean): Promise<{ step: StepResult; ownMs: number; assetMs: number }> {
    const cap = Math.min(ASSET_WAIT_PER_FRAME_MS, this.waitBudget);
    const loads = this.page.loads;
    let step = await sent;
    let assetMs = step.assetMs ?? 0;
    const stepped = performance.now();
    const sentMs = sentAhead ? step.ms : undefined;
    // Requests the page made show up here; once they land, the page needs a moment to use them
    // (decode a font, lay out again), so settle again before the picture. Not after a still step:
    // nothing it shows is loading, no frame is drawn for it, and the next step may already have run.
    for (let round = 0; round < 3 && loads.inflight > 0 && !step.still; round++) {
      const left = cap - (performance.now() - from);
      if (left <= 0) break;
      const idleFrom = performance.now();
      await loads.waitIdle(left);
      assetMs += performance.now() - idleFrom;
      step = await this.page.settle(cap - (performance.now() - from), slot.seekTs, at);
      assetMs += step.assetMs ?? 0;
    }
    const now = performance.now();
    return { step, ownMs: sentMs !== undefined ? sentMs + (now - stepped) : now - from, assetMs };
  }

  /** Decodes a capture on libuv's threads while the browser draws the next frame. */
  private keep(png: Buffer): Picture {
    this.lastPng = png;
    const { width, height } = this.size;
    let kept: Buffer | undefined;
    let source: Buffer | undefined = png;
    const decoded = decode(png, width, height).then((buf) => {
      this.sampler.add(buf);
      // Past the raw budget, a frame is kept as its PNG and decoded again when the encoder needs it.
      if (this.retain(buf)) {
        kept = buf;
        source = undefined;
      }
    });
    // Awaited by decoded(); until then a failure must not surface as an unhandled rejection.
    decoded.catch(() => {});
    this.pending.push(decoded);
    return { decoded, rgba: async () => kept ?? (await decode(source!, width, height)) };
  }

  /**
   * A frame of the clip: the picture, with the slot's marks drawn on a copy of it whenever the
   * encoder asks for its pixels (a copy per frame kept would double a render's memory: most frames
   * have a pointer on them).
   */
  private frameOf(picture: Picture, marks: Marks): Frame {
    const box = marksBox(marks, this.layout);
    const last = this.frames[this.frames.length - 1];
    const changedBox = last?.picture === picture ? unionBox(marksBox(last.marks, this.layout), box) : undefined;
    const frame: Frame = box
      ? {
          delayCs: 0,
          picture,
          marks,
          rgba: async (canvas) => {
            const [base, sprite] = await Promise.all([picture.rgba(), this.sprite]);
            return this.compose(base, marks, sprite, canvas);
          },
          changedBox,
        }
      : { delayCs: 0, picture, marks, rgba: () => picture.rgba(), changedBox };
    this.frames.push(frame);
    if (box) {
      // The picture was sampled without its marks: their colours go into the palette's sample too.
      const sampled = Promise.all([picture.decoded.then(() => picture.rgba()), this.sprite]).then(([base, sprite]) => {
        // Only the rows the marks touch are copied: the rest of the canvas is not read.
        const rgba = (this.canvas = this.compose(base, marks, sprite, this.canvas, box));
        const region = new Uint8Array(box.w * box.h * 4);
        for (let y = 0; y < box.h; y++) {
          const from = ((box.y + y) * this.layout.width + box.x) * 4;
          region.set(rgba.subarray(from, from + box.w * 4), y * box.w * 4);
        }
        this.sampler.add(region);
      });
      // Awaited by decoded(); until then a failure must not surface as an unhandled rejection.
      sampled.catch(() => {});
      this.pending.push(sampled);
    }
    return frame;
  }

  /**
   * The picture with the marks drawn on it, in `canvas` when it has the picture's size; only the rows
   * of `rows` (the marks' box) when given.
   */
  private compose(base: Uint8Array, marks: Marks, sprite: PointerSprite, canvas?: Uint8Array, rows?: PixelBox): Uint8Array {
    const out = canvas?.length === base.length ? canvas : new Uint8Array(base.length);
    const rowBytes = this.layout.width * 4;
    if (rows) out.set(base.subarray(rows.y * rowBytes, (rows.y + rows.h) * rowBytes), rows.y * rowBytes);
    else out.set(base);
    drawMarks(out, marks, this.layout, sprite);
    return out;
  }

  /** Whether decoded pixels fit in the raw budget (and are now counted in it). */
  private retain(rgba: Buffer): boolean {
    if (this.rawBytes + rgba.length > RAW_FRAME_BUDGET_BYTES) return false;
    this.rawBytes += rgba.length;
    return true;
  }
}

/**
 * The time on screen of the last capture: its slot and the skipped slots after it, and the marks
 * drawn at its slot. Until its picture is placed the time collects here; then it goes to the GIF
 * frame that shows it (its own, or the one before when picture and marks are the same).
 */
interface Shown {
  delayCs: number;
  marks: Marks;
  into?: Frame;
}

function lengthen(shown: Shown, delayCs: number): void {
  if (shown.into) shown.into.delayCs += delayCs;
  else shown.delayCs += delayCs;
}

/** Whether what moves on its own in the replay makes the slot at `ts` a new picture. */
function moves(m: Motion, ts: number, lastCaptureTs: number): boolean {
  if (m.nextStartTs !== null && ts >= m.nextStartTs) return true;
  // Slots are whole ms apart at most frame rates; half a ms keeps a 200 ms gap from waiting a slot more.
  return m.everyMs !== null && ts - lastCaptureTs >= m.everyMs - 0.5;
}

/**
 * PNG capture to RGBA at the GIF's size, in one sharp pipeline. The screencast's pictures already
 * have that size (the resize then changes nothing); screenshots are at the capture scale.
 */
function decode(png: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(png).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).ensureAlpha().raw().toBuffer();
}
