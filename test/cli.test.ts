import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGif } from './support/gif-frames.js';
import { ensureBuilt } from './service/build.js';

const root = new URL('..', import.meta.url).pathname;
const example = join(root, 'examples', 'journey.json.gz');
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as other tools do: `replay-rasterizer render ...` through the package's bin. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin', 'replay-rasterizer.js'), ...args], { cwd: dir, timeout: 120_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'rr-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('replay-rasterizer render', () => {
  it('renders a window of a recording and prints one JSON line', async () => {
    const out = join(dir, 'moment.gif');
    const r = await cli(['render', example, '--out', out, '--start', '40', '--end', '46.5', '--fps', '10', '--width', '640', '--footer', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!) as Record<string, number | string>;
    for (const key of ['out', 'bytes', 'width', 'height', 'frames', 'captured', 'duration_s', 'wall_ms']) expect(summary).toHaveProperty(key);
    expect([summary.frame_source, summary.picture_source]).toEqual(['begin-frame', 'screencast']);
    // A one-render process encodes on one thread (src/render/gif/part.ts).
    expect(summary.encode_threads).toBe(1);
    const gif = await readFile(out);
    expect(summary.bytes).toBe(gif.length);
    const decoded = decodeGif(gif);
    expect(decoded.width).toBe(640);
    expect(summary.width).toBe(640);
    // 1280x800 recorded, scaled to 640 wide, plus the footer strip.
    expect(decoded.height).toBe(summary.height);
    expect(decoded.height).toBeGreaterThan(400);
    expect(decoded.durationMs).toBe(6500);
    expect(summary.duration_s).toBe(6.5);
    expect(summary.frames).toBe(decoded.frames.length);
    // Pictures the browser took: not one for each of the 65 slots. Frames written can outnumber
    // them (Node draws the pointer and ripples on the last picture) or not (a picture like the last
    // one is not written again).
    expect(Number(summary.captured)).toBeGreaterThan(0);
    expect(Number(summary.captured)).toBeLessThan(65);
    expect(Number(summary.frames)).toBeLessThanOrEqual(65);
    // No --max-bytes: the CLI has no budget.
    expect(summary).toMatchObject({ max_bytes: null, budget_steps: null });
  });

  it('--max-bytes: a GIF within the budget says which steps made it fit; one that cannot fit fails with exit 2, never silently over', async () => {
    const roomy = await cli(['render', example, '--out', join(dir, 'roomy.gif'), '--start', '40', '--end', '43', '--width', '320', '--max-bytes', '50000000', '--json']);
    expect(roomy.code, roomy.stderr).toBe(0);
    const summary = JSON.parse(roomy.stdout) as { bytes: number; max_bytes: number; budget_steps: string[] };
    expect(summary.max_bytes).toBe(50_000_000);
    expect(summary.budget_steps).toEqual(expect.any(Array));
    expect(summary.bytes).toBeLessThanOrEqual(50_000_000);

    // 4 KiB cannot hold 10 s of this page at 640 px: degraded until it fits, or refused.
    const out = join(dir, 'tight.gif');
    const tight = await cli(['render', example, '--out', out, '--start', '40', '--end', '50', '--width', '640', '--max-bytes', '4096', '--json']);
    if (tight.code === 0) {
      const fitted = JSON.parse(tight.stdout) as { bytes: number; budget_steps: string[] };
      expect(fitted.bytes).toBeLessThanOrEqual(4096);
      expect(fitted.budget_steps.length).toBeGreaterThan(0);
      expect((await readFile(out)).length).toBe(fitted.bytes);
    } else {
      expect(tight.code).toBe(2);
      expect(tight.stdout).toBe('');
      expect(tight.stderr).toMatch(/^replay-rasterizer: .*4096/);
      expect(tight.stderr.trimEnd().split('\n')).toHaveLength(1);
      await expect(readFile(out)).rejects.toThrow(/ENOENT/);
    }
  });

  it('reads plain JSON Lines as well as gzip', async () => {
    const plain = join(dir, 'journey.jsonl');
    await writeFile(plain, gunzipSync(await readFile(example)));
    const r = await cli(['render', plain, '--out', join(dir, 'plain.gif'), '--start', '60', '--end', '62', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).duration_s).toBe(2);
  });

  it('renders a window shorter than one GIF tick as one frame (it crashed with exit 1)', async () => {
    const r = await cli(['render', example, '--out', join(dir, 'instant.gif'), '--start', '60', '--end', '60.004', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { frames: number; duration_s: number };
    expect(summary.frames).toBe(1);
    expect(summary.duration_s).toBe(0.02);
  });

  it('reads a PostHog API answer saved to a file (it was refused as "line 1 does not parse as JSON")', async () => {
    const events = gunzipSync(await readFile(example)).toString().trim().split('\n').map((l) => JSON.parse(l) as unknown);
    const saved = join(dir, 'posthog-answer.json');
    await writeFile(saved, JSON.stringify({ result: { snapshot_data_by_window_id: { '0192-window': events }, next: null } }, null, 2));
    const r = await cli(['render', saved, '--out', join(dir, 'answer.gif'), '--start', '60', '--end', '62', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).duration_s).toBe(2);
  });

  it('starts no Chromium for a path that names no recording file, and does for one it must parse', async () => {
    // A stand-in for Chromium that leaves a mark when started (and then fails to start).
    const marker = join(dir, 'chromium-started');
    const fake = join(dir, 'fake-chromium.sh');
    await writeFile(fake, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`, { mode: 0o755 });
    const env = { CHROMIUM_PATH: fake };
    for (const missing of [join(dir, 'nope.json'), dir]) {
      const r = await cli(['render', missing, '--out', 'x.gif'], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cannot read recording .*nope\.json: ENOENT|is not a file/);
      await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
    }
    // A file that is there is read while Chromium starts: the stand-in was started.
    const notes = join(dir, 'notes-for-chromium.txt');
    await writeFile(notes, 'these are my notes\n');
    const r = await cli(['render', notes, '--out', 'x.gif'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not JSON, JSON Lines or PostHog snapshot lines/);
    await readFile(marker);
  });

  describe('bad input: exit 2 and one clear line, no stack trace', () => {
    const cases: [string, () => Promise<string[]>, RegExp][] = [
      ['a missing file', async () => ['render', join(dir, 'nope.json'), '--out', 'x.gif'], /cannot read recording .*nope\.json: ENOENT/],
      ['a file that is not rrweb', async () => {
        const f = join(dir, 'notes.txt');
        await writeFile(f, 'these are my notes\n');
        return ['render', f, '--out', 'x.gif'];
      }, /not JSON, JSON Lines or PostHog snapshot lines/],
      ['no full snapshot before the window', async () => {
        const f = join(dir, 'nosnap.jsonl');
        const lines = gunzipSync(await readFile(example)).toString().trim().split('\n').filter((l) => !l.startsWith('{"type":2'));
        await writeFile(f, lines.join('\n'));
        return ['render', f, '--out', 'x.gif', '--start', '5'];
      }, /no full snapshot \(no page was recorded\)/],
      ['an end before the start', async () => ['render', example, '--out', 'x.gif', '--start', '20', '--end', '10'], /--end \(10 s\) must be after --start \(20 s\)/],
      ['a negative start', async () => ['render', example, '--out', 'x.gif', '--start', '-3'], /--start must not be negative/],
      ['a NaN end', async () => ['render', example, '--out', 'x.gif', '--end', 'abc'], /--end must be a number of seconds/],
      ['a window over the maximum', async () => ['render', example, '--out', 'x.gif', '--start', '0', '--end', '40', '--max-duration', '30'], /over the maximum of 30 s/],
      ['a start past the end', async () => ['render', example, '--out', 'x.gif', '--start', '5000'], /past the end of the recording/],
      ['an output that is not a GIF', async () => ['render', example, '--out', 'x.png'], /--out must name a \.gif file/],
      ['a bad fps', async () => ['render', example, '--out', 'x.gif', '--fps', '0'], /--fps must be at least 1/],
      ['a budget too small to mean anything', async () => ['render', example, '--out', 'x.gif', '--max-bytes', '100'], /--max-bytes must be at least 4096/],
      ['a budget that is not a number', async () => ['render', example, '--out', 'x.gif', '--max-bytes', '1MB'], /--max-bytes must be a number of bytes/],
      ['a PostHog list of blob sources', async () => {
        const f = join(dir, 'sources.json');
        await writeFile(f, JSON.stringify({ sources: [{ source: 'blob', blob_key: '1-2' }] }));
        return ['render', f, '--out', 'x.gif'];
      }, /PostHog list of snapshot sources/],
      ['a bad allowed origin', async () => ['render', example, '--out', 'x.gif', '--allow-origin', 'file:///etc'], /--allow-origin: allowed origins must be http\(s\)/],
    ];
    it.each(cases)('%s', async (_name, args, message) => {
      const r = await cli(await args());
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^replay-rasterizer: /);
      expect(lines[0]).toMatch(message);
    });
  });
});
