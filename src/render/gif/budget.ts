import { InputError } from '../../errors.js';
import type { PixelBox } from '../geometry.js';
import { ByteSink } from './bytes.js';
import { MAX_COLORS, paletteFor, subsample, type PaletteSampler } from './palette.js';
import { PartJob, type PartResult } from './part.js';
import { ColourTable, FrameEncoder, FrameMapper, GifWriter, lossyMaxDiff, type MappedFrame } from './writer.js';

/** What the encoder did to fit the GIF in its byte budget (RenderResult.budget). */
export interface BudgetReport {
  maxBytes: number;
  /** Size of the GIF before any step (lossless, every colour, every frame). */
  bytesBefore: number;
  bytesAfter: number;
  /** The steps applied, in ladder order: "lossy:40", "colors:128", "fps:5@12.0-20.0s". Empty when it fitted as it was. */
  steps: string[];
  /** Whole-GIF encodes the search made (the first, lossless one included). */
  encodes: number;
  /** Of them, coded in part on the second thread (the service's worker: src/render/gif/part.ts). */
  twoThreadEncodes: number;
}

/**
 * One captured frame: how long it shows, and its pixels (kept raw, or decoded again on demand). A
 * frame may compose its pixels into `canvas` and return it: the encoder reads them before it asks
 * for another frame's.
 */
export interface SourceFrame {
  delayCs: number;
  rgba(canvas?: Uint8Array): Promise<Uint8Array>;
  /**
   * Where this frame can differ from the one before it in the list (the same picture with a mark
   * moved: only this box is mapped to the palette again); undefined: anywhere.
   */
  changedBox?: PixelBox;
}

export interface EncodeInput {
  width: number;
  height: number;
  frames: SourceFrame[];
  /** Samples of every frame (filled as frames are captured). */
  sampler: PaletteSampler;
  /** The GIF's frame rate: frame slots last 100/fps centiseconds. */
  fps: number;
  /** Byte budget; undefined: none. */
  maxBytes?: number;
}

/** How to encode: one point on the ladder. */
export interface EncodeSettings {
  /** gifsicle's --lossy level (0: lossless). */
  lossy: number;
  /** Entries of the colour table, the transparent one included (256: the most a GIF has). */
  colors: number;
  /** Frames in [fromCs, toCs) of GIF time merged down to `rate` frames a second. */
  fps?: { rate: number; fromCs: number; toCs: number };
}

export interface EncodeOutput {
  gif: Buffer;
  /** GIF frames written. */
  frames: number;
  localPalettes: number;
  settings: EncodeSettings;
  budget?: BudgetReport;
  /** Threads the encodes ran on (2: one or more split, GifEncoder.encodeSplit). */
  threads?: 1 | 2;
}

/** Lossy levels the search tries (gifsicle's scale: squared RGB error 10 N a pixel). */
export const LOSSY_LEVELS = [0, 10, 20, 30, 40, 60, 80, 100, 130, 160, 200];
/** Colour tables tried after lossy alone, before frames are merged; the last one is the floor. */
const COLOR_STEPS = [128, 64];
const FLOOR_COLORS = 32;
/** Frame rates tried on the busiest stretch, then wider. */
const FPS_STEPS = [5, 2, 1];
/** Frames sampled (by bytes) to estimate a setting's size; clips with fewer frames than twice this are measured whole. */
const SAMPLE_PICKS = 12;
/** Estimates aim this far under the budget, so that the encode they choose fits at the first try. */
const AIM = 0.97;
/** Clips shorter than this are encoded on one thread: the second would save little. */
const SPLIT_MIN_FRAMES = 16;
/**
 * The share of the frames this thread codes. It also maps the second thread's, which costs nearly
 * as much as coding them: on the mdBook moment's frames, 0.4 left the two threads about even (0.3:
 * this thread waited 40 ms for the part, 0.2: 130-180 ms).
 */
const SPLIT_MAIN_SHARE = 0.4;
/**
 * The share of a lossy encode's work this thread does (splitPoint); it also sends the other's frames
 * (about 2 ms each at 800x500). On rustdoc's frames under 1 MiB, a cut at 0.3 of the lossless bytes
 * left the second thread working 280-315 ms after this one was done.
 */
const LOSSY_SPLIT_SHARE = 0.45;
/** What a lossy encode on two threads may add over one thread's GIF, at most (fitRung). */
const SPLIT_LOSSY_EXTRA = 0.03;
/** Mapped frames kept for re-encoding, at most (beyond it they are mapped again from their pixels). */
const MAPPED_CACHE_BYTES = 128 * 1024 * 1024;
/** Pixels of the palette sample a reduced palette is computed from. */
const REDUCED_PALETTE_SAMPLE = 1 << 18;

export function stepNames(s: EncodeSettings): string[] {
  const steps: string[] = [];
  if (s.lossy > 0) steps.push(`lossy:${s.lossy}`);
  if (s.colors < 256) steps.push(`colors:${s.colors}`);
  if (s.fps) steps.push(`fps:${s.fps.rate}@${(s.fps.fromCs / 100).toFixed(1)}-${(s.fps.toCs / 100).toFixed(1)}s`);
  return steps;
}

interface Palettes {
  colors: number;
  table: ColourTable;
  mapper: FrameMapper;
  mapped: (MappedFrame | undefined)[];
  strips: (Uint8Array | undefined)[];
}

/** A rung of the ladder: everything but the lossy level. The floor is the last resort. */
type Rung = Omit<EncodeSettings, 'lossy'> & { floor?: boolean };

interface Selection {
  keep: boolean[];
  delays: number[];
}

/**
 * Encodes captured frames to a GIF, and fits it in a byte budget when there is one. Over budget it
 * degrades in this order until the GIF fits: lossy LZW at increasing strength; fewer colours; a lower
 * frame rate on the busiest stretch, then on wider ones. Each step is chosen by estimating sizes from
 * a sample of frames (picked in proportion to their bytes, each coded alone against the frame
 * before it), so a search costs a few whole encodes, not one per level tried. A GIF over budget is
 * never returned: when nothing fits, it fails with InputError code "over_budget".
 */
export class GifEncoder {
  private readonly palettes = new Map<number, Palettes>();
  private readonly probe: FrameEncoder;
  private readonly scratch = new ByteSink(1 << 20);
  private readonly costs = new Map<string, number>();
  private cachedBytes = 0;
  /** Whole-GIF encodes so far. */
  encodes = 0;
  /** Of them, coded on two threads (encodeSplit); and two-thread encodes that failed and were done again on one. */
  splitEncodes = 0;
  partFailures = 0;
  private startsCs: number[] = [];
  /** Frames that changed nothing on screen in a lossless encode of every frame (none known before one). */
  private unchanged: boolean[] = [];
  /** What each frame cost in that encode (where a lossy encode's second thread starts: splitPoint). */
  private losslessBytes: number[] | undefined;
  /** Where frames compose their pixels (SourceFrame.rgba): one buffer for the whole encode. */
  private pixels: Uint8Array | undefined;

  /** Row ranges of the strip probes measure: four bands spread down the picture. */
  private readonly stripBands: [number, number][];
  private readonly stripRows: number[];
  /** The picture's rows over the strip's. */
  readonly stripScale: number;

  constructor(private readonly input: EncodeInput) {
    const h = input.height;
    const band = Math.max(1, Math.ceil(h / 16));
    this.stripBands = h < 64 ? [[0, h]] : [1, 3, 5, 7].map((k) => {
      const from = Math.max(0, Math.min(h - band, Math.round((h * k) / 8 - band / 2)));
      return [from, from + band] as [number, number];
    });
    this.stripRows = this.stripBands.flatMap(([a, b]) => Array.from({ length: b - a }, (_, r) => a + r));
    this.stripScale = h / this.stripRows.length;
    this.probe = new FrameEncoder(input.width, this.stripRows.length);
    let t = 0;
    for (const f of input.frames) {
      this.startsCs.push(t);
      t += f.delayCs;
    }
  }

  /** Encodes with the given settings; on two threads when the second is free, unless `oneThread`. */
  async encode(settings: EncodeSettings, oneThread = false): Promise<EncodeOutput & { inputBytes: number[] }> {
    const { width, height, frames } = this.input;
    const pal = this.palettesFor(settings.colors);
    const sel = this.select(settings);
    const split = oneThread ? undefined : await this.encodeSplit(settings, pal, sel);
    if (split) return split;
    const writer = new GifWriter(width, height, pal.table, { lossy: settings.lossy, localPalettes: pal.colors >= 256 });
    const inputBytes = new Array<number>(frames.length).fill(0);
    let before: Mapped | undefined;
    // The index array of a frame no longer needed: the next frame is mapped into it. Fresh memory
    // costs more than the mapping on a machine slow to fault pages in (400 KB a frame at 800x500).
    let spare: Uint8Array | undefined;
    for (let i = 0; i < frames.length; i++) {
      if (!sel.keep[i]) continue;
      // A turn of the event loop between frames: an encode is up to a second of work (a search for
      // the byte budget several), and meanwhile the browser closes and a worker's other renders and
      // its queue lock go on.
      await nextTurn();
      const m = await this.mapped(pal, i, before, spare);
      spare = undefined;
      writer.add(m, sel.delays[i]!);
      // The writer compares the next frame with this one; the one before is free unless cached.
      if (before && pal.mapped[before.i] !== before.m) spare = before.m.index;
      before = { i, m };
      inputBytes[i] = writer.stats.inputBytes.at(-1)!;
    }
    const gif = writer.finish();
    this.encodes++;
    this.noteLossless(settings, inputBytes);
    return { gif, frames: writer.stats.frames, localPalettes: writer.stats.localPalettes, settings, inputBytes };
  }

  /** After a lossless encode of every frame: which frames changed nothing, and what each cost. */
  private noteLossless(settings: EncodeSettings, inputBytes: number[]): void {
    if (settings.lossy !== 0 || settings.fps) return;
    this.unchanged = inputBytes.map((b, i) => i > 0 && b === 0);
    this.losslessBytes = inputBytes;
  }

  /**
   * Where the second thread's part starts: after a frame that every encode maps whole
   * (FrameMapper.mapAfter: its picture changed, or the frame before it was not kept), since one
   * mapped again only in its marks' box takes its palette from the chain before it, which this thread
   * has not mapped yet. Lossless, near SPLIT_MAIN_SHARE of the frames; lossy, near LOSSY_SPLIT_SHARE
   * of the work. -1 when none fits.
   */
  private splitPoint(kept: number[], lossy: boolean): number {
    const frames = this.input.frames;
    const whole = (j: number) => !frames[kept[j]!]!.changedBox || kept[j - 1] !== kept[j]! - 1;
    let aim = Math.round(kept.length * SPLIT_MAIN_SHARE);
    const bytes = this.losslessBytes;
    if (lossy && bytes) {
      // A frame's lossy work: a pass over every pixel (mapped, compared with the screen), and the
      // search over what changed, which its lossless bytes measure; each half of the clip's.
      const total = Math.max(1, kept.reduce((sum, i) => sum + (bytes[i] ?? 0), 0));
      let before = 0;
      aim = 1;
      while (aim < kept.length - 1 && (before += 0.5 / kept.length + (0.5 * (bytes[kept[aim - 1]!] ?? 0)) / total) < LOSSY_SPLIT_SHARE) aim++;
    }
    for (let d = 0; d < kept.length / 4; d++) {
      if (aim - d > 1 && whole(aim - d - 1)) return aim - d;
      if (aim + d < kept.length - 1 && whole(aim + d - 1)) return aim + d;
    }
    return -1;
  }

  /**
   * An encode on two threads (part.ts): the frames after a split point (splitPoint) go to the
   * second thread, which maps and codes them while this one does the frames before it: their pixels,
   * or their indices when an earlier encode mapped them. Undefined when the clip is short, no split
   * point fits, the second thread is not free, or it failed (the caller then encodes on one thread).
   */
  private async encodeSplit(settings: EncodeSettings, pal: Palettes, sel: Selection): Promise<(EncodeOutput & { inputBytes: number[] }) | undefined> {
    const { width, height, frames } = this.input;
    const kept = sel.keep.flatMap((k, i) => (k ? [i] : []));
    if (kept.length < SPLIT_MIN_FRAMES) return undefined;
    const cut = this.splitPoint(kept, settings.lossy > 0);
    // Not free (another render's encode has it): no seed mapped for nothing.
    if (cut < 0 || !PartJob.available()) return undefined;
    const localPalettes = pal.colors >= 256;
    const seed: Mapped = { i: kept[cut - 1]!, m: await this.mapped(pal, kept[cut - 1]!) };
    // With a byte budget the frames stay mapped for the encodes that may follow: the second thread sends its back.
    const keepMapped = this.input.maxBytes !== undefined;
    const part = PartJob.open(width, height, pal.table, localPalettes, settings.lossy, seed, keepMapped);
    if (!part) return undefined;
    const writer = new GifWriter(width, height, pal.table, { lossy: settings.lossy, localPalettes });
    const inputBytes = new Array<number>(frames.length).fill(0);
    const cached = (x: Mapped) => pal.mapped[x.i] === x.m;
    let prev: Mapped | undefined;
    let spare: Uint8Array | undefined;
    // The part's pixels go to the second thread while it has room for them (a few frames in flight),
    // and this thread's own frames are coded meanwhile. A turn of the event loop before each own frame
    // and every few frames sent (a frame sent is a copy, not an encode).
    let next = cut;
    let own = 0;
    let sent = 0;
    while (next < kept.length || own < cut) {
      if (next < kept.length && part.hasRoom) {
        if (sent++ % 4 === 0) await nextTurn();
        const i = kept[next++]!;
        const frame = frames[i]!;
        const known = pal.mapped[i];
        if (known) part.addMapped(known, i, sel.delays[i]!);
        else part.add(await frame.rgba(this.canvas()), i, frame.changedBox, sel.delays[i]!);
      } else if (own < cut) {
        await nextTurn();
        const i = kept[own]!;
        const m = own === cut - 1 ? seed.m : await this.mapped(pal, i, prev, spare);
        spare = undefined;
        writer.add(m, sel.delays[i]!);
        if (prev && !cached(prev)) spare = prev.m.index;
        prev = { i, m };
        inputBytes[i] = writer.stats.inputBytes.at(-1)!;
        own++;
      } else await part.room();
    }
    let coded: PartResult;
    try {
      coded = await part.finish();
    } catch {
      this.partFailures++;
      return undefined;
    }
    writer.append(coded.part);
    for (const { i, m } of coded.mapped) {
      if (pal.mapped[i]) continue;
      if (this.cachedBytes + m.index.length > MAPPED_CACHE_BYTES) break;
      pal.mapped[i] = m;
      this.cachedBytes += m.index.length;
    }
    for (let j = cut; j < kept.length; j++) inputBytes[kept[j]!] = coded.part.inputBytes[j - cut]!;
    const gif = writer.finish();
    this.encodes++;
    this.noteLossless(settings, inputBytes);
    this.splitEncodes++;
    return { gif, frames: writer.stats.frames, localPalettes: writer.stats.localPalettes, settings, inputBytes };
  }

  /** Encodes losslessly, then, over budget, walks the ladder until the GIF fits. */
  async fit(): Promise<EncodeOutput> {
    const maxBytes = this.input.maxBytes;
    const threads = () => (this.splitEncodes > 0 ? (2 as const) : (1 as const));
    const base = { ...(await this.encode({ lossy: 0, colors: 256 })), threads: threads() };
    if (maxBytes === undefined) return base;
    const bytesBefore = base.gif.length;
    const report = (out: EncodeOutput): EncodeOutput => ({
      ...out,
      budget: { maxBytes, bytesBefore, bytesAfter: out.gif.length, steps: stepNames(out.settings), encodes: this.encodes, twoThreadEncodes: this.splitEncodes },
      threads: threads(),
    });
    if (bytesBefore <= maxBytes) return report(base);

    const estimator = this.estimator(base.inputBytes);
    const fitsAtBest = async (r: Rung) => r.floor || (await estimator.estimate({ ...strip(r), lossy: LOSSY_LEVELS.at(-1)! })) <= maxBytes;
    const { ladder, start } = await this.ladderFrom(estimator, maxBytes, fitsAtBest);
    const smallest = { bytes: base.gif.length, steps: [] as string[] };
    for (let r = start; r < ladder.length; r++) {
      if (!(await fitsAtBest(ladder[r]!))) continue;
      const out = await this.fitRung(ladder[r]!, r === 0, estimator, maxBytes, smallest);
      if (out) return report(out);
    }
    throw new InputError(
      `the GIF does not fit its byte budget of ${maxBytes} bytes: ${bytesBefore} bytes as rendered, ${smallest.bytes} at the smallest (${smallest.steps.join(', ')}); ` +
        'render a shorter window, a lower frame rate or width, or allow more bytes',
      'over_budget',
    );
  }

  /** The estimate of each rung's bytes (its own method so that a test can give one that errs). */
  protected estimator(weights: number[]): Estimator {
    return new Estimator(this, weights);
  }

  /**
   * The ladder, most faithful first, and where to start on it: rather than trying each rung in turn,
   * the first one the estimate says can fit at the strongest lossy level (rungs get smaller down it).
   * The frame-rate rungs and the floor are always on it: an estimate that promised a colour rung
   * too much (seen on a rustdoc moment: 1,068,839 bytes at 64 colours and lossy:200 against a
   * 1 MiB budget) goes on down the ladder instead of failing the render.
   */
  private async ladderFrom(estimator: Estimator, maxBytes: number, fitsAtBest: (r: Rung) => Promise<boolean>): Promise<{ ladder: Rung[]; start: number }> {
    const colours: Rung[] = [{ colors: 256 }, ...COLOR_STEPS.map((colors) => ({ colors }))];
    // Built once the colour rungs are estimated: the frame-rate rungs size their cut from that estimate.
    const ladder = (): Rung[] => [
      ...colours,
      ...this.fpsRungs(estimator, maxBytes),
      { colors: FLOOR_COLORS, fps: { rate: Math.min(1, this.input.fps), fromCs: 0, toCs: this.durationCs }, floor: true },
    ];
    if (await fitsAtBest(colours[0]!)) return { ladder: ladder(), start: 0 };
    if (await fitsAtBest(colours.at(-1)!)) {
      let start = colours.length - 1;
      while (start > 1 && (await fitsAtBest(colours[start - 1]!))) start--;
      return { ladder: ladder(), start };
    }
    const all = ladder();
    let lo = colours.length;
    let hi = all.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (await fitsAtBest(all[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return { ladder: all, start: lo };
  }

  /**
   * The least lossy level of one rung that fits (at most three whole encodes, each correcting the
   * estimate by what it missed), or undefined. Records the smallest GIF reached in `smallest`.
   */
  private async fitRung(rung: Rung, first: boolean, estimator: Estimator, maxBytes: number, smallest: { bytes: number; steps: string[] }): Promise<EncodeOutput | undefined> {
    const levels = first ? LOSSY_LEVELS.slice(1) : LOSSY_LEVELS;
    const at = (k: number): EncodeSettings => ({ ...strip(rung), lossy: levels[k]! });
    let correction = 1;
    // The cheapest level the estimate (scaled by what it missed so far) says fits.
    const cheapest = async (from: number) => {
      let lo = from;
      let hi = levels.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((await estimator.estimate(at(mid))) * correction <= maxBytes * AIM) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    let k = await cheapest(0);
    for (let tries = 0; tries < 3; tries++) {
      const split = this.splitEncodes;
      let out = await this.encode(at(k));
      // On two threads a lossy GIF codes a few pixels more than on one (GifWriter.part: up to 1.8 % on
      // the bench's moments). The rung's strongest level missing by no more than that is made again
      // on one thread before the search goes on down the ladder, which costs far more fidelity.
      const last = k === levels.length - 1;
      if (last && this.splitEncodes > split && out.gif.length > maxBytes && out.gif.length <= maxBytes * (1 + SPLIT_LOSSY_EXTRA)) out = await this.encode(at(k), true);
      if (out.gif.length < smallest.bytes) Object.assign(smallest, { bytes: out.gif.length, steps: stepNames(out.settings) });
      if (out.gif.length <= maxBytes) return out;
      if (last) return undefined;
      correction = Math.max(correction, out.gif.length / (await estimator.estimate(at(k))));
      const next = await cheapest(k + 1);
      // Even the strongest level does not fit: on to the next rung (the floor tries it anyway).
      if (next === levels.length - 1 && !rung.floor && (await estimator.estimate(at(next))) * correction > maxBytes) return undefined;
      k = next;
    }
    return undefined;
  }

  private get durationCs(): number {
    return this.startsCs.at(-1)! + this.input.frames.at(-1)!.delayCs;
  }

  /**
   * Frame-rate rungs (on the fewest colours but the floor's): for each lower rate, the busiest
   * stretch that should cut enough, heavier ones, then the whole clip.
   */
  private fpsRungs(estimator: Estimator, maxBytes: number): Rung[] {
    const colors = COLOR_STEPS.at(-1)!;
    const whole = { fromCs: 0, toCs: this.durationCs };
    // The share of the bytes the cut must remove, and guessing that merged frames save a little
    // over half of what they weighed, the share of the clip's bytes a stretch must hold.
    const estimate = estimator.known({ colors, lossy: LOSSY_LEVELS.at(-1)! }) ?? 2 * maxBytes;
    // An estimate that says the fewest colours fit has already erred (these rungs come after them):
    // cut a twentieth, and more on the heavier rungs.
    const cut = estimate > maxBytes ? 1 - maxBytes / estimate : 0.05;
    const out: Rung[] = [];
    const seen = new Set<string>();
    for (const rate of FPS_STEPS) {
      if (rate >= this.input.fps) continue;
      const saving = (1 - rate / this.input.fps) * 0.6;
      for (const share of [1.25, 1.75, 2.5, 3.5, Infinity].map((k) => (cut / saving) * k)) {
        const stretch = share >= 1 ? whole : this.busiestStretch(estimator.weights, share);
        const key = `${rate}/${stretch.fromCs}/${stretch.toCs}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ colors, fps: { rate, ...stretch } });
      }
    }
    return out;
  }

  /** The shortest stretch of GIF time whose frames carry at least `share` of the bytes. */
  busiestStretch(bytes: number[], share: number): { fromCs: number; toCs: number } {
    const n = bytes.length;
    const need = share * bytes.reduce((a, b) => a + b, 0);
    const end = (j: number) => this.startsCs[j]! + this.input.frames[j]!.delayCs;
    let best = { fromCs: 0, toCs: end(n - 1) };
    let sum = 0;
    for (let i = 0, j = -1; i < n; i++) {
      while (sum < need && j < n - 1) sum += bytes[++j]!;
      if (sum < need) break;
      if (end(j) - this.startsCs[i]! < best.toCs - best.fromCs) best = { fromCs: this.startsCs[i]!, toCs: end(j) };
      sum -= bytes[i]!;
    }
    return best;
  }

  /**
   * Which frames are written, and for how long, once the fps step merges some: in the stretch, the
   * frames starting in each 1/rate s slot become one, showing the picture that was on screen
   * longest in the slot (the later on a tie; the last slot: the last picture) for the whole slot. A pause inside a slot thus shows
   * its still picture, not the scroll that led to it or the one after it. A picture is a changed
   * frame and the unchanged ones after it (known once a lossless encode has run).
   */
  select(s: Pick<EncodeSettings, 'fps'>): Selection {
    const frames = this.input.frames;
    const keep = frames.map(() => true);
    const delays = frames.map((f) => f.delayCs);
    if (!s.fps) return { keep, delays };
    const { rate, fromCs, toCs } = s.fps;
    const slot = 100 / rate;
    const bucketOf = (i: number) => {
      const t = this.startsCs[i]!;
      return i > 0 && t >= fromCs && t < toCs ? Math.floor((t - fromCs) / slot) : -1 - i;
    };
    for (let i = 0; i < frames.length; ) {
      const bucket = bucketOf(i);
      let end = i + 1;
      while (end < frames.length && bucketOf(end) === bucket) end++;
      if (end - i > 1) {
        let pick = i;
        let pickTime = -1;
        let total = 0;
        let lastPicture = i;
        for (let j = i; j < end; ) {
          // One picture: frame j and the frames after it that changed nothing.
          let run = j + 1;
          while (run < end && this.unchanged[run]) run++;
          let time = 0;
          for (let k = j; k < run; k++) time += frames[k]!.delayCs;
          if (time >= pickTime) {
            pick = j;
            pickTime = time;
          }
          total += time;
          lastPicture = j;
          j = run;
        }
        // The GIF ends on what the window ends on (the engine's last frame shows the state at its
        // end), however briefly that picture lasts in the last slot.
        if (end === frames.length) pick = lastPicture;
        for (let j = i; j < end; j++) {
          keep[j] = j === pick;
          delays[j] = j === pick ? total : 0;
        }
      }
      i = end;
    }
    return { keep, delays };
  }

  /**
   * Bytes of frame i coded alone at `lossy`, against frame `pred` on screen (whole when pred < 0),
   * measured on a strip of the picture: four bands of rows, a quarter of it, stacked into one image.
   */
  async stripCost(colors: number, lossy: number, pred: number, i: number): Promise<number> {
    const key = `${colors}/${lossy}/${pred}/${i}`;
    const known = this.costs.get(key);
    if (known !== undefined) return known;
    const pal = this.palettesFor(colors);
    const probe = this.probe;
    probe.maxDiff = lossyMaxDiff(lossy);
    this.scratch.truncate(0);
    if (pred >= 0) probe.seed(await this.strip(pal, pred));
    const at = probe.encode(await this.strip(pal, i), 1, pred < 0, this.scratch);
    const bytes = at < 0 ? 0 : this.scratch.length;
    this.costs.set(key, bytes);
    return bytes;
  }

  /** A frame's strip (see stripCost) mapped to a palette's shared table. */
  private async strip(pal: Palettes, i: number): Promise<MappedFrame> {
    let index = pal.strips[i];
    if (!index) {
      const rgba = await this.input.frames[i]!.rgba(this.canvas());
      const w = this.input.width;
      index = new Uint8Array(w * this.stripRows.length);
      let o = 0;
      for (const [from, to] of this.stripBands) {
        pal.table.map.map(rgba.subarray(from * w * 4, to * w * 4), index.subarray(o, o + (to - from) * w));
        o += (to - from) * w;
      }
      pal.strips[i] = index;
    }
    return { index, table: pal.table, local: false };
  }

  /** The header, colour table and trailer of a GIF with these settings. */
  overhead(colors: number): number {
    return 13 + 3 * this.palettesFor(colors).table.size + 19 + 1;
  }

  private palettesFor(colors: number): Palettes {
    let p = this.palettes.get(colors);
    if (!p) {
      const palette =
        colors >= 256
          ? this.input.sampler.palette()
          : paletteFor(subsample(this.input.sampler.samples(), REDUCED_PALETTE_SAMPLE), Math.min(MAX_COLORS, colors - 1));
      const table = new ColourTable(palette);
      p = { colors, table, mapper: new FrameMapper(table, colors >= 256), mapped: [], strips: [] };
      // Only the newest palette's frames stay mapped in full.
      for (const other of this.palettes.values()) {
        for (const m of other.mapped) if (m) this.cachedBytes -= m.index.length;
        other.mapped = [];
      }
      this.palettes.set(colors, p);
    }
    return p;
  }

  /**
   * Frame i mapped to the palette (into `into` when given); only its changed box when `before` is
   * the frame before it on the shared table.
   */
  private async mapped(pal: Palettes, i: number, before?: Mapped, into?: Uint8Array): Promise<MappedFrame> {
    const known = pal.mapped[i];
    if (known) return known;
    const frame = this.input.frames[i]!;
    const rgba = await frame.rgba(this.canvas());
    const m = pal.mapper.mapAfter(before, rgba, i, frame.changedBox, this.input.width, into);
    // Without a budget every frame is mapped once, for the one encode.
    if (this.input.maxBytes !== undefined && this.cachedBytes + m.index.length <= MAPPED_CACHE_BYTES) {
      pal.mapped[i] = m;
      this.cachedBytes += m.index.length;
    }
    return m;
  }

  private canvas(): Uint8Array {
    return (this.pixels ??= new Uint8Array(this.input.width * this.input.height * 4));
  }

  get frameStarts(): number[] {
    return this.startsCs;
  }
}

/** A frame as mapped in an encode, and its place in the input. */
interface Mapped {
  i: number;
  m: MappedFrame;
}

/**
 * Estimates a setting's GIF size without encoding it: the first frame coded whole, plus a sample
 * of the other frames, picked in proportion to their lossless bytes (systematic PPS), each coded
 * alone against the frame before it; their ratio to their lossless bytes scales the rest.
 */
export class Estimator {
  private readonly picks: { frame: number; weight: number }[];
  private readonly estimates = new Map<string, number>();

  constructor(
    private readonly enc: GifEncoder,
    /** Lossless bytes of each frame (0: the frame changed nothing). */
    readonly weights: number[],
  ) {
    const frames = weights.map((bytes, frame) => ({ frame, bytes })).filter((f) => f.frame > 0 && f.bytes > 0);
    this.picks = ppsSample(frames, SAMPLE_PICKS);
  }

  async estimate(s: EncodeSettings): Promise<number> {
    const key = JSON.stringify(s);
    const known = this.estimates.get(key);
    if (known !== undefined) return known;
    const sel = this.enc.select(s);
    const predOf = (i: number) => {
      let p = i - 1;
      while (!sel.keep[p]) p--;
      return p;
    };
    let bytes = this.enc.overhead(s.colors) + (await this.cost(s, -1, 0));
    const starts = this.enc.frameStarts;
    const inStretch = (i: number) => s.fps !== undefined && starts[i]! >= s.fps.fromCs && starts[i]! < s.fps.toCs;
    // Frames outside the merged stretch, and not right after a merged one: the sample.
    const merged = (i: number) => inStretch(i) || (i > 1 && !sel.keep[i - 1]);
    for (const { frame, weight } of this.picks) {
      if (merged(frame)) continue;
      bytes += weight * (await this.cost(s, predOf(frame), frame));
    }
    if (s.fps) {
      // Frames kept in the stretch: each now carries the changes of the frames merged away before
      // it. That costs between what the largest of them did (a scroll's steps overlap) and all of
      // them together (typing: each step changes another place); the sample is drawn in proportion
      // to the geometric mean of the two.
      const groups: { frame: number; max: number; sum: number }[] = [];
      let max = 0;
      let sum = 0;
      for (let i = 1; i < sel.keep.length; i++) {
        const b = this.weights[i]!;
        max = Math.max(max, b);
        sum += b;
        if (!sel.keep[i]) continue;
        if (inStretch(i) || (i > 1 && !sel.keep[i - 1])) groups.push({ frame: i, max, sum });
        max = 0;
        sum = 0;
      }
      const sized = groups.map((g) => ({ frame: g.frame, bytes: Math.sqrt(g.max * g.sum) })).filter((g) => g.bytes > 0);
      for (const { frame, weight } of ppsSample(sized, SAMPLE_PICKS)) {
        bytes += weight * (await this.cost(s, predOf(frame), frame));
      }
    }
    this.estimates.set(key, Math.round(bytes));
    return Math.round(bytes);
  }

  /**
   * Bytes frame i would take with these settings after frame `pred`: its lossless bytes scaled by
   * how the setting changes the bytes of its strip (see GifEncoder.stripCost). When its lossless
   * change misses the strip, its lossless bytes stand (or the strip's, scaled to the picture, if
   * merging frames made the strip change).
   */
  private async cost(s: EncodeSettings, pred: number, i: number): Promise<number> {
    // Strip probes add up to seconds over a search: let the event loop run between them (GifEncoder.encode).
    await nextTurn();
    const base = await this.enc.stripCost(256, 0, i - 1, i);
    const mine = await this.enc.stripCost(s.colors, s.lossy, pred, i);
    const lossless = this.weights[i]!;
    if (base > 0) return (lossless * mine) / base;
    return Math.max(lossless, mine * this.enc.stripScale);
  }

  /** A setting's estimate, if it was made. */
  known(s: EncodeSettings): number | undefined {
    return this.estimates.get(JSON.stringify(s));
  }
}

/**
 * A sample of items in proportion to their bytes (systematic PPS), each with the weight that makes
 * the weighted sum of a quantity over the sample estimate its total; everything when there are few.
 */
function ppsSample(items: { frame: number; bytes: number }[], picks: number): { frame: number; weight: number }[] {
  if (items.length <= picks * 2) return items.map(({ frame }) => ({ frame, weight: 1 }));
  const total = items.reduce((a, b) => a + b.bytes, 0);
  const step = total / picks;
  const out: { frame: number; weight: number }[] = [];
  let next = step / 2;
  let acc = 0;
  for (const { frame, bytes } of items) {
    acc += bytes;
    while (acc > next) {
      const last = out.at(-1);
      if (last?.frame === frame) last.weight += step / bytes;
      else out.push({ frame, weight: step / bytes });
      next += step;
    }
  }
  return out;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function strip(r: Rung): Omit<EncodeSettings, 'lossy'> {
  return r.fps ? { colors: r.colors, fps: r.fps } : { colors: r.colors };
}
