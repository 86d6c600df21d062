import { describe, expect, it } from 'vitest';
import { InputError } from '../src/recording/errors.js';
import { GifEncoder, PaletteSampler, type EncodeOutput, type EncodeSettings, type SourceFrame } from '../src/render/gif.js';
import { Estimator } from '../src/render/gif/budget.js';
import { decodeGif } from './support/gif-frames.js';

const W = 240;
const H = 150;

/**
 * A page of text over white with a photo grid, scrolled in bursts (frames 8-20 and 28-36), still
 * otherwise, with a caret blinking: what a budget has to squeeze, in small.
 */
function page(): { frames: SourceFrame[]; rgba: Uint8Array[]; offsets: number[] } {
  let seed = 3;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const tall = H * 4;
  const doc = new Uint8Array(W * tall * 4);
  for (let y = 0; y < tall; y++) {
    for (let x = 0; x < W; x++) {
      const p = (y * W + x) * 4;
      let c = [255, 255, 255];
      const tile = Math.floor(y / 70) % 2 === 1 && x % 80 > 6;
      if (tile) {
        // A photo: smooth colour with grain.
        const v = Math.sin(x / 9 + y / 13) * 60 + 120 + (rand() - 0.5) * 40;
        c = [v + 30, v * 0.8 + Math.floor(y / 140) * 20, 200 - v * 0.5].map((k) => Math.max(0, Math.min(255, Math.round(k))));
      } else if (y % 14 < 8 && x % 60 < 50 && (x * 7 + y) % 5 !== 0) c = [20, 20, 30];
      doc.set([c[0]!, c[1]!, c[2]!, 255], p);
    }
  }
  const offsets: number[] = [];
  let off = 0;
  for (let k = 0; k < 44; k++) {
    if ((k >= 8 && k < 20) || (k >= 28 && k < 36)) off = Math.min(tall - H, off + 17);
    offsets.push(off);
  }
  const rgba = offsets.map((o, k) => {
    const f = doc.slice(o * W * 4, (o + H) * W * 4);
    if (k % 6 < 3) for (let y = 40; y < 52; y++) f.fill(0, (y * W + 100) * 4, (y * W + 102) * 4);
    for (let i = 3; i < f.length; i += 4) f[i] = 255;
    return f;
  });
  return { rgba, offsets, frames: rgba.map((f) => ({ delayCs: 10, rgba: async () => f })) };
}

const clip = page();

function encoder(maxBytes?: number): GifEncoder {
  const sampler = new PaletteSampler();
  for (const f of clip.rgba) sampler.add(f);
  return new GifEncoder({ width: W, height: H, frames: clip.frames, sampler, fps: 10, maxBytes });
}

const lossless = (await encoder().fit()).gif;

function checkDecodes(out: EncodeOutput): void {
  const d = decodeGif(out.gif);
  expect(d.width).toBe(W);
  expect(d.frames.length).toBe(out.frames);
  // Merging frames moves time between them, never loses any.
  expect(d.durationMs).toBe(clip.frames.length * 100);
}

describe('byte budget', () => {
  it('without a budget: no report, the lossless GIF', async () => {
    const out = await encoder().fit();
    expect(out.budget).toBeUndefined();
    expect(out.gif.equals(lossless)).toBe(true);
  });

  it('a budget the GIF fits: reported, nothing applied', async () => {
    const out = await encoder(lossless.length).fit();
    expect(out.budget).toEqual({ maxBytes: lossless.length, bytesBefore: lossless.length, bytesAfter: lossless.length, steps: [], encodes: 1, twoThreadEncodes: 0 });
    expect(out.gif.equals(lossless)).toBe(true);
  });

  it('a little over: lossy LZW alone, the weakest level that fits', async () => {
    const maxBytes = Math.round(lossless.length * 0.85);
    const out = await encoder(maxBytes).fit();
    expect(out.gif.length).toBeLessThanOrEqual(maxBytes);
    expect(out.budget!.bytesBefore).toBe(lossless.length);
    expect(out.budget!.steps).toHaveLength(1);
    expect(out.budget!.steps[0]).toMatch(/^lossy:\d+$/);
    expect(out.budget!.encodes).toBeLessThanOrEqual(3);
    checkDecodes(out);
    // The level below the one chosen would not have fitted (the search does not over-degrade by more than a level).
    const level = Number(out.budget!.steps[0]!.split(':')[1]);
    const levels = [10, 20, 30, 40, 60, 80, 100, 130, 160, 200];
    const below = levels[levels.indexOf(level) - 1];
    if (below !== undefined) {
      const weaker = await encoder().encode({ lossy: levels[levels.indexOf(below) - 1] ?? 0, colors: 256 });
      expect(weaker.gif.length).toBeGreaterThan(maxBytes);
    }
  });

  it('further over: fewer colours, then a lower frame rate on the busiest stretch, in that order', async () => {
    const seen = new Set<string>();
    for (const share of [0.6, 0.45, 0.3, 0.2]) {
      const maxBytes = Math.round(lossless.length * share);
      const out = await encoder(maxBytes).fit();
      expect(out.gif.length, `${share}`).toBeLessThanOrEqual(maxBytes);
      checkDecodes(out);
      const kinds = out.budget!.steps.map((s) => s.split(':')[0]);
      // Steps come in ladder order, each at most once.
      expect([...kinds].sort((a, b) => ['lossy', 'colors', 'fps'].indexOf(a!) - ['lossy', 'colors', 'fps'].indexOf(b!))).toEqual(kinds);
      for (const s of out.budget!.steps) expect(s).toMatch(/^(lossy:\d+|colors:(128|64|32)|fps:(5|2|1)@\d+\.\d-\d+\.\ds)$/);
      if (kinds.includes('fps')) expect(kinds).toContain('colors');
      seen.add(kinds.join('+'));
    }
    expect([...seen].some((k) => k.includes('colors'))).toBe(true);
    expect([...seen].some((k) => k.includes('fps'))).toBe(true);
  });

  it('merges frames only inside the stretch it names', async () => {
    const enc = encoder();
    const out = await enc.encode({ lossy: 0, colors: 64, fps: { rate: 2, fromCs: 80, toCs: 200 } });
    const d = decodeGif(out.gif);
    expect(d.durationMs).toBe(4400);
    // Inside 0.8-2.0 s, frames start only every half second from its start.
    const inside = d.frames.filter((f) => f.startMs >= 800 && f.startMs < 2000);
    expect(inside.length).toBeGreaterThan(1);
    for (const f of inside) expect((f.startMs - 800) % 500).toBe(0);
    const full = await enc.encode({ lossy: 0, colors: 64 });
    expect(out.frames).toBeLessThan(full.frames);
    const outside = (g: typeof d) => g.frames.filter((f) => f.startMs < 800 || f.startMs >= 2000).map((f) => f.startMs);
    // Outside it the frames are where they were; one may appear right at the stretch's end (the
    // frame there now follows an earlier one).
    const before = outside(decodeGif(full.gif));
    const after = outside(d);
    expect(before.every((t) => after.includes(t))).toBe(true);
    expect(after.filter((t) => !before.includes(t)).every((t) => t === 2000)).toBe(true);
  });

  it('goes on to a lower frame rate when the fewest colours did not fit after the estimate said they would', async () => {
    // An estimate that promises 30 % less than it gets, as one did on a rustdoc moment.
    class Optimistic extends Estimator {
      override async estimate(s: EncodeSettings): Promise<number> {
        return (await super.estimate(s)) * 0.7;
      }
    }
    class Misled extends GifEncoder {
      protected override estimator(weights: number[]): Estimator {
        return new Optimistic(this, weights);
      }
    }
    const sampler = new PaletteSampler();
    for (const f of clip.rgba) sampler.add(f);
    const fewest = await encoder().encode({ lossy: 200, colors: 64 });
    // Under what 64 colours at the strongest lossy level make, above what the estimate says they make.
    const maxBytes = Math.round(fewest.gif.length * 0.9);
    const out = await new Misled({ width: W, height: H, frames: clip.frames, sampler, fps: 10, maxBytes }).fit();
    expect(out.gif.length).toBeLessThanOrEqual(maxBytes);
    expect(out.budget!.steps.some((s) => s.startsWith('fps:'))).toBe(true);
    checkDecodes(out);
  });

  it('fails with over_budget when nothing fits, naming the budget and the smallest size reached', async () => {
    const err = await encoder(3000).fit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('over_budget');
    expect((err as Error).message).toMatch(/byte budget of 3000 bytes/);
    const smallest = Number(/(\d+) at the smallest/.exec((err as Error).message)![1]);
    expect(smallest).toBeGreaterThan(3000);
    expect(smallest).toBeLessThan(lossless.length / 3);
  });

  it('never returns a GIF over its budget', async () => {
    for (let share = 0.95; share > 0.04; share -= 0.07) {
      const maxBytes = Math.round(lossless.length * share);
      const out = await encoder(maxBytes)
        .fit()
        .catch((e: unknown) => {
          expect((e as InputError).code).toBe('over_budget');
          return undefined;
        });
      if (out) expect(out.gif.length, `${share}`).toBeLessThanOrEqual(maxBytes);
    }
  });
});

describe('frames that differ from the one before only in a box', () => {
  // The caret's blink is the only change between frames of the same scroll offset, as a moved
  // pointer or ripple is between frames of one picture (src/render/capture-loop.ts).
  const caret = { x: 100, y: 40, w: 2, h: 12 };
  const hinted: SourceFrame[] = clip.frames.map((f, k) => (k > 0 && clip.offsets[k] === clip.offsets[k - 1] ? { ...f, changedBox: caret } : f));
  const encode = (frames: SourceFrame[], maxBytes?: number) => {
    const sampler = new PaletteSampler();
    for (const f of clip.rgba) sampler.add(f);
    return new GifEncoder({ width: W, height: H, frames, sampler, fps: 10, maxBytes }).fit();
  };

  it('are mapped in that box only, and make the same GIF, lossless and squeezed into a budget', async () => {
    expect(hinted.filter((f) => f.changedBox).length).toBeGreaterThan(15);
    expect(Buffer.compare((await encode(hinted)).gif, lossless)).toBe(0);
    for (const budget of [Math.round(lossless.length * 0.8), Math.round(lossless.length * 0.4)]) {
      const plain = await encode(clip.frames, budget);
      const withBoxes = await encode(hinted, budget);
      expect(withBoxes.budget?.steps).toEqual(plain.budget?.steps);
      expect(Buffer.compare(withBoxes.gif, plain.gif)).toBe(0);
    }
    // The box is what is mapped: one that misses the caret leaves its blink out.
    const wrong = clip.frames.map((f, k) => (hinted[k]!.changedBox ? { ...f, changedBox: { x: 0, y: 0, w: 1, h: 1 } } : f));
    expect(Buffer.compare((await encode(wrong)).gif, lossless)).not.toBe(0);
  });
});

describe('an encode shares the event loop', () => {
  /** Turns of the event loop taken while `work` ran: a callback that re-arms itself with setImmediate. */
  async function turnsDuring<T>(work: () => Promise<T>): Promise<{ out: T; turns: number }> {
    let turns = 0;
    let on = true;
    const tick = () => {
      if (!on) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const out = await work();
    on = false;
    return { out, turns };
  }

  it('lets the loop turn between frames, so a worker’s other renders and its queue lock go on', async () => {
    const { out, turns } = await turnsDuring(() => encoder().fit());
    expect(out.gif.equals(lossless)).toBe(true);
    // One turn per frame written (44 frames; the ones that change nothing are still taken in turn).
    expect(turns).toBeGreaterThanOrEqual(clip.frames.length - 1);
  });

  it('and between the probes of a search for the byte budget', async () => {
    const maxBytes = Math.round(lossless.length * 0.4);
    const { out, turns } = await turnsDuring(() => encoder(maxBytes).fit());
    expect(out.gif.length).toBeLessThanOrEqual(maxBytes);
    expect(turns).toBeGreaterThanOrEqual(out.budget!.encodes * (clip.frames.length - 1));
  });
});
