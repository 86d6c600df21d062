import { clipWindow, interleaved, measure, momentLines, summarise, table, timingLines, type Summary } from '../lib/measure.js';
import type { BenchRow, RowReport } from '../lib/row.js';
import { fixtureMoment } from './fixture.js';

/**
 * Motion (issue 7): a 30 s moment of the motion fixture's journey (fade-ins, a staggered list,
 * transitions opened by clicks, a carousel, a ticker and spinners running throughout) at 10 fps and
 * 800 px, interleaved in one run with the still fixture journey's 30 s moment, so that the ratio of
 * their wall times is measured on the same machine state. Targets: <= 1.5x the still moment, <= 1 MB.
 * One render with animations frozen (RenderContext.motion = 'frozen') shows what motion costs.
 */
export const MOTION_MOMENT = { startS: 5, endS: 35 };

export const motionRow: BenchRow = {
  name: 'motion',
  about: 'motion fixture, 30 s moment: wall time vs the still fixture moment (same run), bytes, SSIM',
  async run(ctx): Promise<RowReport> {
    const s = await ctx.sessions.get('motion');
    const still = await fixtureMoment(ctx);
    const { startS, endS } = clipWindow(MOTION_MOMENT.startS, MOTION_MOMENT.endS, s.lengthS);
    const m = { events: s.events, startS, endS, allowOrigins: [s.origin], shots: s.shots, viewport: s.viewport };
    ctx.log(`motion row: ${s.what}; window ${startS}-${endS} s; still: ${still.what} ${still.startS}-${still.endS} s`);
    const runs = await interleaved([
      { method: 'motion', times: ctx.runs, run: () => measure('engine, motion moment', m, {}, ctx.log) },
      { method: 'still', times: ctx.runs, run: () => measure('engine, still fixture moment', still, {}, ctx.log) },
    ]);
    const frozen = await measure('engine, motion moment, animations frozen', m, { motion: 'frozen' }, ctx.log);
    const rows: Summary[] = [
      summarise('engine, motion moment', runs.get('motion')!, endS - startS),
      summarise('engine, still fixture moment', runs.get('still')!, still.endS - still.startS),
      summarise('engine, motion moment, animations frozen (reference)', [frozen], endS - startS),
    ];
    const [mo, st] = rows as [Summary, Summary];
    const ratio = +(mo.wall_s / st.wall_s).toFixed(2);
    const lines = [
      `recording: ${s.what} (${s.lengthS.toFixed(1)} s); window ${startS}-${endS} s, 10 fps, 800 px; ${mo.moments.length} live screenshots in the window (no event in the second before each)`,
      '',
      ...table(rows),
      '',
      ...timingLines(rows),
      '',
      `motion / still wall: ${ratio} (target <= 1.5): ${ratio <= 1.5 ? 'met' : 'NOT met'}; motion GIF ${mo.bytes.toLocaleString('en')} bytes (target <= 1 MB): ${mo.bytes <= 1_000_000 ? 'met' : 'NOT met'}; SSIM min ${mo.ssim_min} (target >= 0.95): ${mo.ssim_min !== null && mo.ssim_min >= 0.95 ? 'met' : 'NOT met'}`,
      ...momentLines(mo),
    ];
    return { row: 'motion', lines, figures: { recording: s.what, window: [startS, endS], motion_vs_still_wall_ratio: ratio, table: rows } };
  },
};
