import { readFile } from 'node:fs/promises';
import { parseRecording } from '../../src/recording/parse.js';
import { behindPlainLines, interleaved, measure, momentLines, summarise, table, timingLines, type Moment, type Summary } from '../lib/measure.js';
import type { BenchContext, BenchRow, RowReport } from '../lib/row.js';

/**
 * The fixture journey: a 30 s moment (15-45 s) of a realistic session on the fixture shop (page loads,
 * reading, wheel scrolling over image grids, typing, idle stretches), rendered with the engine and
 * with the plain approach (seek and screenshot every slot, a palette per frame) interleaved in one run,
 * plus once with upstream rrweb's replayer. `--recording f.json.gz --start 15 --end 45 --allow-origin o`
 * renders an existing file instead (no live screenshots, so no SSIM).
 */
export const FIXTURE_WINDOW = { startS: 15, endS: 45 };

export async function fixtureMoment(ctx: BenchContext): Promise<Moment & { what: string }> {
  const o = ctx.options;
  const startS = Number(o.start ?? FIXTURE_WINDOW.startS);
  const endS = Number(o.end ?? FIXTURE_WINDOW.endS);
  if (typeof o.recording === 'string') {
    const events = parseRecording(await readFile(o.recording)).events;
    const allow = (o['allow-origin'] as string[] | undefined) ?? [];
    return { what: o.recording, events, startS, endS, allowOrigins: allow, shots: [], viewport: { width: 1280, height: 800 } };
  }
  const s = await ctx.sessions.get('fixture');
  return { what: `fresh session: ${s.what} (${s.lengthS.toFixed(1)} s)`, events: s.events, startS, endS, allowOrigins: [s.origin], shots: s.shots, viewport: s.viewport };
}

export const fixtureRow: BenchRow = {
  name: 'fixture',
  about: 'fixture shop journey, 30 s moment: engine vs plain approach (and upstream rrweb replayer)',
  async run(ctx): Promise<RowReport> {
    const m = await fixtureMoment(ctx);
    const windowS = m.endS - m.startS;
    ctx.log(`fixture row: ${m.what}; window ${m.startS}-${m.endS} s`);
    const runs = await interleaved([
      { method: 'engine', times: ctx.runs, run: () => measure('engine', m, {}, ctx.log) },
      { method: 'plain', times: ctx.plainRuns, run: () => measure('plain', m, { method: 'plain' }, ctx.log) },
    ]);
    const e = summarise('engine', runs.get('engine')!, windowS);
    // --plain-runs 0 leaves the baseline out (and the comparisons with it).
    const p = ctx.plainRuns > 0 ? summarise('plain (seek + screenshot every frame)', runs.get('plain')!, windowS) : undefined;
    const rows: Summary[] = p ? [e, p] : [e];
    if (!ctx.options['no-replayers']) rows.push(summarise('engine, upstream rrweb 2.2.2 replayer', [await measure('engine, upstream replayer', m, { replayer: 'upstream' }, ctx.log)], windowS));
    const lines = [
      `recording: ${m.what}; window ${m.startS}-${m.endS} s, 10 fps, 800 px; ${e.moments.length} live screenshots in the window`,
      '',
      ...table(rows),
      '',
      ...timingLines(rows),
      '',
      p
        ? `engine vs plain: ${(p.wall_s / e.wall_s).toFixed(1)}x faster (ratio ${(e.wall_s / p.wall_s).toFixed(3)}), ${(p.bytes / e.bytes).toFixed(1)}x smaller, ${p.captured - e.captured} fewer screenshots`
        : 'engine vs plain: not measured (--plain-runs 0)',
      `targets (30 s moment): wall <= 4 s (issue 8; was 6 s): ${e.wall_s <= 4 ? 'met' : 'NOT met'}; <= 1 MB: ${e.bytes <= 1_000_000 ? 'met' : 'NOT met'}; SSIM >= 0.95: ${e.ssim_min === null ? 'n/a' : e.ssim_min >= 0.95 ? 'met' : 'NOT met'}`,
      ...momentLines(e),
      ...behindPlainLines(e, p),
    ];
    return { row: 'fixture', lines, figures: { window_s: windowS, recording: m.what, table: rows, engine_vs_plain_wall_ratio: p ? +(e.wall_s / p.wall_s).toFixed(3) : null } };
  },
};
