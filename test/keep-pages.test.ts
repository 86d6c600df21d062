import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { buildKeepPages, keepPagesStatus } from '../src/render/keep-pages.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { fidelityJourney } from './support/journeys.js';
import { recordJourney } from './support/recorder.js';
import { mainBrowserProcesses } from './support/service-procs.js';
import { startSite, type SiteServer } from './support/site-server.js';

/**
 * native/keep-pages.c (src/render/keep-pages.ts): decommitted memory stays mapped and reads as zero
 * when taken again; Chromium's compositor stops faulting its frame buffers in afresh; the GIF is the
 * same with and without it.
 */
const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keep-pages-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Checked {
  forked: boolean;
  zeroed: boolean;
  refaults: number;
  pages: number;
  parts: boolean;
  advised: boolean;
  fileIntact: boolean;
}

describe('keep-pages in a process that uses memory as PartitionAlloc does', () => {
  it('keeps decommitted pages, zeroes them when taken again, and never writes a file mapped in their place', async () => {
    const checker = join(dir, 'check');
    await run(process.env.CC || 'cc', ['-O1', '-o', checker, fileURLToPath(new URL('./support/keep-pages-check.c', import.meta.url))]);
    const check = async (env: NodeJS.ProcessEnv) => JSON.parse((await run(checker, [join(dir, 'mapped.bin')], { env })).stdout) as Checked;
    const plain = await check({ PATH: process.env.PATH });
    const kept = await check({ PATH: process.env.PATH, LD_PRELOAD: await buildKeepPages() });
    // Without it, every page of a buffer taken again faults (the kernel's fresh zero pages).
    expect(plain).toMatchObject({ zeroed: true, forked: true, parts: true, advised: true, fileIntact: true });
    expect(plain.refaults).toBeGreaterThanOrEqual(plain.pages);
    // With it, the same reads see zeros with (almost) no faults, and the file is untouched.
    expect(kept).toMatchObject({ zeroed: true, forked: true, parts: true, advised: true, fileIntact: true });
    expect(kept.refaults).toBeLessThan(plain.pages / 20);
  });
});

describe('keep-pages in the render browser', () => {
  let site: SiteServer;
  let withIt: Browser;
  let without: Browser;
  let events: RrwebEvent[];

  beforeAll(async () => {
    site = await startSite();
    const rec = await recordJourney(site.origin, fidelityJourney);
    events = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
    withIt = await launchBrowser();
    // The caller's environment replaces ours: no preload.
    without = await launchBrowser({ env: { ...process.env, LD_PRELOAD: '' } });
  });

  afterAll(async () => {
    await withIt?.close();
    await without?.close();
    await site?.close();
  });

  it('is on here, and draws the same GIF with far fewer page faults in the display compositor', async () => {
    const status = await keepPagesStatus();
    expect(status).toMatchObject({ state: 'on' });
    const browsers = await browserProcesses();
    expect(browsers.filter((b) => b.keepPages)).toHaveLength(1);
    expect(browsers.filter((b) => !b.keepPages)).toHaveLength(1);
    const render = async (browser: Browser, keepPages: boolean) => {
      const pid = browsers.find((b) => b.keepPages === keepPages)!.pid;
      const before = await compositorFaults(pid);
      const r = await renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [site.origin] }, { browser });
      return { gif: r.gif, pictures: r.captured, faults: (await compositorFaults(pid)) - before };
    };
    const a = await render(without, false);
    const b = await render(withIt, true);
    expect(b.gif.equals(a.gif)).toBe(true);
    // About 1,500 faults a 1280x800 picture without it (BENCHMARKS.md, stop 33), a few dozen with it.
    expect(a.faults).toBeGreaterThan(a.pictures * 500);
    expect(b.faults).toBeLessThan(a.faults / 4);
  });
});

/** The browsers this process started, and whether each has keep-pages mapped. */
async function browserProcesses(): Promise<{ pid: number; keepPages: boolean }[]> {
  return Promise.all(
    mainBrowserProcesses(process.pid).map(async ({ pid }) => ({
      pid,
      keepPages: (await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '')).includes('keep-pages-'),
    })),
  );
}

/** Minor page faults of the browser's display compositor thread (in the browser process: --in-process-gpu). */
async function compositorFaults(pid: number): Promise<number> {
  let sum = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    if (!stat.includes('(VizCompositorTh')) continue;
    sum += Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  }
  return sum;
}
