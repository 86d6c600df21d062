import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

export interface PlayerAssets {
  html: string;
  js: string;
}

let cached: Promise<PlayerAssets> | undefined;

/** The repo's player/ folder, found from this module whether it runs from src/ or from a dist/ bundle. */
function playerDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'player', 'player.ts'))) return join(dir, 'player');
    dir = dirname(dir);
  }
  throw new Error('player/ folder not found next to the package');
}

/**
 * The player page and its script, bundled once per process. Bundling at start-up (esbuild, ~0.2 s)
 * keeps the page's rrweb version the one in package-lock, with no build artefact to go stale.
 */
export function playerAssets(): Promise<PlayerAssets> {
  cached ??= (async () => {
    const dir = playerDir();
    const [html, out] = await Promise.all([
      readFile(join(dir, 'index.html'), 'utf8'),
      build({
        entryPoints: [join(dir, 'player.ts')],
        bundle: true,
        write: false,
        format: 'iife',
        target: 'chrome120',
        minify: true,
        loader: { '.css': 'text' },
        logLevel: 'silent',
      }),
    ]);
    return { html, js: out.outputFiles[0]!.text };
  })();
  return cached;
}
