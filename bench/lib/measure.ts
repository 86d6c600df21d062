import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { RrwebEvent } from '../../src/recording/types.js';
import { DEFAULT_RENDER_OPTIONS, type RenderContext, type RenderOptions, type RenderResult } from '../../src/render/types.js';
import { scoreMoments, shotsInWindow, type MomentScore } from '../../test/support/moments.js';
import type { Shot } from '../../test/support/recorder.js';
import type { ProcessUsage } from './process-usage.js';

/** One render of a moment, measured: what a row's table is made of. */
export interface Run {
  method: string;
  wallMs: number;
  timings: RenderResult['timings'];
  captured: number;
  frames: number;
  bytes: number;
  /** SSIM against each live screenshot inside the window (none when the window holds no shot). */
  moments: MomentScore[];
  /** SSIM against rrweb's Replayer playing the recording in real time at the same moments (when a reference was given). */
  reference: MomentScore[];
  /** Load average (1 min) when the run started: the machine is shared. */
  load: number;
  /** Where the render's pictures came from (a screencast given up takes more, scaled another way). */
  pictureSource: RenderResult['pictureSource'];
  /** CPU and page faults of Node and of each kind of Chromium process over the render. */
  processes?: ProcessUsage;
}

export interface Moment {
  events: RrwebEvent[];
  startS: number;
  endS: number;
  allowOrigins: string[];
  shots: Shot[];
  /** The viewport the frames are planned for (the recording's first page). */
  viewport: { width: number; height: number };
  /** Pictures of the same moments from a real-time rrweb replay (Sessions.reference). */
  reference?: Map<string, Shot>;
}

/** Renders the moment at the defaults (10 fps, 800 px), starting its own Chromium (wall time includes it). */
export async function measure(method: string, m: Moment, ctx: RenderContext = {}, log: (s: string) => void = () => {}): Promise<Run> {
  const options: RenderOptions = { ...DEFAULT_RENDER_OPTIONS, startS: m.startS, endS: m.endS, allowOrigins: m.allowOrigins };
  const load = loadavg()[0]!;
  const r = await renderInChild(m, options, ctx);
  const from = m.events[0]!.timestamp + m.startS * 1000;
  const inWindow = shotsInWindow(m.shots, m.events[0]!.timestamp, m.startS, m.endS);
  const moments = inWindow.length ? await scoreMoments(r.gif, inWindow, from, m.viewport) : [];
  const refShots = m.reference ? inWindow.map((s) => m.reference!.get(s.label)).filter((s): s is Shot => s !== undefined) : [];
  const reference = refShots.length ? await scoreMoments(r.gif, refShots, from, m.viewport) : [];
  const run: Run = { method, wallMs: r.wallMs, timings: r.timings, captured: r.captured, frames: r.frames, bytes: r.gif.length, moments, reference, load: +load.toFixed(1), pictureSource: r.pictureSource, processes: r.processes };
  log(`  ${method}: ${(run.wallMs / 1000).toFixed(2)} s, ${run.captured} captured (${run.pictureSource ?? '?'}), ${run.frames} written, ${(run.bytes / 1024).toFixed(0)} KiB, median step ${r.timings.stepMedianMs ?? '?'} ms (load ${run.load})`);
  return run;
}

const execFileAsync = promisify(execFile);
const eventFiles = new WeakMap<RrwebEvent[], Promise<string>>();
/** Each recording is written once for the child renders, and its folder removed when the bench ends. */
const eventDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of eventDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Renders in a process of its own, as the CLI and the worker do: the bench process holds every row's
 * recordings and screenshots, and its garbage collections slowed renders made inside it by a third.
 * The context must be plain data (no browser): each render starts its own Chromium anyway.
 */
async function renderInChild(m: Moment, options: RenderOptions, ctx: RenderContext): Promise<RenderResult & { processes?: ProcessUsage }> {
  let file = eventFiles.get(m.events);
  if (!file) {
    file = (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rr-bench-'));
      eventDirs.add(dir);
      const f = join(dir, 'events.json');
      await writeFile(f, JSON.stringify(m.events));
      return f;
    })();
    eventFiles.set(m.events, file);
  }
  const out = join(dirname(await file), `${Date.now()}-${Math.random().toString(36).slice(2)}.gif`);
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'render-child.ts'), await file, JSON.stringify(options), JSON.stringify(ctx), out], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const gif = await readFile(out);
  await rm(out, { force: true });
  return { ...(JSON.parse(stdout) as Omit<RenderResult, 'gif'> & { processes?: ProcessUsage }), gif };
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface Summary {
  method: string;
  wall_s: number;
  runs_s: number[];
  x_real_time: number;
  captured: number;
  frames: number;
  bytes: number;
  median_step_ms: number;
  steps: number;
  ssim_mean: number | null;
  ssim_min: number | null;
  /** Against the real-time rrweb replay of the same moments (null without a reference). */
  ssim_ref_mean: number | null;
  ssim_ref_min: number | null;
  load: number[];
  /** Each run's pictures, bytes and picture source: a run unlike the others shows here. */
  runs_captured: number[];
  runs_bytes: number[];
  picture_sources: (string | undefined)[];
  /** The median run's timings. */
  timings: RenderResult['timings'];
  /** The median run's CPU and page faults by process kind. */
  processes?: ProcessUsage;
  moments: MomentScore[];
  reference: MomentScore[];
}

const mean = (xs: number[]): number | null => (xs.length ? +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(4) : null);
const min = (xs: number[]): number | null => (xs.length ? +Math.min(...xs).toFixed(4) : null);

/**
 * The median run by wall time stands for the method. Sizes and SSIM are those of that run: renders of
 * one moment are byte-identical on most pages, not all (mdBook and motion vary by a few hundred bytes).
 */
export function summarise(method: string, runs: Run[], windowS: number): Summary {
  const wall = median(runs.map((r) => r.wallMs));
  const mid = runs.find((r) => r.wallMs === wall)!;
  const ssims = mid.moments.map((m) => m.ssim);
  const refs = mid.reference.map((m) => m.ssim);
  return {
    method,
    wall_s: +(wall / 1000).toFixed(2),
    runs_s: runs.map((r) => +(r.wallMs / 1000).toFixed(2)),
    x_real_time: +(windowS / (wall / 1000)).toFixed(1),
    captured: mid.captured,
    frames: mid.frames,
    bytes: mid.bytes,
    // An engine from before per-step timings (measuring an older commit) has only the replay total.
    median_step_ms: mid.timings.stepMedianMs ?? (mid.captured > 1 ? +(mid.timings.replayMs / (mid.captured - 1)).toFixed(1) : 0),
    steps: mid.timings.steps ?? mid.captured - 1,
    ssim_mean: mean(ssims),
    ssim_min: min(ssims),
    ssim_ref_mean: mean(refs),
    ssim_ref_min: min(refs),
    load: runs.map((r) => r.load),
    runs_captured: runs.map((r) => r.captured),
    runs_bytes: runs.map((r) => r.bytes),
    picture_sources: runs.map((r) => r.pictureSource),
    timings: mid.timings,
    processes: mid.processes,
    moments: mid.moments,
    reference: mid.reference,
  };
}

/** Runs each method's renders interleaved (a, b, a, b, ...), so both see the same machine. */
export async function interleaved(plan: { method: string; times: number; run: () => Promise<Run> }[]): Promise<Map<string, Run[]>> {
  const out = new Map<string, Run[]>(plan.map((p) => [p.method, []]));
  const most = Math.max(...plan.map((p) => p.times));
  for (let i = 0; i < most; i++) {
    for (const p of plan) if (i < p.times) out.get(p.method)!.push(await p.run());
  }
  return out;
}

export function table(rows: Summary[]): string[] {
  const withRef = rows.some((t) => t.ssim_ref_mean !== null);
  const lines = [
    `| method | wall (s, median of runs) | × real time | captured | frames | bytes | median step (ms) | SSIM mean | SSIM min |${withRef ? ' SSIM vs real-time replay, mean / min |' : ''}`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- |${withRef ? ' --- |' : ''}`,
  ];
  for (const t of rows) {
    const ref = withRef ? ` ${t.ssim_ref_mean ?? 'n/a'} / ${t.ssim_ref_min ?? 'n/a'} |` : '';
    lines.push(`| ${t.method} | ${t.wall_s} (${t.runs_s.join(', ')}) | ${t.x_real_time} | ${t.captured} | ${t.frames} | ${t.bytes.toLocaleString('en')} | ${t.median_step_ms} (${t.steps} steps) | ${t.ssim_mean ?? 'n/a'} | ${t.ssim_min ?? 'n/a'} |${ref}`);
  }
  return lines;
}

export function timingLines(rows: Summary[]): string[] {
  return [
    "where the median run's time went (ms): setup = launch + init + first step (the page's history up to the window); replay = waiting for the replay to reach each later captured frame (a step sent ahead runs while the frame before it is captured: stepsAhead); capture = pictures; encode = GIF after the last picture",
    ...rows.map((t) => `- ${t.method}: ${JSON.stringify(t.timings)}`),
    ...processLines(rows),
  ];
}

/** The median run's CPU and minor page faults by process: what the render's timings wait on. */
function processLines(rows: Summary[]): string[] {
  const withUsage = rows.filter((t) => t.processes);
  if (!withUsage.length) return [];
  return [
    "where the median run's CPU went (ms of CPU, minor page faults; Node includes sharp's decode threads and the encode; Chromium's processes by kind)",
    ...withUsage.map((t) => {
      const kinds = Object.entries(t.processes!).sort((a, b) => b[1].cpuMs - a[1].cpuMs);
      const total = kinds.reduce((a, [, u]) => a + u.cpuMs, 0);
      const parts = kinds.map(([kind, u]) => `${kind}${u.processes > 1 ? ` x${u.processes}` : ''} ${u.cpuMs} (${u.minorFaults.toLocaleString('en')})`);
      return `- ${t.method}: ${total} ms of CPU in ${Math.round(t.wall_s * 1000)} ms wall: ${parts.join(', ')}`;
    }),
  ];
}

export function momentLines(s: Summary): string[] {
  if (!s.moments.length) return [];
  const w = Math.max(...s.moments.map((m) => m.label.length));
  const ref = new Map(s.reference.map((m) => [m.label, m.ssim]));
  return [
    `SSIM per moment (${s.method}): against the live screenshot${ref.size ? '; against the real-time rrweb replay' : ''}`,
    ...s.moments.map((m) => `  ${m.label.padEnd(w)}  ${m.ssim.toFixed(4)}${ref.has(m.label) ? `  ${ref.get(m.label)!.toFixed(4)}` : ''}  at ${m.atS.toFixed(2)} s`),
  ];
}

/** How much closer to the live page than the engine the plain approach may draw a moment before the bench says so. */
const BEHIND_BY = 0.02;

/**
 * The moments the engine draws further from the live page than the plain approach does (a seek and
 * a screenshot at every slot, the player's naive mode, none of the engine's own repairs): a fault of
 * the engine's, not of the recording's. Stop 52's apidocs row had one at 0.70 against 0.95 (a
 * standards page turned quirks at its first SVG spinner) that the row's tables showed only as a low
 * minimum.
 */
export function behindPlainLines(e: Summary, p: Summary | undefined): string[] {
  if (!p || !e.moments.length) return [];
  const plain = new Map(p.moments.map((m) => [m.label, m.ssim]));
  const behind = e.moments.filter((m) => plain.has(m.label) && m.ssim < plain.get(m.label)! - BEHIND_BY);
  const what = `moments the engine draws further from the live page than the plain approach (by more than ${BEHIND_BY} of SSIM)`;
  return [behind.length ? `${what}: ${behind.map((m) => `${m.label} ${m.ssim.toFixed(4)} against ${plain.get(m.label)!.toFixed(4)}`).join('; ')}` : `${what}: none`];
}

/** The window clipped to the recording (a journey can end a little earlier than planned). */
export function clipWindow(startS: number, endS: number, lengthS: number): { startS: number; endS: number } {
  const end = Math.min(endS, Math.floor(lengthS * 100) / 100);
  return { startS: Math.max(0, Math.min(startS, end - 1)), endS: end };
}
