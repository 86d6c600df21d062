import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, normalize, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import express, { type Express } from 'express';
import sharp from 'sharp';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The fixture sites under test/fixtures that the server can serve as its root. */
export const FIXTURE_ROOTS = {
  /** The fixture shop: three pages, a stylesheet, two web fonts, generated JPEGs. */
  shop: join(here, '..', 'fixtures', 'site'),
  /** Pages that move by CSS alone: fade-ins, a staggered list, transitions, keyframes, infinite loops. */
  motion: join(here, '..', 'fixtures', 'motion'),
} as const;

/** Fonts come from @fontsource packages, served from our origin without CORS headers, as many sites do. */
const FONTS: Record<string, string> = {
  '/fonts/lobster.woff2': '@fontsource/lobster/files/lobster-latin-400-normal.woff2',
  '/fonts/merriweather.woff2': '@fontsource/merriweather/files/merriweather-latin-400-normal.woff2',
  '/fonts/merriweather-700.woff2': '@fontsource/merriweather/files/merriweather-latin-700-normal.woff2',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

const HUES = [12, 48, 95, 140, 190, 225, 262, 300, 335];

/** A photo-like JPEG (gradients, shapes and grain) so images cost what real ones do to encode. */
async function picture(seed: number, width: number, height: number): Promise<Buffer> {
  const h = HUES[seed % HUES.length]!;
  const shapes = Array.from({ length: 7 }, (_, i) => {
    const cx = ((seed * 37 + i * 53) % 100) / 100;
    const cy = ((seed * 17 + i * 29) % 100) / 100;
    const r = 0.08 + ((seed + i * 11) % 9) / 50;
    return `<circle cx="${cx * width}" cy="${cy * height}" r="${r * width}" fill="hsl(${(h + i * 40) % 360},70%,${40 + i * 6}%)" fill-opacity="0.7"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${h},60%,75%)"/><stop offset="1" stop-color="hsl(${(h + 60) % 360},55%,35%)"/></linearGradient>
    <filter id="n"><feTurbulence type="fractalNoise" baseFrequency="0.9" seed="${seed}"/><feColorMatrix values="0 0 0 0 0.5  0 0 0 0 0.5  0 0 0 0 0.5  0 0 0 0.18 0"/></filter></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>${shapes}<rect width="100%" height="100%" filter="url(#n)"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 82 }).toBuffer();
}

export interface SiteServer {
  origin: string;
  port: number;
  /** Every path requested, in order (a canary for tests that must see no requests). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves an express app (a web application's own server) on 127.0.0.1 as a SiteServer, with every
 * path it is asked for noted; `closing` runs once the server is closed (the app's own state).
 */
export async function serveApp(app: Express, port: number, closing: () => Promise<void> = async () => {}): Promise<SiteServer> {
  const requests: string[] = [];
  const noted = express();
  noted.use((req, _res, next) => {
    requests.push(req.path);
    next();
  });
  noted.use(app);
  const server = noted.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await closing();
    },
  };
}

/** Generated once per process: drawing them (SVG noise) takes seconds on a loaded machine. */
const images = new Map<string, Promise<Buffer>>();

function shopImage(path: string): Promise<Buffer> {
  let p = images.get(path);
  if (!p) {
    const m = /^\/img\/(hero|product-(\d+))\.jpg$/.exec(path)!;
    p = m[1] === 'hero' ? picture(101, 900, 600) : picture(Number(m[2]), 600, 400);
    images.set(path, p);
  }
  return p;
}

/** The shop's pictures (hero and nine products). */
const SHOP_IMAGES = ['/img/hero.jpg', ...Array.from({ length: 9 }, (_, i) => `/img/product-${i}.jpg`)];

export interface SiteOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The directory served at `/`: one of FIXTURE_ROOTS, or any directory (the Rust docs, a generated site). */
  root?: string;
  /** Pages made in memory (path -> body), served before the root's files: generated sites. */
  generated?: ReadonlyMap<string, { body: Buffer; type: string }>;
  /** Every answer waits this long first: a site across the internet instead of on this machine. */
  latencyMs?: number;
  /** The Cache-Control of every answer; default `no-cache` (a cache must ask again before reuse). */
  cacheControl?: string;
}

/** How a site answers, beside what: its distance and its caching headers. */
export type ServedAs = Pick<SiteOptions, 'latencyMs' | 'cacheControl'>;

/**
 * A static site on 127.0.0.1, sent without any CORS header (as most sites are): by default the
 * fixture shop (three pages, an external stylesheet, two web fonts and JPEG images). Every root also
 * gets the shop's generated `/img/*.jpg` pictures and `/fonts/*.woff2` web fonts. A directory path
 * serves its index.html.
 */
export async function startSite(portOrOptions: number | SiteOptions = 0): Promise<SiteServer> {
  const opts: SiteOptions = typeof portOrOptions === 'number' ? { port: portOrOptions } : portOrOptions;
  const port = opts.port ?? 0;
  const siteDir = resolve(opts.root ?? FIXTURE_ROOTS.shop);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    void (async () => {
      try {
        if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
        let body: Buffer;
        let type: string;
        const img = /^\/img\/(hero|product-(\d+))\.jpg$/.exec(path);
        const made = opts.generated?.get(path === '/' ? '/index.html' : path);
        if (made) {
          body = made.body;
          type = made.type;
        } else if (img) {
          body = await shopImage(path);
          type = TYPES['.jpg']!;
        } else if (FONTS[path]) {
          body = await readFile(require.resolve(FONTS[path]));
          type = TYPES['.woff2']!;
        } else {
          let file = normalize(join(siteDir, decodeURIComponent(path)));
          if (file !== siteDir && !file.startsWith(siteDir + sep)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
          if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
          body = await readFile(file);
          type = TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
        }
        res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': opts.cacheControl ?? 'no-cache' });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  // The shop's first page load waits for its pictures; made on demand they took 2.2-2.7 s under a
  // load average of 15, past the 2 s a render allows between a recording's start and its first full
  // snapshot. Made before the server answers, the page loads as fast as a real shop's.
  if (siteDir === resolve(FIXTURE_ROOTS.shop)) await Promise.all(SHOP_IMAGES.map(shopImage));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
