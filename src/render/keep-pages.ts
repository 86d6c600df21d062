import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { packageFolder } from '../util/package-folder.js';

/**
 * native/keep-pages.c, preloaded into Chromium: the display compositor's frame-sized buffers stay
 * mapped between pictures instead of being faulted in afresh (about 1,500 page faults a picture).
 * Where a fault is slow (10 us on stop 33's PVM guest) that is 15 ms of a 51 ms picture; the same
 * GIFs either way (BENCHMARKS.md, stop 33).
 *
 * CHROMIUM_KEEP_PAGES=off leaves it out. Otherwise it is used on Linux when its shared object is
 * there or can be made: `npm run build` makes it (the Docker image's build stage too), and a render
 * from a checkout compiles it on first use with CC (default `cc`), 0.3-0.6 s once. Without a C
 * compiler Chromium runs as it is, slower on such hosts, and says so (keepPagesStatus).
 */
export type KeepPages = { state: 'on'; path: string } | { state: 'off'; why: string };

const execFileAsync = promisify(execFile);

function nativeDir(): string | undefined {
  return packageFolder('native', 'keep-pages.c');
}

/** Where the shared object for this source is kept: dist/native when writable, else the temp folder. */
function candidates(root: string, key: string): string[] {
  const name = `keep-pages-${key}.so`;
  return [join(root, 'dist', 'native', name), join(tmpdir(), 'replay-rasterizer-native', name)];
}

/** The source's hash, in the shared object's name: a changed source is never served by an old build. */
async function sourceKey(source: string): Promise<string> {
  return createHash('sha256').update(await readFile(source)).digest('hex').slice(0, 16);
}

async function compile(source: string, out: string): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  // Written aside and renamed: two processes compiling at once never load a half-written file.
  const partial = `${out}.${process.pid}.partial`;
  try {
    await execFileAsync(process.env.CC || 'cc', ['-O2', '-Wall', '-shared', '-fPIC', '-o', partial, source], { timeout: 60_000 });
    await rename(partial, out);
  } finally {
    await rm(partial, { force: true });
  }
}

async function locate(): Promise<KeepPages> {
  const setting = (process.env.CHROMIUM_KEEP_PAGES ?? '').trim().toLowerCase();
  if (['off', '0', 'false', 'no'].includes(setting)) return { state: 'off', why: 'CHROMIUM_KEEP_PAGES is off' };
  if (setting && !['on', '1', 'true', 'yes', 'auto'].includes(setting)) {
    return { state: 'off', why: `CHROMIUM_KEEP_PAGES must be on or off, not "${process.env.CHROMIUM_KEEP_PAGES}"` };
  }
  if (process.platform !== 'linux') return { state: 'off', why: `not on Linux (${process.platform})` };
  const dir = nativeDir();
  if (!dir) return { state: 'off', why: 'native/keep-pages.c is not in this package' };
  const source = join(dir, 'keep-pages.c');
  const places = candidates(dirname(dir), await sourceKey(source));
  const found = places.find((p) => existsSync(p));
  if (found) return { state: 'on', path: found };
  let why = '';
  for (const out of places) {
    try {
      await compile(source, out);
      return { state: 'on', path: out };
    } catch (err) {
      why ||= String((err as Error).message ?? err).split('\n')[0]!;
    }
  }
  return { state: 'off', why: `could not compile native/keep-pages.c (install a C compiler, or run npm run build): ${why}` };
}

let located: Promise<KeepPages> | undefined;

/** Whether Chromium gets keep-pages in this process, and its shared object or why not (decided once). */
export function keepPagesStatus(): Promise<KeepPages> {
  return (located ??= locate());
}

/** `npm run build`: the shared object for this source in dist/native (throws when it cannot be made). */
export async function buildKeepPages(): Promise<string> {
  const dir = nativeDir();
  if (!dir) throw new Error('native/keep-pages.c not found');
  const source = join(dir, 'keep-pages.c');
  const out = candidates(dirname(dir), await sourceKey(source))[0]!;
  if (!existsSync(out)) await compile(source, out);
  return out;
}

/** The environment Chromium starts with: ours, with keep-pages preloaded when it is on. */
export async function browserEnv(): Promise<Record<string, string> | undefined> {
  const status = await keepPagesStatus();
  if (status.state === 'off') return undefined;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.LD_PRELOAD = [status.path, process.env.LD_PRELOAD].filter(Boolean).join(':');
  return env;
}
