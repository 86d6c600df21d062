import { lookup } from 'node:dns/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS, type RenderResult } from '../src/render/types.js';
import { COLOURS, quiet, solidPng, startCanary, type CanaryServer } from './support/canary-server.js';
import { decodeGif } from './support/gif-frames.js';
import {
  injectCssomVectors,
  injectVectorsAsMutation,
  injectVectorsIntoSnapshot,
  launchRecorderBrowser,
  recordPage,
} from './support/hostile-recordings.js';
import { addressSpellings, legitimateVectors, ssrfVectors, vectorPage, type Vector } from './support/hostile-vectors.js';
import { launchLoggedBrowser, readNetLog, watchNodeRequests, type NetLogSummary } from './support/net-oracles.js';
import type { RawEvent } from './support/rrweb-inject.js';

/**
 * A recording is untrusted: its DOM and CSS can name any URL. Every way of naming one (HTML, SVG,
 * CSS, CSSOM events, redirects, spellings of loopback, DNS names that resolve to it) is put into
 * real recordings three ways: recorded by rrweb's recorder on a page we serve, injected into the
 * full snapshot, and added by a mutation event. The canary (loopback, not allow-listed) must hear
 * nothing, while the allow-listed origin's own assets still load. Each vector is first shown to be
 * live: with the canary allow-listed, it does reach it.
 */

/** Vectors that make a request in today's Chromium when nothing stops them (checked by the control). */
const LIVE_INJECTED = [
  'img-src', 'img-srcset', 'picture-source', 'input-image', 'css-inline-bg', 'css-sheet-bg', 'css-image-set',
  'css-border-image', 'css-mask-image', 'css-webkit-mask', 'css-list-style', 'css-content', 'css-cursor', 'css-import', 'css-font-face',
  'link-stylesheet', 'link-preload-image', 'link-preload-font', 'link-preload-style', 'link-preload-fetch', 'link-prefetch',
  'video-src', 'video-poster', 'video-source', 'audio-src', 'object-data', 'object-data-image', 'embed-src', 'iframe-src',
  'table-background', 'svg-image-href', 'svg-image-xlink', 'svg-feimage', 'svg-style-import', 'svg-style-fill',
  'redirect-img', 'redirect-css', 'redirect-iframe', 'redirect-font', 'base-href',
  'nested-css-import', 'nested-css-bg', 'framed-page-img',
];
/**
 * rrweb's recorder keeps an iframe's src as rr_src (not loaded on replay), so frame vectors are dead
 * in a recorded page; <base> is only injected.
 */
const LIVE_RECORDED = LIVE_INJECTED.filter((id) => !['iframe-src', 'redirect-iframe', 'framed-page-img', 'base-href'].includes(id));
/**
 * Vectors that make no request in a replay even when allowed: they need a click or a submit, are
 * ignored in subframes (icon, manifest), are refused by the sandbox (meta refresh), or Chromium
 * does not implement them (external SVG filters, cross-origin <use>). Kept in, in case that changes.
 */
const INERT = ['css-svg-filter', 'link-prerender', 'link-icon', 'link-manifest', 'link-preconnect', 'link-dns-prefetch', 'video-track', 'svg-use', 'form-action', 'a-ping', 'meta-refresh'];

const OPTIONS = { ...DEFAULT_RENDER_OPTIONS, startS: 0, width: 400 };

let allowed: CanaryServer;
let canary: CanaryServer;
let browser: Browser;
let netLogDir: string;
let netLogPath: string;
let recordings: Record<'recorded' | 'snapshot' | 'mutation' | 'cssom' | 'addresses', RrwebEvent[]>;
let spellings: ReturnType<typeof addressSpellings>;
let cssomIds: string[];
let vectors: Vector[];
/** The plain page's real recording, before anything is injected. */
let base: RawEvent[];
const u = (id: string) => `${canary.origin}/c/${id}/x`;

/** Case id from a canary path `/c/<id>/...`. */
const caseOf = (path: string) => path.split('/')[2] ?? path;
const hitCases = () => [...new Set(canary.requests.map((r) => caseOf(r.path)))].sort();

/** Host names (besides localhost) that resolve to loopback here, so the canary would hear them. */
async function loopbackNames(): Promise<string[]> {
  const names: string[] = [];
  for (const name of ['localhost', hostname()]) {
    try {
      const all = await lookup(name, { all: true });
      if (all.length && all.every((a) => /^127\.|^::1$/.test(a.address))) names.push(name);
    } catch {
      // not resolvable here: nothing to test
    }
  }
  return [...new Set(names)].filter((n) => n !== 'localhost');
}

async function render(events: RrwebEvent[], allowOrigins: string[]): Promise<RenderResult> {
  const r = await renderRecording(events, { ...OPTIONS, allowOrigins }, { browser });
  // A request the page started late may still be in flight through the proxy: wait until it lands.
  await quiet([canary, allowed]);
  return r;
}

const parse = (events: RawEvent[]) => parseRecording(Buffer.from(JSON.stringify(events))).events;

beforeAll(async () => {
  allowed = await startCanary();
  canary = await startCanary();
  vectors = ssrfVectors(u, allowed.origin);
  spellings = addressSpellings(canary.port, await loopbackNames(), canary.ipv6);
  allowed.pages.set('/ssrf.html', vectorPage('ssrf', [...vectors, ...legitimateVectors(allowed.origin)]));
  allowed.pages.set('/plain.html', vectorPage('plain', legitimateVectors(allowed.origin)));

  const recorder = await launchRecorderBrowser();
  let live: RawEvent[];
  try {
    live = await recordPage(allowed.origin, '/ssrf.html', recorder);
    base = await recordPage(allowed.origin, '/plain.html', recorder);
  } finally {
    await recorder.close();
  }
  // The live page itself loaded the vectors while it was recorded; only the replay counts.
  canary.reset();
  allowed.reset();

  const spellingVectors: Vector[] = spellings.map((s) => ({
    id: s.id,
    parent: 'body',
    recordable: false,
    pieces: [{ tag: 'img', attrs: { src: `${s.origin}/c/${s.id}/x` } }],
  }));
  const cssom = injectCssomVectors(base, u);
  cssomIds = cssom.ids;
  recordings = {
    recorded: parse(live),
    snapshot: parse(injectVectorsIntoSnapshot(base, vectors)),
    mutation: parse(injectVectorsAsMutation(base, vectors)),
    cssom: parse(cssom.events),
    addresses: parse(injectVectorsIntoSnapshot(base, spellingVectors)),
  };
  netLogDir = await mkdtemp(join(tmpdir(), 'hostile-ssrf-'));
  netLogPath = join(netLogDir, 'netlog.json');
  browser = await launchLoggedBrowser(netLogPath);
});

afterAll(async () => {
  await browser?.close().catch(() => {});
  await allowed?.close();
  await canary?.close();
  if (netLogDir) await rm(netLogDir, { recursive: true, force: true });
});

describe('hostile recordings: every URL in the DOM and CSS goes through the network policy', () => {
  it('the recordings carry the vectors (rrweb kept them)', () => {
    // Redirect targets sit URL-encoded in a query string.
    const recorded = decodeURIComponent(JSON.stringify(recordings.recorded));
    for (const id of LIVE_RECORDED) expect(recorded, id).toContain(`/c/${id}/`);
    const injected = decodeURIComponent(JSON.stringify(recordings.snapshot));
    for (const v of vectors) expect(injected, v.id).toContain(`/c/${v.id}/`);
  });

  it('control: with the canary allow-listed, the vectors do reach it (so a zero below means something)', async () => {
    const everyLoopback = [allowed.origin, canary.origin, ...spellings.filter((s) => s.canary).map((s) => s.origin)];
    const seen: Record<string, string[]> = {};
    for (const channel of ['recorded', 'snapshot', 'mutation', 'cssom', 'addresses'] as const) {
      canary.reset();
      await render(recordings[channel], everyLoopback);
      seen[channel] = hitCases();
    }
    console.info(`control hits: ${Object.entries(seen).map(([k, v]) => `${k} ${v.length}`).join(', ')}`);
    const missing = (channel: string, expected: string[]) => expected.filter((id) => !seen[channel]!.includes(id));
    expect(missing('recorded', LIVE_RECORDED)).toEqual([]);
    expect(missing('snapshot', LIVE_INJECTED)).toEqual([]);
    expect(missing('mutation', LIVE_INJECTED)).toEqual([]);
    expect(missing('cssom', cssomIds)).toEqual([]);
    // Every loopback spelling reaches the canary once allowed, except a trailing-dot name, which
    // this machine's resolver may not answer.
    const loopSpellings = spellings.filter((s) => s.canary && s.id !== 'addr-localhost-dot').map((s) => s.id);
    expect(missing('addresses', loopSpellings)).toEqual([]);
    // Inert vectors stay inert; if Chromium starts fetching one, it moves to the live lists.
    for (const id of INERT) expect(seen.snapshot, id).not.toContain(id);
  });

  it.each(['recorded', 'snapshot', 'mutation', 'cssom', 'addresses'] as const)(
    '%s: the canary gets 0 requests and 0 connections; the allowed origin still serves its assets',
    async (channel) => {
      canary.reset();
      allowed.reset();
      const node = watchNodeRequests();
      let result: RenderResult;
      try {
        result = await render(recordings[channel], [allowed.origin]);
      } finally {
        node.stop();
      }
      console.info(`${channel}: canary ${canary.requests.length} requests / ${canary.connections} connections, ` +
        `allowed origin ${allowed.requests.length} requests, ${result.assetFailures} refused or failed, ${result.wallMs} ms`);
      expect(canary.requests).toEqual([]);
      expect(canary.connections).toBe(0);
      // Legitimate assets still load: the page can reach the allowed origin.
      const paths = allowed.requests.map((r) => r.path);
      expect(paths).toContain('/ok/img.png');
      expect(paths).toContain('/ok/font.woff2');
      // Node connected to nothing but the allowed origin (10.x, 169.254.169.254 and the like were
      // refused before any socket; the canary above covers loopback).
      const elsewhere = node.requests.filter((r) => r.port !== allowed.port || r.address !== '127.0.0.1');
      expect(elsewhere).toEqual([]);
      expect(node.requests.length).toBeGreaterThan(0);
      expect(result.assetFailures).toBeGreaterThan(0);
    },
  );

  it('file:// URLs never load (an image of the forbidden colour never shows; served over http it does)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostile-file-'));
    try {
      const file = join(dir, 'forbidden.png');
      await writeFile(file, await solidPng(COLOURS.forbidden, 64));
      const big = 'width:600px;height:400px;display:block';
      const withImage = (src: string): Vector[] => [
        { id: 'file-img', parent: 'body', recordable: false, pieces: [{ tag: 'img', attrs: { src, style: big } }] },
        { id: 'file-bg', parent: 'body', recordable: false, pieces: [{ tag: 'div', attrs: { style: `${big};background:url("${src}")` } }] },
        { id: 'file-iframe', parent: 'body', recordable: false, pieces: [{ tag: 'iframe', attrs: { src: pathToFileURL('/etc/passwd').href, style: big } }] },
      ];
      const forbiddenPixels = (r: RenderResult) => {
        let most = 0;
        for (const { rgba } of decodeGif(r.gif).frames) {
          let n = 0;
          for (let i = 0; i < rgba.length; i += 4) {
            const d = Math.abs(rgba[i]! - COLOURS.forbidden.r) + Math.abs(rgba[i + 1]! - COLOURS.forbidden.g) + Math.abs(rgba[i + 2]! - COLOURS.forbidden.b);
            if (d < 40) n++;
          }
          most = Math.max(most, n);
        }
        return most;
      };
      // The oracle works: the same picture from the allowed origin fills a large area.
      const control = await render(parse(injectVectorsIntoSnapshot(base, withImage(`${allowed.origin}/forbidden.png`))), [allowed.origin]);
      const viaFile = await render(parse(injectVectorsIntoSnapshot(base, withImage(pathToFileURL(file).href))), [allowed.origin]);
      const controlPixels = forbiddenPixels(control);
      const filePixels = forbiddenPixels(viaFile);
      console.info(`file://: ${filePixels} forbidden-colour pixels (control over http: ${controlPixels})`);
      expect(controlPixels).toBeGreaterThan(5000);
      expect(filePixels).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the browser opens no socket and resolves no name: every request is answered by the proxy', async () => {
    // Control, last: a context without the proxy, in the same browser, does show up in the NetLog.
    const bypass = await startCanary();
    try {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${bypass.origin}/netlog-control`);
      await ctx.close();
      await browser.close();
      const log: NetLogSummary = await readNetLog(netLogPath);
      console.info(`NetLog: ${log.connectAttempts.length} connect attempts, ${log.resolves.length} resolves, ${log.urlJobs.length} URL jobs (all the control's)`);
      expect(log.urlJobs).toEqual([`${bypass.origin}/netlog-control`]);
      expect(log.connectAttempts.length).toBeGreaterThan(0);
      expect(new Set(log.connectAttempts)).toEqual(new Set([`127.0.0.1:${bypass.port}`]));
      expect(new Set(log.resolves)).toEqual(new Set([`http://127.0.0.1:${bypass.port}`]));
    } finally {
      await bypass.close();
    }
  });
});
