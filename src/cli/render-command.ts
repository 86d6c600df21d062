import { writeFile, rename } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { z } from 'zod';
import { isInputError } from '../recording/errors.js';
import { readRecordingFile } from '../recording/parse.js';
import { normaliseOrigin, PolicyRefusal } from '../render/network-policy.js';
import { renderRecording } from '../render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../render/types.js';

const seconds = (flag: string) =>
  z.coerce
    .number({ error: `${flag} must be a number of seconds` })
    .refine(Number.isFinite, `${flag} must be a finite number of seconds`)
    .refine((v) => v >= 0, `${flag} must not be negative`);

/** The CLI's edge: every flag checked, with a message naming it. */
const renderFlags = z.object({
  out: z.string({ error: '--out <file.gif> is required' }).min(1, '--out <file.gif> is required'),
  start: seconds('--start').default(0),
  end: seconds('--end').optional(),
  fps: z.coerce.number({ error: '--fps must be a number' }).int('--fps must be a whole number').min(1, '--fps must be at least 1').max(50, '--fps must be at most 50').default(DEFAULT_RENDER_OPTIONS.fps),
  width: z.coerce.number({ error: '--width must be a number' }).int('--width must be a whole number of pixels').min(64, '--width must be at least 64').max(1920, '--width must be at most 1920').default(DEFAULT_RENDER_OPTIONS.width),
  speed: z.coerce.number({ error: '--speed must be a number' }).refine((v) => v > 0 && v <= 16, '--speed must be above 0 and at most 16').default(DEFAULT_RENDER_OPTIONS.speed),
  footer: z.boolean().default(false),
  allowOrigin: z.array(z.string()).default([]),
  json: z.boolean().default(false),
  maxDuration: z.coerce.number().positive('--max-duration must be positive').default(DEFAULT_RENDER_OPTIONS.maxDurationS),
});

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description('Render a moment of a local rrweb recording file to an animated GIF (no servers needed)')
    .argument('<recording>', 'rrweb events: JSON array, JSON Lines or PostHog snapshot lines, plain or gzip')
    .requiredOption('--out <file.gif>', 'where to write the GIF')
    .option('--start <s>', 'seconds from the recording\'s first event', '0')
    .option('--end <s>', 'seconds from the recording\'s first event (default: its end)')
    .option('--fps <n>', 'frames per second', String(DEFAULT_RENDER_OPTIONS.fps))
    .option('--width <px>', 'GIF width; the height keeps the recorded aspect', String(DEFAULT_RENDER_OPTIONS.width))
    .option('--speed <x>', 'playback speed', String(DEFAULT_RENDER_OPTIONS.speed))
    .option('--footer', 'add a strip with the page URL and the time into the session')
    .option('--allow-origin <origin>', 'let the replay load assets from this origin even if it is private (repeatable)', collect, [])
    .option('--max-duration <s>', 'longest window accepted, in seconds', String(DEFAULT_RENDER_OPTIONS.maxDurationS))
    .option('--json', 'print one JSON line with the result on stdout')
    .action(async (recording: string, raw: Record<string, unknown>) => {
      process.exitCode = await runRender(recording, raw);
    });
}

function collect(value: string, previous: string[]): string[] {
  return previous.concat([value]);
}

async function runRender(recording: string, raw: Record<string, unknown>): Promise<number> {
  const parsed = renderFlags.safeParse(raw);
  if (!parsed.success) {
    fail(parsed.error.issues[0]?.message ?? 'invalid options');
    return 2;
  }
  const flags = parsed.data;
  if (!flags.out.toLowerCase().endsWith('.gif')) {
    fail('--out must name a .gif file');
    return 2;
  }
  let allowOrigins: string[];
  try {
    allowOrigins = flags.allowOrigin.map(normaliseOrigin);
  } catch (err) {
    fail(`--allow-origin: ${(err as Error).message}`);
    return 2;
  }
  const bar = !flags.json && process.stderr.isTTY ? new SingleBar({ format: 'rendering [{bar}] {value}/{total} frames | {captured} captured | {eta}s' }, Presets.shades_classic) : undefined;
  try {
    const { events } = await readRecordingFile(recording);
    let barStarted = false;
    const result = await renderRecording(
      events,
      {
        startS: flags.start,
        endS: flags.end,
        fps: flags.fps,
        width: flags.width,
        speed: flags.speed,
        footer: flags.footer,
        allowOrigins,
        maxDurationS: flags.maxDuration,
      },
      {
        onProgress: bar
          ? (p) => {
              if (!barStarted) {
                bar.start(p.total, 0, { captured: 0 });
                barStarted = true;
              }
              bar.update(p.done, { captured: p.captured });
            }
          : undefined,
      },
    );
    bar?.stop();
    // Write beside the target and rename, so a reader never sees half a GIF.
    const tmp = join(dirname(flags.out), `.${basename(flags.out)}.${process.pid}.tmp`);
    await writeFile(tmp, result.gif);
    await rename(tmp, flags.out);
    const summary = {
      out: flags.out,
      bytes: result.gif.length,
      width: result.width,
      height: result.height,
      frames: result.frames,
      captured: result.captured,
      duration_s: result.durationS,
      start_s: result.startS,
      end_s: result.endS,
      wall_ms: result.wallMs,
      asset_failures: result.assetFailures,
      frame_source: result.frameSource,
    };
    if (flags.json) process.stdout.write(JSON.stringify(summary) + '\n');
    else {
      process.stderr.write(
        `wrote ${flags.out}: ${result.width}x${result.height}, ${result.frames} frames (${result.captured} captured), ` +
          `${result.durationS.toFixed(2)} s, ${(result.gif.length / 1024).toFixed(0)} KiB in ${(result.wallMs / 1000).toFixed(1)} s\n`,
      );
    }
    return 0;
  } catch (err) {
    bar?.stop();
    if (isInputError(err) || err instanceof PolicyRefusal) {
      fail(err.message);
      return 2;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      fail(`cannot write ${flags.out}: ${code}`);
      return 2;
    }
    fail(`render failed: ${(err as Error).message}`);
    return 1;
  }
}

function fail(message: string): void {
  process.stderr.write(`replay-rasterizer: ${message}\n`);
}

