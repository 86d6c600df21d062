import { build, version as esbuildVersion } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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

export interface PrebuiltBundle extends PlayerAssets {
  key: string;
  /** The package's own files the script was bundled from (relative to the package), whose contents the key covers. */
  inputs: string[];
}

function packageDir(): string {
  return dirname(playerDir());
}

function prebuiltPath(): string {
  return join(packageDir(), 'dist', 'player-bundle.json');
}

/**
 * What the bundle is made of: the page, the package's own sources it bundled (the player's modules
 * and what they import from src/), and the versions of rrweb and esbuild. Undefined when one of the
 * sources is not there (renamed or removed since the bundle was made).
 */
export async function sourceKey(inputs: readonly string[], root = packageDir()): Promise<string | undefined> {
  const dir = playerDir();
  const require = createRequire(join(dir, 'player.ts'));
  // Its package.json is not exported: found from its entry point.
  let pkg = dirname(require.resolve('@posthog/rrweb'));
  while (!existsSync(join(pkg, 'package.json')) && dirname(pkg) !== pkg) pkg = dirname(pkg);
  const rrweb = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { version: string };
  const hash = createHash('sha256');
  for (const f of ['player/index.html', ...[...inputs].sort()]) {
    const path = join(root, f);
    if (!existsSync(path)) return undefined;
    hash.update(`${f}\0`).update(await readFile(path));
  }
  hash.update(`rrweb ${rrweb.version} esbuild ${esbuildVersion}`);
  return hash.digest('hex');
}

async function prebuilt(): Promise<PlayerAssets | undefined> {
  const file = prebuiltPath();
  if (!existsSync(file)) return undefined;
  let bundle: Partial<PrebuiltBundle>;
  try {
    bundle = JSON.parse(await readFile(file, 'utf8')) as Partial<PrebuiltBundle>;
  } catch {
    return undefined;
  }
  if (typeof bundle.html !== 'string' || typeof bundle.js !== 'string' || !Array.isArray(bundle.inputs)) return undefined;
  const assets = { html: bundle.html, js: bundle.js };
  // A packaged install (the Docker image, npm pack) ships player/ but not src/: it cannot bundle
  // again, and its bundle was made from the sources it was packed with.
  if (!existsSync(join(packageDir(), 'src'))) return assets;
  // In a checkout a source renamed or removed makes the key unknown: bundled again.
  return bundle.key === (await sourceKey(bundle.inputs)) ? assets : undefined;
}

/** `npm run build`: writes the player bundle next to the other build output. */
export async function writePlayerBundle(): Promise<PrebuiltBundle & { file: string }> {
  const { inputs, ...assets } = await buildPlayer('posthog');
  const key = await sourceKey(inputs);
  if (!key) throw new Error('a source of the player bundle vanished while it was built');
  const file = prebuiltPath();
  await mkdir(dirname(file), { recursive: true });
  const written: PrebuiltBundle = { key, inputs, ...assets };
  // Renamed into place: a render starting meanwhile reads the old bundle or the new one, never half of one.
  const part = `${file}.${process.pid}.part`;
  await writeFile(part, JSON.stringify(written));
  await rename(part, file);
  return { file, ...written };
}

/**
 * A script for a page of the render browser, bundled by esbuild into one minified IIFE (CSS imported
 * as text): the player here, and the tests' recorder and real-time replayer.
 */
export async function bundleForPage(input: { entry: string } | { contents: string; resolveDir: string }, alias: Record<string, string> = {}): Promise<string> {
  return (await bundle(input, alias)).js;
}

/** The bundle, and the files that went into it (absolute paths). */
async function bundle(input: { entry: string } | { contents: string; resolveDir: string }, alias: Record<string, string>): Promise<{ js: string; inputs: string[] }> {
  const out = await build({
    ...('entry' in input ? { entryPoints: [input.entry] } : { stdin: { contents: input.contents, resolveDir: input.resolveDir, loader: 'js' as const } }),
    bundle: true,
    write: false,
    format: 'iife',
    target: 'chrome120',
    minify: true,
    loader: { '.css': 'text' },
    alias,
    metafile: true,
    absWorkingDir: packageDir(),
    logLevel: 'silent',
  });
  const js = out.outputFiles?.[0]?.text;
  if (!js) throw new Error('esbuild produced no bundle');
  return { js, inputs: Object.keys(out.metafile?.inputs ?? {}) };
}

async function buildPlayer(replayer: ReplayerBuild): Promise<PlayerAssets & { inputs: string[] }> {
  const dir = playerDir();
  const [html, { js, inputs }] = await Promise.all([
    readFile(join(dir, 'index.html'), 'utf8'),
    bundle({ entry: join(dir, 'player.ts') }, replayer === 'upstream' ? { '@posthog/rrweb': 'rrweb' } : {}),
  ]);
  // Paths relative to absWorkingDir; rrweb's (under node_modules) are covered by its version.
  return { html, js, inputs: inputs.filter((f) => !f.split(/[\\/]/).includes('node_modules')) };
}
