// The byte budget's benchmark row (issue 8): a scroll-heavy photo moment forced under 1 MB, and
// what each step of the budget ladder costs in SSIM for what it saves in bytes.
//
//   npx tsx bench/budget.ts [--max-bytes 1048576] [--points 40] [--photo-recording f.json] [--save-photo f.json]
//
// It records a fresh scroll-heavy session on the fixture shop with rrweb's recorder (about 45 s;
// test/support/photo-scroll.ts), with live screenshots at its pauses, and renders its 3-33 s
// moment at 10 fps, 800 px: without a budget, then under --max-bytes. It also renders the example
// recording's 15-45 s moment (examples/journey.json.gz, the fixture shop served again). Then it
// re-encodes each moment's captured frames with each step alone (lossy levels, fewer colours,
// lower frame rates) and compares every result with the unbudgeted GIF by SSIM at `points` moments
// spread over the clip.
//
// The main benchmark can call `budgetBench()` (it prints as it goes and returns the figures).
import type { BenchRow, RowReport } from './lib/row.js';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { ssim } from 'ssim.js';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { encodeTaps, GifEncoder, stepNames, type EncodeInput, type EncodeSettings } from '../src/render/gif.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions, type RenderResult } from '../src/render/types.js';
import { ssimAgainstLive } from '../test/support/compare.js';
import { decodeGif, frameAt, type DecodedGif } from '../test/support/gif-frames.js';
import { photoScrollJourney } from '../test/support/photo-scroll.js';
import { recordJourney, type Shot } from '../test/support/recorder.js';
import { startSite } from '../test/support/site-server.js';

export interface BudgetBenchOptions {
  maxBytes?: number;
  /** Moments of each clip compared by SSIM. */
  points?: number;
  /** A photo-scroll recording saved by an earlier run (`--save-photo`), instead of recording one. */
  photoRecording?: string;
  savePhoto?: string;
  log?: (line: string) => void;
}

export interface StepRow {
  clip: string;
  step: string;
  bytes: number;
  /** Share of the unbudgeted GIF's bytes saved. */
  saved: number;
  ssimMean: number;
  ssimMin: number;
  encodeMs: number;
}

export interface BudgetRow {
  clip: string;
  maxBytes: number;
  bytesBefore: number;
  bytesAfter: number;
  steps: string[];
  encodes: number;
  wallMs: number;
  /** Encoding after the last capture, without the budget and with it. */
  encodeMsFree: number;
  encodeMsBudget: number;
  ssimVsUnbudgetedMean: number;
  ssimVsUnbudgetedMin: number;
  /** Against live screenshots taken at the recording's pauses (unbudgeted for comparison). */
  ssimLiveMean: number | null;
  ssimLiveMin: number | null;
  ssimLiveFreeMean: number | null;
}

export interface BudgetBenchResult {
  machine: string;
  budget: BudgetRow;
  steps: StepRow[];
}

const EXAMPLE_ORIGIN = 'http://127.0.0.1:8765';

interface Clip {
  name: string;
  events: RrwebEvent[];
  options: RenderOptions;
  shots: Shot[];
  viewport: { width: number; height: number };
}

/** Renders a moment, keeping the frames the encoder was given. */
async function renderKeepingFrames(clip: Clip, browser: Browser, extra: Partial<RenderOptions> = {}): Promise<{ result: RenderResult; input: EncodeInput }> {
  let input: EncodeInput | undefined;
  const tap = (i: EncodeInput) => {
    input = i;
  };
  encodeTaps.add(tap);
  try {
    const result = await renderRecording(clip.events, { ...clip.options, ...extra }, { browser });
    return { result, input: input! };
  } finally {
    encodeTaps.delete(tap);
  }
}

function mssim(a: Uint8ClampedArray, b: Uint8ClampedArray, width: number, height: number): number {
  return ssim({ data: a, width, height }, { data: b, width, height }).mssim;
}

/**
 * SSIM of a GIF against a reference GIF at `points` moments spread over the clip. The moments are
 * not in step with the 100 ms frame slots (nor with any lower rate's), or merged frames would be
 * compared only where they happen to be the one kept.
 */
function ssimOverTime(ref: DecodedGif, gif: DecodedGif, points: number): { mean: number; min: number } {
  const values: number[] = [];
  const cache = new Map<string, number>();
  for (let k = 0; k < points; k++) {
    const t = ((k + 0.618) * ref.durationMs) / points;
    const a = frameAt(ref, t);
    const b = frameAt(gif, t);
    const key = `${a.startMs}/${b.startMs}`;
    let v = cache.get(key);
    if (v === undefined) {
      v = mssim(a.rgba, b.rgba, ref.width, ref.height);
      cache.set(key, v);
    }
    values.push(v);
  }
  return { mean: values.reduce((s, v) => s + v, 0) / values.length, min: Math.min(...values) };
}

async function liveSsim(clip: Clip, gif: DecodedGif): Promise<number[]> {
  const windowStart = clip.events[0]!.timestamp + clip.options.startS * 1000;
  const windowEnd = clip.events[0]!.timestamp + clip.options.endS! * 1000;
  const frameHeight = Math.round((gif.width * clip.viewport.height) / clip.viewport.width);
  const out: number[] = [];
  for (const s of clip.shots) {
    if (s.ts < windowStart || s.ts >= windowEnd) continue;
    out.push(await ssimAgainstLive(s.png, frameAt(gif, s.ts - windowStart).rgba, gif.width, frameHeight));
  }
  return out;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Each step of the ladder alone, on the frames of one render. */
async function stepTable(clip: Clip, input: EncodeInput, free: DecodedGif, freeBytes: number, points: number, log: (l: string) => void): Promise<StepRow[]> {
  const enc = new GifEncoder({ ...input, maxBytes: undefined });
  const base = await enc.encode({ lossy: 0, colors: 256 });
  const total = enc.frameStarts.at(-1)! + input.frames.at(-1)!.delayCs;
  const busiest = enc.busiestStretch(base.inputBytes, 0.5);
  const settings: EncodeSettings[] = [
    ...[20, 40, 80, 130, 200].map((lossy) => ({ lossy, colors: 256 })),
    ...[128, 64, 32].map((colors) => ({ lossy: 0, colors })),
    { lossy: 0, colors: 256, fps: { rate: 5, ...busiest } },
    ...[5, 2, 1].map((rate) => ({ lossy: 0, colors: 256, fps: { rate, fromCs: 0, toCs: total } })),
    // Where the ladder's rungs meet: the strongest lossy level on 64 colours, then at 2 fps.
    { lossy: 200, colors: 64 },
    { lossy: 200, colors: 64, fps: { rate: 2, fromCs: 0, toCs: total } },
  ];
  const rows: StepRow[] = [];
  for (const s of settings) {
    const t = performance.now();
    const out = await enc.encode(s);
    const encodeMs = performance.now() - t;
    const q = ssimOverTime(free, decodeGif(out.gif), points);
    const step = stepNames(s).join(' ');
    const row: StepRow = { clip: clip.name, step, bytes: out.gif.length, saved: 1 - out.gif.length / freeBytes, ssimMean: q.mean, ssimMin: q.min, encodeMs: Math.round(encodeMs) };
    log(`  ${clip.name} ${step}: ${out.gif.length} bytes (${(row.saved * 100).toFixed(1)}% saved), SSIM ${q.mean.toFixed(4)} mean, ${q.min.toFixed(4)} min, ${row.encodeMs} ms`);
    rows.push(row);
  }
  return rows;
}

export async function budgetBench(opts: BudgetBenchOptions = {}): Promise<BudgetBenchResult> {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const points = opts.points ?? 40;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const site = await startSite();
  const browser = await launchBrowser();
  try {
    // The photo moment: a fresh recording (or a saved one), with live screenshots.
    let photo: { events: unknown[]; shots: Shot[]; viewport: { width: number; height: number }; origin: string };
    if (opts.photoRecording) {
      const saved = JSON.parse(await readFile(opts.photoRecording, 'utf8')) as { events: unknown[]; shots: (Omit<Shot, 'png'> & { png: string })[]; viewport: { width: number; height: number }; origin: string };
      photo = { ...saved, shots: saved.shots.map((s) => ({ ...s, png: Buffer.from(s.png, 'base64') })) };
    } else {
      log('recording a scroll-heavy session over photos on the fixture shop with rrweb\'s recorder (about 45 s)...');
      // Its own browser, drawing on its own as a user's does (the render's is driven frame by frame).
      const rec = await recordJourney(site.origin, photoScrollJourney);
      photo = { ...rec, origin: site.origin };
      if (opts.savePhoto) {
        await writeFile(opts.savePhoto, JSON.stringify({ ...photo, shots: photo.shots.map((s) => ({ ...s, png: s.png.toString('base64') })) }));
      }
    }
    const rewrite = (events: unknown[], from: string) => parseRecording(Buffer.from(JSON.stringify(events).replaceAll(from, site.origin))).events;
    const base = { ...DEFAULT_RENDER_OPTIONS, allowOrigins: [site.origin] };
    const photoClip: Clip = {
      name: 'photo scroll 3-33 s',
      events: rewrite(photo.events, photo.origin),
      options: { ...base, startS: 3, endS: 33 },
      shots: photo.shots.map((s) => ({ ...s })),
      viewport: photo.viewport,
    };
    // The example recording references the shop at 127.0.0.1:8765; it is served here on another port.
    const exampleText = gunzipSync(await readFile(new URL('../examples/journey.json.gz', import.meta.url))).toString();
    const exampleClip: Clip = {
      name: 'example 15-45 s',
      events: parseRecording(Buffer.from(exampleText.replaceAll(EXAMPLE_ORIGIN, site.origin))).events,
      options: { ...base, startS: 15, endS: 45 },
      shots: [],
      viewport: { width: 1280, height: 800 },
    };

    log(`rendering ${photoClip.name} without a budget, then under ${maxBytes} bytes...`);
    const free = await renderKeepingFrames(photoClip, browser);
    const tight = await renderKeepingFrames(photoClip, browser, { maxBytes });
    const freeGif = decodeGif(free.result.gif);
    const tightGif = decodeGif(tight.result.gif);
    const vsFree = ssimOverTime(freeGif, tightGif, points);
    const live = await liveSsim(photoClip, tightGif);
    const liveFree = await liveSsim(photoClip, freeGif);
    const b = tight.result.budget!;
    const budget: BudgetRow = {
      clip: photoClip.name,
      maxBytes,
      bytesBefore: b.bytesBefore,
      bytesAfter: b.bytesAfter,
      steps: b.steps,
      encodes: b.encodes,
      wallMs: tight.result.wallMs,
      encodeMsFree: free.result.timings.encodeMs,
      encodeMsBudget: tight.result.timings.encodeMs,
      ssimVsUnbudgetedMean: vsFree.mean,
      ssimVsUnbudgetedMin: vsFree.min,
      ssimLiveMean: mean(live),
      ssimLiveMin: live.length ? Math.min(...live) : null,
      ssimLiveFreeMean: mean(liveFree),
    };

    log('re-encoding each moment\'s frames with each step alone...');
    const steps = await stepTable(photoClip, free.input, freeGif, free.result.gif.length, points, log);
    const example = await renderKeepingFrames(exampleClip, browser);
    steps.push(...(await stepTable(exampleClip, example.input, decodeGif(example.result.gif), example.result.gif.length, points, log)));

    const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, chromium ${browser.version()}`;
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    const f4 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
    console.log(`\nmachine: ${machine}`);
    console.log(`\nBudget row: ${photoClip.name}, 10 fps, 800 px, forced under ${maxBytes.toLocaleString('en')} bytes`);
    console.log('| bytes before | bytes after | steps | whole encodes | wall (s) | encode without / with budget (ms) | SSIM vs unbudgeted (mean / min) | SSIM vs live (mean / min; unbudgeted mean) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    console.log(
      `| ${budget.bytesBefore.toLocaleString('en')} | ${budget.bytesAfter.toLocaleString('en')} | ${budget.steps.join(', ') || 'none'} | ${budget.encodes} | ${(budget.wallMs / 1000).toFixed(2)} | ${budget.encodeMsFree} / ${budget.encodeMsBudget} | ${f4(budget.ssimVsUnbudgetedMean)} / ${f4(budget.ssimVsUnbudgetedMin)} | ${f4(budget.ssimLiveMean)} / ${f4(budget.ssimLiveMin)}; ${f4(budget.ssimLiveFreeMean)} (${live.length} screenshots) |`,
    );
    console.log(`\nEach step alone (SSIM against the unbudgeted GIF at ${points} moments of the clip; bytes saved against it)`);
    console.log('| clip | step | bytes | saved | SSIM mean | SSIM min | encode (ms) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of steps) console.log(`| ${r.clip} | ${r.step} | ${r.bytes.toLocaleString('en')} | ${pct(r.saved)} | ${f4(r.ssimMean)} | ${f4(r.ssimMin)} | ${r.encodeMs} |`);
    const result = { machine, budget, steps };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await browser.close();
    await site.close();
  }
}

/**
 * `npm run bench -- --row budget`: the row as the bench runner calls it (its tables are printed by
 * budgetBench itself; the runner gets the summary). `--points <n>` moments per clip for SSIM
 * (default 20; each point costs SSIM against every step's GIF), `--photo-recording <file>`.
 */
export const budgetRow: BenchRow = {
  name: 'budget',
  about: 'a scroll-heavy photo moment forced under 1 MiB: bytes, steps, SSIM; each budget step alone with its SSIM cost',
  onlyWhenAsked: true,
  async run(ctx): Promise<RowReport> {
    const photo = typeof ctx.options['photo-recording'] === 'string' ? ctx.options['photo-recording'] : undefined;
    const r = await budgetBench({ maxBytes: 1024 * 1024, points: Number(ctx.options.points ?? 20), log: ctx.log, ...(photo ? { photoRecording: photo } : {}) });
    const b = r.budget;
    return {
      row: 'budget',
      lines: [`budget: ${b.clip} ${b.bytesBefore.toLocaleString('en')} -> ${b.bytesAfter.toLocaleString('en')} bytes (${b.steps.join(', ')}); SSIM vs live at pauses ${b.ssimLiveMean ?? 'n/a'} mean (unbudgeted ${b.ssimLiveFreeMean ?? 'n/a'})`],
      figures: { ...r },
    };
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      'max-bytes': { type: 'string', default: String(1024 * 1024) },
      points: { type: 'string', default: '40' },
      'photo-recording': { type: 'string' },
      'save-photo': { type: 'string' },
    },
  });
  await budgetBench({
    maxBytes: Number(values['max-bytes']),
    points: Number(values.points),
    ...(values['photo-recording'] ? { photoRecording: values['photo-recording'] } : {}),
    ...(values['save-photo'] ? { savePhoto: values['save-photo'] } : {}),
  });
}
