import { writeFile, rename } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { z } from 'zod';
import { RasterizerError, toRasterizerError } from '../errors.js';
import { checkRecordingFile, readRecordingFile } from '../recording/parse.js';
import { DEFAULTS, field, flagName, fromText } from '../request/fields.js';
import { parseRequest } from '../request/parse.js';
import { clipHasLength } from '../request/render.js';
import { enforceBudget } from '../render/budget-guard.js';
import { launchOwnBrowser } from '../render/browser.js';
import { renderRecording } from '../render/render.js';
import type { RenderProgress, RenderResult } from '../render/types.js';
import { normaliseOrigin } from '../util/origin.js';
import { EXIT_CODE } from './exit-codes.js';

/** The CLI's edge: the request module's fields, fed from flag text, named by flag in every message. */
const renderFlags = z
  .object({
    out: z.string({ error: 'is required' }).refine((v) => v.toLowerCase().endsWith('.gif'), 'must name a .gif file'),
    startS: fromText(field.offset),
    endS: fromText(field.offset).optional(),
    fps: fromText(field.fps),
    width: fromText(field.width),
    playbackSpeed: fromText(field.playbackSpeed),
    footer: field.footer,
    maxBytes: fromText(field.maxBytes).optional(),
    maxDurationS: fromText(field.maxDurationS),
    allowOrigins: z.array(z.string()).transform((origins, ctx) =>
      origins.map((o) => {
        try {
          return normaliseOrigin(o);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return o;
        }
      }),
    ),
    json: z.boolean(),
  })
  .superRefine(clipHasLength);
type RenderFlags = z.output<typeof renderFlags>;

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description('Render a moment of a local rrweb recording file to an animated GIF (no servers needed)')
    .argument('<recording>', 'rrweb events: JSON array, JSON Lines or PostHog snapshot lines, plain or gzip')
    .requiredOption('--out <file.gif>', 'where to write the GIF')
    .option('--start <s>', "seconds from the recording's first event", '0')
    .option('--end <s>', "seconds from the recording's first event (default: its end)")
    .option('--fps <n>', 'frames per second', String(DEFAULTS.fps))
    .option('--width <px>', 'GIF width; the height keeps the recorded aspect', String(DEFAULTS.width))
    .option('--speed <x>', 'playback speed', String(DEFAULTS.playbackSpeed))
    .option('--footer', 'add a strip with the page URL and the time into the session', false)
    .option('--max-bytes <n>', 'byte budget of the GIF: degrade it until it fits, or fail (default: no budget)')
    .option('--allow-origin <origin>', 'let the replay load assets from this origin even if it is private (repeatable)', collect, [])
    .option('--max-duration <s>', 'longest window accepted, in seconds', String(DEFAULTS.maxDurationS))
    .option('--json', 'print one JSON line with the result on stdout', false)
    .action(async (recording: string, raw: Record<string, unknown>) => {
      process.exitCode = await runRender(recording, raw);
    });
}

function collect(value: string, previous: string[]): string[] {
  return previous.concat([value]);
}

async function runRender(recording: string, raw: Record<string, unknown>): Promise<number> {
  let flags: RenderFlags | undefined;
  let bar: SingleBar | undefined;
  try {
    flags = parseRequest(renderFlags, {
      ...raw,
      startS: raw.start,
      endS: raw.end,
      playbackSpeed: raw.speed,
      maxDurationS: raw.maxDuration,
      allowOrigins: raw.allowOrigin,
    });
    bar = !flags.json && process.stderr.isTTY ? new SingleBar({ format: 'rendering [{bar}] {value}/{total} frames | {captured} captured | {eta}s' }, Presets.shades_classic) : undefined;
    // A path that names no readable file (or one over the size limit) fails before Chromium starts.
    await checkRecordingFile(recording);
    // Chromium starts while the recording is read and checked (a 6 MB rustdoc session: 170-240 ms).
    const started = performance.now();
    const browser = launchOwnBrowser();
    browser.catch(() => {});
    const { events } = await readRecordingFile(recording).catch(async (err: unknown) => {
      await browser.then((b) => b.close(), () => {});
      throw err;
    });
    const result = await renderRecording(events, flags, { onProgress: bar && progressBar(bar), ownBrowser: browser });
    bar?.stop();
    const budgetSteps = enforceBudget(result, flags.maxBytes);
    await writeAtomically(flags.out, result.gif);
    // The wall time said is from Chromium's start, the reading included (the render's own starts later).
    report(flags, { ...result, wallMs: Math.round(performance.now() - started) }, budgetSteps);
    return 0;
  } catch (err) {
    bar?.stop();
    const failure = toRasterizerError(writeError(err, flags?.out));
    fail(failure.retryable ? `render failed: ${failure.describe(flagName)}` : failure.describe(flagName));
    return EXIT_CODE[failure.code];
  }
}

function progressBar(bar: SingleBar): (p: RenderProgress) => void {
  let started = false;
  return (p) => {
    if (!started) {
      bar.start(p.total, 0, { captured: 0 });
      started = true;
    }
    bar.update(p.done, { captured: p.captured });
  };
}

/** Write beside the target and rename, so a reader never sees half a GIF. */
async function writeAtomically(out: string, gif: Buffer): Promise<void> {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  await writeFile(tmp, gif);
  await rename(tmp, out);
}

/** A GIF that cannot be written where --out says is the user's to fix. */
function writeError(err: unknown, out: string | undefined): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (out && (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR')) return new RasterizerError('invalid_request', `cannot write ${out}: ${code}`);
  return err;
}

function report(flags: RenderFlags, result: RenderResult, budgetSteps: string[] | null): void {
  if (flags.json) {
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
      assets_prefetched: result.assetsPrefetched.urls,
      assets_prefetched_used: result.assetsPrefetched.used,
      stylesheets_lost: result.stylesheets.lost,
      stylesheets_restored: result.stylesheets.restored,
      stylesheets_repaired: result.stylesheets.repaired,
      frame_source: result.frameSource,
      picture_source: result.pictureSource,
      restarts: result.restarts,
      encode_threads: result.encodeThreads,
      max_bytes: flags.maxBytes ?? null,
      budget_steps: budgetSteps,
    };
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  process.stderr.write(
    `wrote ${flags.out}: ${result.width}x${result.height}, ${result.frames} frames (${result.captured} captured), ` +
      `${result.durationS.toFixed(2)} s, ${(result.gif.length / 1024).toFixed(0)} KiB in ${(result.wallMs / 1000).toFixed(1)} s` +
      `${budgetSteps?.length ? ` (to fit ${flags.maxBytes} bytes: ${budgetSteps.join(', ')})` : ''}\n`,
  );
}

function fail(message: string): void {
  process.stderr.write(`replay-rasterizer: ${message}\n`);
}
