import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { cacheSuccesses } from '../util/cache.js';

export interface PlayerAssets {
  html: string;
  js: string;
}

/**
 * Which rrweb build the player bundles. @posthog/rrweb is the fork that records our users' sessions
 * and replays them more faithfully (BENCHMARKS.md); upstream rrweb is kept for that comparison.
 */
export type ReplayerBuild = 'posthog' | 'upstream';

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
 * keeps the page's rrweb version the one in package-lock, with no build artefact to go stale. A
 * build that failed is not kept: the next render tries again.
 */
export function playerAssets(replayer: ReplayerBuild = 'posthog'): Promise<PlayerAssets> {
  return cachedBuild(replayer);
}

const cachedBuild = cacheSuccesses(buildPlayer);

async function buildPlayer(replayer: ReplayerBuild): Promise<PlayerAssets> {
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
      alias: replayer === 'upstream' ? { '@posthog/rrweb': 'rrweb' } : {},
      logLevel: 'silent',
    }),
  ]);
  const js = out.outputFiles?.[0]?.text;
  if (!js) throw new Error('esbuild produced no player bundle');
  return { html, js };
}
