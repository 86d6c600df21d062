import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');
const lockDir = join(root, '.tmp', 'build.lock');
const stamp = join(root, 'dist', '.built');

async function newestMtime(path: string): Promise<number> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, entry)));
  return newest;
}

/**
 * `npm run build` unless dist/ is newer than every source it is built from. Test files run in
 * parallel, so a lock directory (mkdir is atomic) makes the second wait for the first build.
 */
export async function ensureBuilt(): Promise<void> {
  await mkdir(join(root, '.tmp'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch {
      const held = await stat(lockDir).catch(() => undefined);
      // A lock older than any build is left over from a killed run.
      if (held && Date.now() - held.mtimeMs > 300_000) await rm(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for another test file to build dist/');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const sources = Math.max(
      ...(await Promise.all(['src', 'migrations', 'player', 'package.json', 'tsconfig.build.json'].map((p) => newestMtime(join(root, p))))),
    );
    const built = (await stat(stamp).catch(() => undefined))?.mtimeMs ?? 0;
    if (built > sources) return;
    await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    await writeFile(stamp, new Date().toISOString());
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
