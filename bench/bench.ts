// `npm run bench`: renders a 30 s moment of a realistic recording (navigation, scrolling, typing,
// idle stretches) with the engine, and with the plain approach (seek + screenshot every frame, no
// deduplication, a palette per frame) in the same run, and compares both with live screenshots.
//
//   npm run bench                                   records a fresh ~80 s session on the fixture shop
//   npm run bench -- --recording f.json.gz --start 15 --end 45 [--allow-origin o]   an existing file
//   options: --runs <n> (engine runs, default 3), --plain-runs <n> (default 1), --no-replayers
import { cpus, totalmem } from 'node:os';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { CHROMIUM_ARGS, chromiumPath } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS, type RenderContext, type RenderResult } from '../src/render/types.js';
import { ssimAgainstLive } from '../test/support/compare.js';
import { decodeGif, frameAt } from '../test/support/gif-frames.js';
import { exampleJourney } from '../test/support/journeys.js';
import { recordJourney, type Shot } from '../test/support/recorder.js';
import { startSite, type SiteServer } from '../test/support/site-server.js';

const { values: args } = parseArgs({
  options: {
    recording: { type: 'string' },
    'allow-origin': { type: 'string', multiple: true, default: [] },
    start: { type: 'string', default: '15' },
    end: { type: 'string', default: '45' },
    runs: { type: 'string', default: '3' },
    'plain-runs': { type: 'string', default: '1' },
    'no-replayers': { type: 'boolean', default: false },
  },
});

interface Row {
  method: string;
  wallMs: number;
  timings: RenderResult['timings'];
  captured: number;
  frames: number;
  bytes: number;
  ssimMean?: number;
  ssimMin?: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const startS = Number(args.start);
  const endS = Number(args.end);
  let site: SiteServer | undefined;
  let events: RrwebEvent[];
  let shots: Shot[] = [];
  let allowOrigins = args['allow-origin'] ?? [];
  let viewportHeightRatio = 800 / 1280;
  try {
    if (args.recording) {
      events = parseRecording(await readFile(args.recording)).events;
    } else {
      site = await startSite();
      allowOrigins = [site.origin];
      process.stderr.write('recording a fresh session on the fixture shop with rrweb\'s recorder (about 80 s)...\n');
      const rec = await recordJourney(site.origin, exampleJourney);
      events = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
      shots = rec.shots;
      viewportHeightRatio = rec.viewport.height / rec.viewport.width;
    }
    const lengthS = (events[events.length - 1]!.timestamp - events[0]!.timestamp) / 1000;
    const windowS = endS - startS;
    const windowStartTs = events[0]!.timestamp + startS * 1000;
    const inWindow = shots.filter((s) => s.ts >= windowStartTs && s.ts < windowStartTs + windowS * 1000);

    const options = { ...DEFAULT_RENDER_OPTIONS, startS, endS, allowOrigins };
    const score = async (r: RenderResult): Promise<Pick<Row, 'ssimMean' | 'ssimMin'>> => {
      if (inWindow.length === 0) return {};
      const gif = decodeGif(r.gif);
      const frameHeight = Math.round(gif.width * viewportHeightRatio);
      const values: number[] = [];
      for (const s of inWindow) values.push(await ssimAgainstLive(s.png, frameAt(gif, s.ts - windowStartTs).rgba, gif.width, frameHeight));
      return { ssimMean: values.reduce((a, b) => a + b, 0) / values.length, ssimMin: Math.min(...values) };
    };
    const run = async (method: string, ctx: RenderContext): Promise<Row> => {
      // No ctx.browser: every run starts its own Chromium, and the wall time includes that start.
      const r = await renderRecording(events, options, ctx);
      const row: Row = { method, wallMs: r.wallMs, timings: r.timings, captured: r.captured, frames: r.frames, bytes: r.gif.length, ...(await score(r)) };
      process.stderr.write(`  ${method}: ${(row.wallMs / 1000).toFixed(2)} s, ${row.captured} captured, ${row.frames} written, ${(row.bytes / 1024).toFixed(0)} KiB\n`);
      return row;
    };

    const fast: Row[] = [];
    const plain: Row[] = [];
    // Interleaved, so both see the same machine state.
    const runs = Math.max(Number(args.runs), Number(args['plain-runs']));
    for (let i = 0; i < runs; i++) {
      if (i < Number(args.runs)) fast.push(await run('engine', {}));
      if (i < Number(args['plain-runs'])) plain.push(await run('plain', { method: 'plain' }));
    }
    const upstream = args['no-replayers'] ? undefined : await run('engine, upstream rrweb replayer', { replayer: 'upstream' });

    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
    const chromiumVersion = browser.version();
    await browser.close();

    const summarise = (name: string, rows: Row[]) => {
      const wall = median(rows.map((r) => r.wallMs));
      const r = rows[0]!;
      const mid = rows.find((x) => x.wallMs === wall)!;
      return {
        method: name,
        wall_s: +(wall / 1000).toFixed(2),
        x_real_time: +(windowS / (wall / 1000)).toFixed(1),
        captured: r.captured,
        frames: r.frames,
        bytes: r.bytes,
        ssim_mean: r.ssimMean === undefined ? null : +r.ssimMean.toFixed(4),
        ssim_min: r.ssimMin === undefined ? null : +r.ssimMin.toFixed(4),
        runs: rows.map((x) => +(x.wallMs / 1000).toFixed(2)),
        timings: mid.timings,
      };
    };
    const table = [summarise('engine (begin-frame, dedup, shared palette)', fast), summarise('plain (seek + screenshot every frame)', plain)];
    if (upstream) table.push(summarise('engine with upstream rrweb 2.2.2 replayer', [upstream]));
    const f = table[0]!;
    const p = table[1]!;
    console.log(`\nmachine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, chromium ${chromiumVersion}`);
    console.log(`recording: ${args.recording ?? 'fresh fixture-shop session'} (${lengthS.toFixed(1)} s, ${events.length} events); window ${startS}-${endS} s, 10 fps, 800 px; ${inWindow.length} live screenshots in the window`);
    console.log('\n| method | wall (s, median) | × real time | captured | frames written | bytes | SSIM mean | SSIM min |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const t of table) {
      console.log(`| ${t.method} | ${t.wall_s} (${t.runs.join(', ')}) | ${t.x_real_time} | ${t.captured} | ${t.frames} | ${t.bytes.toLocaleString('en')} | ${t.ssim_mean ?? 'n/a'} | ${t.ssim_min ?? 'n/a'} |`);
    }
    console.log('\nwhere the median run\'s time went (ms): setup = browser start, player, replay up to the window; replay = seeking to each later captured frame; capture = pictures; encode = GIF after the last picture');
    for (const t of table) console.log(`- ${t.method}: ${JSON.stringify(t.timings)}`);
    console.log(`\nengine vs plain: ${(p.wall_s / f.wall_s).toFixed(1)}x faster, ${(p.bytes / f.bytes).toFixed(1)}x smaller, ${p.captured - f.captured} fewer screenshots`);
    console.log(JSON.stringify({ window_s: windowS, table }));
  } finally {
    await site?.close();
  }
}

await main();
