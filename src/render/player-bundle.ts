import { build, version as esbuildVersion } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheSuccesses } from '../util/cache.js';
import { packageFolder } from '../util/package-folder.js';

export interface PlayerAssets {
  html: string;
  js: string;
}

/**
 * Which rrweb build the player bundles. @posthog/rrweb is the fork that records our users' sessions
 * and replays them more faithfully (BENCHMARKS.md); upstream rrweb is kept for that comparison.
 */
export type ReplayerBuild = 'posthog' | 'upstream';

function playerDir(): string {
  const dir = packageFolder('player', 'player.ts');
  if (!dir) throw new Error('player/ folder not found next to the package');
  return dir;
}

/**
 * The player page and its script, once per process: the bundle `npm run build` wrote
 * (dist/player-bundle.json) when it was made from the same sources, rrweb and esbuild, else bundled
 * now (esbuild, 0.2-0.4 s: most of a cold CLI render's start). Its key is a hash of what went in,
 * so a stale bundle is never used. A build that failed is not kept: the next render tries again.
 */
export function playerAssets(replayer: ReplayerBuild = 'posthog'): Promise<PlayerAssets> {
  return cachedBuild(replayer);
}

const cachedBuild = cacheSuccesses(async (replayer: ReplayerBuild) => (replayer === 'posthog' ? await prebuilt() : undefined) ?? buildPlayer(replayer));

interface PrebuiltBundle extends PlayerAssets {
  key: string;
}

function prebuiltPath(): string {
  return join(dirname(playerDir()), 'dist', 'player-bundle.json');
}

/** What the bundle is made of: the player's sources and the versions of rrweb and esbuild. */
async function sourceKey(): Promise<string> {
  const dir = playerDir();
  const require = createRequire(join(dir, 'player.ts'));
  // Its package.json is not exported: found from its entry point.
  let pkg = dirname(require.resolve('@posthog/rrweb'));
  while (!existsSync(join(pkg, 'package.json')) && dirname(pkg) !== pkg) pkg = dirname(pkg);
  const rrweb = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { version: string };
  const hash = createHash('sha256');
  for (const f of ['player.ts', 'index.html']) hash.update(await readFile(join(dir, f)));
  hash.update(`rrweb ${rrweb.version} esbuild ${esbuildVersion}`);
  return hash.digest('hex');
}

async function prebuilt(): Promise<PlayerAssets | undefined> {
  const file = prebuiltPath();
  if (!existsSync(file)) return undefined;
  const [bundle, key] = await Promise.all([readFile(file, 'utf8').then((t) => JSON.parse(t) as PrebuiltBundle), sourceKey()]);
  return bundle.key === key ? { html: bundle.html, js: bundle.js } : undefined;
}

/** `npm run build`: writes the player bundle next to the other build output. */
export async function writePlayerBundle(): Promise<string> {
  const [assets, key] = await Promise.all([buildPlayer('posthog'), sourceKey()]);
  const file = prebuiltPath();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ key, ...assets } satisfies PrebuiltBundle));
  return file;
}

/**
 * A script for a page of the render browser, bundled by esbuild into one minified IIFE (CSS imported
 * as text): the player here, and the tests' recorder and real-time replayer.
 */
export async function bundleForPage(input: { entry: string } | { contents: string; resolveDir: string }, alias: Record<string, string> = {}): Promise<string> {
  const out = await build({
    ...('entry' in input ? { entryPoints: [input.entry] } : { stdin: { contents: input.contents, resolveDir: input.resolveDir, loader: 'js' as const } }),
    bundle: true,
    write: false,
    format: 'iife',
    target: 'chrome120',
    minify: true,
    loader: { '.css': 'text' },
    alias,
    logLevel: 'silent',
  });
  const js = out.outputFiles?.[0]?.text;
  if (!js) throw new Error('esbuild produced no bundle');
  return js;
}

async function buildPlayer(replayer: ReplayerBuild): Promise<PlayerAssets> {
  const dir = playerDir();
  const [html, js] = await Promise.all([
    readFile(join(dir, 'index.html'), 'utf8'),
    bundleForPage({ entry: join(dir, 'player.ts') }, replayer === 'upstream' ? { '@posthog/rrweb': 'rrweb' } : {}),
  ]);
  return { html, js };
}
