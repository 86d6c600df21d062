import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSite, type ServedAs, type SiteServer } from './site-server.js';

/**
 * Big real pages for the heavy-page journeys and benchmark rows (issue 8): the Rust documentation
 * every toolchain ships (rustdoc's std docs: 16,000-node pages, eight web fonts, a search UI; and
 * mdBook books such as Rust by Example), served on 127.0.0.1. Without a toolchain, a generated
 * big-DOM site stands in (test/fixtures/bigdom: thousands of nodes per page, four stylesheets, three
 * web fonts, a search UI), and whoever reports a figure says which one ran.
 */

const here = dirname(fileURLToPath(import.meta.url));
export const BIGDOM_ROOT = join(here, '..', 'fixtures', 'bigdom');

/** The page every rustdoc journey starts on; a docs folder without it is not used. */
const RUSTDOC_PROBE = join('std', 'vec', 'struct.Vec.html');
const MDBOOK_PROBE = join('rust-by-example', 'index.html');

/**
 * The local Rust docs (`html` folder): $RUST_DOCS_DIR, else the stable toolchain's, else any
 * toolchain's. Undefined when there are none or RR_NO_RUST_DOCS=1 (to exercise the fallback).
 */
export function rustDocsRoot(): string | undefined {
  if (process.env.RR_NO_RUST_DOCS === '1') return undefined;
  const candidates: string[] = [];
  if (process.env.RUST_DOCS_DIR) candidates.push(process.env.RUST_DOCS_DIR);
  const toolchains = join(process.env.RUSTUP_HOME ?? join(homedir(), '.rustup'), 'toolchains');
  if (existsSync(toolchains)) {
    const names = readdirSync(toolchains).sort((a, b) => Number(b.startsWith('stable')) - Number(a.startsWith('stable')) || a.localeCompare(b));
    for (const n of names) candidates.push(join(toolchains, n, 'share', 'doc', 'rust', 'html'));
  }
  return candidates.find((c) => existsSync(join(c, RUSTDOC_PROBE)) && existsSync(join(c, MDBOOK_PROBE)));
}

/**
 * The Node.js API docs Debian's nodejs package ships (`/usr/share/doc/nodejs/api`, or
 * $NODE_DOCS_DIR): pages made by another generator than the Rust docs', with a theme toggle, CJS/ESM
 * toggles, history tables in <details> and pickers. Undefined when absent: the row that uses them
 * says so and renders nothing.
 */
export function nodeDocsRoot(): string | undefined {
  const candidates = [process.env.NODE_DOCS_DIR, '/usr/share/doc/nodejs/api'].filter((c): c is string => !!c);
  return candidates.find((c) => existsSync(join(c, 'fs.html')) && existsSync(join(c, 'path.html')));
}

export type HeavySiteKind = 'rust-docs' | 'bigdom';

export interface HeavySite {
  kind: HeavySiteKind;
  /** What ran, for reports: the docs folder, or the generated site. */
  description: string;
  server: SiteServer;
}

/** Serves the Rust docs, or the generated big-DOM site when there are none. */
export async function startHeavySite(port = 0, served: ServedAs = {}): Promise<HeavySite> {
  const root = rustDocsRoot();
  if (root) return { kind: 'rust-docs', description: `Rust docs at ${root}`, server: await startSite({ port, root, ...served }) };
  return { kind: 'bigdom', description: 'generated big-DOM site (test/fixtures/bigdom; no Rust toolchain docs found)', server: await startSite({ port, root: BIGDOM_ROOT, generated: bigDomPages(), ...served }) };
}

// --- the generated big-DOM site ---------------------------------------------------------------------

const WORDS = 'buffer slice iterator capacity element index range vector value string option result error stream reader writer handle thread channel lock guard'.split(' ');
const TYPES = ['Vec<T>', 'Option<T>', 'Result<T, E>', '&[T]', 'usize', 'bool', 'String', '&str', 'Box<T>', 'impl Iterator<Item = T>'];
export const BIGDOM_MODULES = 12;
const ITEMS_PER_MODULE = 200;

/** A deterministic pseudo-random sequence, so every run serves the same pages. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pick = <T,>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function sentence(r: () => number, n: number): string {
  const w = Array.from({ length: n }, () => pick(r, WORDS));
  return w[0]![0]!.toUpperCase() + w.join(' ').slice(1) + '.';
}

function itemName(m: number, i: number): string {
  const r = rng(m * 1000 + i);
  return `${pick(r, WORDS)}_${pick(r, WORDS)}_${i}`;
}

function signature(r: () => number, name: string): string {
  const args = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, k) => `<span class="lt">${pick(r, WORDS)}${k}</span>: <span class="ty">${pick(r, TYPES).replace(/</g, '&lt;')}</span>`);
  return `<span class="kw">pub</span> <span class="kw">fn</span> <span class="fn">${name}</span>(&amp;<span class="kw">self</span>, ${args.join(', ')}) -&gt; <span class="ty">${pick(r, TYPES).replace(/</g, '&lt;')}</span>`;
}

function example(r: () => number, name: string): string {
  const lines = Array.from({ length: 4 + Math.floor(r() * 5) }, (_, k) =>
    k % 3 === 0
      ? `<span class="cm">// ${sentence(r, 5)}</span>`
      : `<span class="kw">let</span> <span class="lt">${pick(r, WORDS)}</span> = <span class="ty">${pick(r, TYPES).split('<')[0]}</span>::<span class="fn">${name}</span>(<span class="num">${Math.floor(r() * 100)}</span>, <span class="lt">${pick(r, WORDS)}</span>);`,
  );
  return `<pre><code>${lines.join('\n')}</code></pre>`;
}

function sidebar(current: number): string {
  const mods = Array.from({ length: BIGDOM_MODULES }, (_, m) => `<li><a href="/module/m${m}.html"${m === current ? ' class="current"' : ''}>module_${m}</a></li>`).join('');
  const items = current >= 0 ? Array.from({ length: ITEMS_PER_MODULE }, (_, i) => `<li><a href="#item-${i}">${itemName(current, i)}</a></li>`).join('') : '';
  return `<nav class="sidebar"><a class="brand" href="/">Almanac</a><h4>Modules</h4><ul>${mods}</ul>${items ? `<h4>Functions</h4><ul>${items}</ul>` : ''}</nav>`;
}

function page(title: string, current: number, content: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · Almanac</title>
<link rel="stylesheet" href="/static/base.css"><link rel="stylesheet" href="/static/layout.css"><link rel="stylesheet" href="/static/code.css"><link rel="stylesheet" href="/static/theme-dark.css">
</head><body><div class="page">${sidebar(current)}<main>
<div class="toolbar"><input id="q" type="search" placeholder="Search the Almanac…" autocomplete="off"><button id="theme">Theme</button><button id="settings">Settings</button></div>
<div id="results"></div><div id="content">${content}</div></main></div><script src="/static/search.js"></script></body></html>`;
}

function modulePage(m: number): string {
  const r = rng(7919 * (m + 1));
  const items = Array.from({ length: ITEMS_PER_MODULE }, (_, i) => {
    const name = itemName(m, i);
    const paras = Array.from({ length: 2 + Math.floor(r() * 3) }, () => `<p>${sentence(r, 14 + Math.floor(r() * 18))} ${sentence(r, 10)}</p>`).join('');
    return `<section class="item" id="item-${i}"><h3><span class="since">1.${Math.floor(r() * 80)}.0</span><code>${name}</code></h3><pre><code>${signature(r, name)}</code></pre>${paras}<details${i % 3 === 0 ? '' : ' open'}><summary>Examples</summary>${example(r, name)}</details></section>`;
  }).join('');
  return page(`module_${m}`, m, `<h1>Module <code>almanac::module_${m}</code></h1><p>${sentence(r, 30)}</p><h2>Functions</h2>${items}`);
}

function indexPage(): string {
  const r = rng(42);
  const mods = Array.from({ length: BIGDOM_MODULES }, (_, m) => `<h3><a href="/module/m${m}.html">module_${m}</a></h3><p>${sentence(r, 24)}</p>`).join('');
  return page('Almanac', -1, `<h1>Crate <code>almanac</code></h1><p>${sentence(r, 40)}</p><p>${sentence(r, 40)}</p><h2>Modules</h2>${mods}`);
}

function searchIndex(): string {
  const entries: [string, string, string, string, string][] = [];
  for (let m = 0; m < BIGDOM_MODULES; m++) {
    const r = rng(31 * (m + 1));
    for (let i = 0; i < ITEMS_PER_MODULE; i++) entries.push(['fn', itemName(m, i), `almanac::module_${m}`, `/module/m${m}.html#item-${i}`, sentence(r, 9)]);
  }
  return `window.SEARCH_INDEX = ${JSON.stringify(entries)};`;
}

let pages: Map<string, { body: Buffer; type: string }> | undefined;

/** The generated pages (index, modules, search index), made once per process. */
export function bigDomPages(): Map<string, { body: Buffer; type: string }> {
  if (pages) return pages;
  const html = 'text/html; charset=utf-8';
  pages = new Map();
  pages.set('/index.html', { body: Buffer.from(indexPage()), type: html });
  for (let m = 0; m < BIGDOM_MODULES; m++) pages.set(`/module/m${m}.html`, { body: Buffer.from(modulePage(m)), type: html });
  pages.set('/search-index.js', { body: Buffer.from(searchIndex()), type: 'text/javascript; charset=utf-8' });
  return pages;
}
