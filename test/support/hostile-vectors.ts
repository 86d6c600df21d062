import { builders, type Ids, type SerializedNode } from './rrweb-inject.js';

/**
 * Hostile page content, described once and turned both into HTML (for rrweb's recorder to record on
 * a page we serve) and into rrweb serialized nodes (for injecting into a real recording, as someone
 * writing the file by hand could).
 */
export interface Piece {
  tag: string;
  attrs?: Record<string, string>;
  /** Text content (for <style>, <script>, <p>) or child pieces. */
  text?: string;
  children?: Piece[];
  svg?: boolean;
}

export interface Vector {
  id: string;
  /** Where the pieces go. */
  parent: 'head' | 'body';
  pieces: Piece[];
  /**
   * Whether the live page may carry it while rrweb records (a meta refresh would navigate the page
   * being recorded, a <base> would re-point every other vector): false ones are only injected.
   */
  recordable: boolean;
}

const VOID = new Set(['img', 'input', 'link', 'meta', 'base', 'source', 'track', 'embed', 'br', 'hr']);

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function pieceToHtml(p: Piece): string {
  const attrs = Object.entries(p.attrs ?? {})
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
  if (VOID.has(p.tag) && !p.svg) return `<${p.tag}${attrs}>`;
  const inner = p.text !== undefined ? p.text : (p.children ?? []).map(pieceToHtml).join('');
  return `<${p.tag}${attrs}>${inner}</${p.tag}>`;
}

export function pieceToNodes(ids: Ids, p: Piece, inSvg = false): SerializedNode {
  const b = builders(ids);
  const svg = inSvg || p.svg === true || p.tag === 'svg';
  const children: SerializedNode[] = [];
  if (p.text !== undefined) children.push(b.text(p.text, p.tag === 'style' ? { isStyle: true } : {}));
  // HTML inside <foreignObject> is HTML again (rrweb marks only SVG elements isSVG).
  for (const c of p.children ?? []) children.push(pieceToNodes(ids, c, svg && p.tag !== 'foreignObject'));
  return svg ? b.svg(p.tag, { ...(p.attrs ?? {}) }, children) : b.el(p.tag, { ...(p.attrs ?? {}) }, children);
}

/** A page holding the recordable vectors, each in a box so images have room to show. */
export function vectorPage(title: string, vectors: Vector[]): string {
  const head = vectors.filter((v) => v.parent === 'head' && v.recordable).flatMap((v) => v.pieces.map(pieceToHtml));
  const body = vectors.filter((v) => v.parent === 'body' && v.recordable).flatMap((v) => v.pieces.map(pieceToHtml));
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>${head.join('')}
<style>body { margin: 8px; font: 14px sans-serif; } img, video, object, embed, iframe, svg { width: 40px; height: 40px; }</style></head>
<body><h1>${esc(title)}</h1>${body.join('\n')}</body></html>`;
}

// --- SSRF ------------------------------------------------------------------------------------

/**
 * Every place HTML, SVG and CSS can name a URL. `u(id)` is the forbidden URL for a case, of the form
 * `<origin>/c/<id>/<file>` (its path names the case, so a hit says which vector escaped).
 */
export function ssrfVectors(u: (id: string) => string, allowed: string): Vector[] {
  const box = 'width:40px;height:40px;display:block';
  const v = (id: string, parent: Vector['parent'], pieces: Piece[], recordable = true): Vector => ({ id, parent, pieces, recordable });
  return [
    v('img-src', 'body', [{ tag: 'img', attrs: { src: u('img-src') } }]),
    v('img-srcset', 'body', [{ tag: 'img', attrs: { srcset: `${u('img-srcset')} 1x` } }]),
    v('picture-source', 'body', [{ tag: 'picture', children: [{ tag: 'source', attrs: { srcset: u('picture-source') } }, { tag: 'img', attrs: { alt: 'p' } }] }]),
    v('input-image', 'body', [{ tag: 'input', attrs: { type: 'image', src: u('input-image') } }]),
    v('css-inline-bg', 'body', [{ tag: 'div', attrs: { style: `${box};background-image:url("${u('css-inline-bg')}")` } }]),
    v('css-sheet-bg', 'body', [
      { tag: 'style', text: `.h-bg { ${box}; background: url("${u('css-sheet-bg')}"); }` },
      { tag: 'div', attrs: { class: 'h-bg' } },
    ]),
    v('css-image-set', 'body', [{ tag: 'div', attrs: { style: `${box};background-image:image-set("${u('css-image-set')}" 1x)` } }]),
    v('css-border-image', 'body', [{ tag: 'div', attrs: { style: `${box};border:10px solid;border-image:url("${u('css-border-image')}") 30` } }]),
    v('css-mask-image', 'body', [{ tag: 'div', attrs: { style: `${box};background:red;mask-image:url("${u('css-mask-image')}")` } }]),
    v('css-webkit-mask', 'body', [{ tag: 'div', attrs: { style: `${box};background:red;-webkit-mask-box-image:url("${u('css-webkit-mask')}") 10` } }]),
    v('css-list-style', 'body', [{ tag: 'ul', children: [{ tag: 'li', attrs: { style: `list-style-image:url("${u('css-list-style')}")` }, text: 'item' }] }]),
    v('css-content', 'body', [
      { tag: 'style', text: `.h-content::before { content: url("${u('css-content')}"); }` },
      { tag: 'div', attrs: { class: 'h-content' }, text: 'x' },
    ]),
    v('css-cursor', 'body', [{ tag: 'div', attrs: { style: `${box};cursor:url("${u('css-cursor')}"), auto` } }]),
    v('css-import', 'head', [{ tag: 'style', text: `@import url("${u('css-import')}");` }]),
    v('css-font-face', 'body', [
      { tag: 'style', text: `@font-face { font-family: hostile-font; src: url("${u('css-font-face')}") format("woff2"); }` },
      { tag: 'p', attrs: { style: 'font-family: hostile-font' }, text: 'font text' },
    ]),
    v('css-svg-filter', 'body', [{ tag: 'div', attrs: { style: `${box};background:blue;filter:url("${u('css-svg-filter')}#f")` } }]),
    v('link-stylesheet', 'head', [{ tag: 'link', attrs: { rel: 'stylesheet', href: u('link-stylesheet') } }]),
    v('link-preload-image', 'head', [{ tag: 'link', attrs: { rel: 'preload', as: 'image', href: u('link-preload-image') } }]),
    v('link-preload-font', 'head', [{ tag: 'link', attrs: { rel: 'preload', as: 'font', type: 'font/woff2', crossorigin: '', href: u('link-preload-font') } }]),
    v('link-preload-style', 'head', [{ tag: 'link', attrs: { rel: 'preload', as: 'style', href: u('link-preload-style') } }]),
    v('link-preload-fetch', 'head', [{ tag: 'link', attrs: { rel: 'preload', as: 'fetch', crossorigin: '', href: u('link-preload-fetch') } }]),
    v('link-prefetch', 'head', [{ tag: 'link', attrs: { rel: 'prefetch', href: u('link-prefetch') } }]),
    v('link-prerender', 'head', [{ tag: 'link', attrs: { rel: 'prerender', href: u('link-prerender') } }]),
    v('link-icon', 'head', [{ tag: 'link', attrs: { rel: 'icon', href: u('link-icon') } }]),
    v('link-manifest', 'head', [{ tag: 'link', attrs: { rel: 'manifest', href: u('link-manifest') } }]),
    v('link-preconnect', 'head', [{ tag: 'link', attrs: { rel: 'preconnect', href: u('link-preconnect') } }]),
    v('link-dns-prefetch', 'head', [{ tag: 'link', attrs: { rel: 'dns-prefetch', href: u('link-dns-prefetch') } }]),
    v('video-src', 'body', [{ tag: 'video', attrs: { src: u('video-src'), preload: 'auto' } }]),
    v('video-poster', 'body', [{ tag: 'video', attrs: { poster: u('video-poster') } }]),
    v('video-source', 'body', [{ tag: 'video', attrs: { preload: 'auto' }, children: [{ tag: 'source', attrs: { src: u('video-source') } }] }]),
    v('video-track', 'body', [
      { tag: 'video', attrs: { src: `${allowed}/ok-video.mp4` }, children: [{ tag: 'track', attrs: { default: '', kind: 'captions', src: u('video-track') } }] },
    ]),
    v('audio-src', 'body', [{ tag: 'audio', attrs: { src: u('audio-src'), preload: 'auto' } }]),
    v('object-data', 'body', [{ tag: 'object', attrs: { data: u('object-data') } }]),
    v('object-data-image', 'body', [{ tag: 'object', attrs: { data: u('object-data-image'), type: 'image/png' } }]),
    v('embed-src', 'body', [{ tag: 'embed', attrs: { src: u('embed-src') } }]),
    v('iframe-src', 'body', [{ tag: 'iframe', attrs: { src: u('iframe-src') } }]),
    v('table-background', 'body', [{ tag: 'table', attrs: { background: u('table-background') }, children: [{ tag: 'tbody', children: [{ tag: 'tr', children: [{ tag: 'td', text: 'cell' }] }] }] }]),
    v('svg-image-href', 'body', [{ tag: 'svg', children: [{ tag: 'image', attrs: { href: u('svg-image-href'), width: '20', height: '20' } }] }]),
    v('svg-image-xlink', 'body', [{ tag: 'svg', attrs: { 'xmlns:xlink': 'http://www.w3.org/1999/xlink' }, children: [{ tag: 'image', attrs: { 'xlink:href': u('svg-image-xlink'), width: '20', height: '20' } }] }]),
    v('svg-use', 'body', [{ tag: 'svg', children: [{ tag: 'use', attrs: { href: `${u('svg-use')}#shape` } }] }]),
    v('svg-feimage', 'body', [
      { tag: 'svg', children: [{ tag: 'filter', attrs: { id: 'h-fe' }, children: [{ tag: 'feImage', attrs: { href: u('svg-feimage') } }] }, { tag: 'rect', attrs: { width: '20', height: '20', filter: 'url(#h-fe)' } }] },
    ]),
    v('svg-style-import', 'body', [{ tag: 'svg', children: [{ tag: 'style', text: `@import url("${u('svg-style-import')}"); rect { fill: url("${u('svg-style-fill')}#p"); }` }, { tag: 'rect', attrs: { width: '5', height: '5' } }] }]),
    v('form-action', 'body', [{ tag: 'form', attrs: { action: u('form-action'), method: 'get' }, children: [{ tag: 'input', attrs: { name: 'q', value: 'x' } }, { tag: 'button', text: 'go' }] }]),
    v('a-ping', 'body', [{ tag: 'a', attrs: { href: u('a-href'), ping: u('a-ping') }, text: 'link' }]),
    v('redirect-img', 'body', [{ tag: 'img', attrs: { src: `${allowed}/redirect?to=${encodeURIComponent(u('redirect-img'))}` } }]),
    v('redirect-css', 'head', [{ tag: 'link', attrs: { rel: 'stylesheet', href: `${allowed}/redirect?to=${encodeURIComponent(u('redirect-css'))}` } }]),
    v('redirect-iframe', 'body', [{ tag: 'iframe', attrs: { src: `${allowed}/redirect?to=${encodeURIComponent(u('redirect-iframe'))}` } }]),
    v('redirect-font', 'body', [
      { tag: 'style', text: `@font-face { font-family: hostile-redirect; src: url("${allowed}/redirect?to=${encodeURIComponent(u('redirect-font'))}"); }` },
      { tag: 'p', attrs: { style: 'font-family: hostile-redirect' }, text: 'redirected font' },
    ]),
    // Second order: an allowed stylesheet or framed page that itself names the forbidden URL.
    v('nested-css-import', 'head', [{ tag: 'link', attrs: { rel: 'stylesheet', href: `${allowed}/nested.css?import=${encodeURIComponent(u('nested-css-import'))}` } }]),
    v('nested-css-bg', 'body', [
      { tag: 'link', attrs: { rel: 'stylesheet', href: `${allowed}/nested.css?bg=${encodeURIComponent(u('nested-css-bg'))}` } },
      { tag: 'div', attrs: { class: 'nested-bg' } },
    ]),
    v('framed-page-img', 'body', [{ tag: 'iframe', attrs: { src: `${allowed}/framed-page?img=${encodeURIComponent(u('framed-page-img'))}` } }]),
    // These would act on the live page during recording; they only come in through a hand-made file.
    v('meta-refresh', 'head', [{ tag: 'meta', attrs: { 'http-equiv': 'refresh', content: `0;url=${u('meta-refresh')}` } }], false),
    // A <base> re-points relative URLs; the image in head still loads (a DOM built by script may put it there).
    v('base-href', 'head', [{ tag: 'base', attrs: { href: new URL('.', u('base-href')).href } }, { tag: 'img', attrs: { src: 'relative.png' } }], false),
  ];
}

/** The legitimate assets of the allowed origin, which must still load in the same replay. */
export function legitimateVectors(allowed: string): Vector[] {
  return [
    { id: 'ok-img', parent: 'body', recordable: true, pieces: [{ tag: 'img', attrs: { src: `${allowed}/ok/img.png`, style: 'width:120px;height:120px' } }] },
    { id: 'ok-css', parent: 'head', recordable: true, pieces: [{ tag: 'link', attrs: { rel: 'stylesheet', href: `${allowed}/ok/sheet.css` } }] },
    {
      id: 'ok-font',
      parent: 'body',
      recordable: true,
      pieces: [
        { tag: 'style', text: `@font-face { font-family: ok-font; src: url("${allowed}/ok/font.woff2") format("woff2"); }` },
        { tag: 'p', attrs: { style: 'font-family: ok-font; font-size: 30px' }, text: 'Legit font' },
      ],
    },
  ];
}

/**
 * Spellings of "this machine" and of other private places, each as the origin of an <img>. The
 * canary listens on 127.0.0.1 and [::1], so every loopback spelling would reach it.
 */
export function addressSpellings(port: number, extraHostnames: string[], ipv6: boolean): { id: string; origin: string; canary: boolean }[] {
  const loop = [
    ['v4', `http://127.0.0.1:${port}`],
    ['localhost', `http://localhost:${port}`],
    ['localhost-dot', `http://localhost.:${port}`],
    ['short-127-1', `http://127.1:${port}`],
    ['decimal', `http://2130706433:${port}`],
    ['hex', `http://0x7f000001:${port}`],
    ['octal', `http://0177.0.0.1:${port}`],
    ['zero', `http://0.0.0.0:${port}`],
    ['zero-short', `http://0:${port}`],
    ...(ipv6
      ? [
          ['v6-loopback', `http://[::1]:${port}`],
          ['v6-mapped', `http://[::ffff:127.0.0.1]:${port}`],
          ['v6-mapped-hex', `http://[::ffff:7f00:1]:${port}`],
        ]
      : []),
    ...extraHostnames.map((h) => [`name-${h}`, `http://${h}:${port}`]),
  ] as const;
  return [
    ...loop.map(([id, origin]) => ({ id: `addr-${id}`, origin, canary: true })),
    // Nothing listens there for us; Node's socket log and the browser's net log show no attempt.
    { id: 'addr-private-10', origin: 'http://10.0.0.1', canary: false },
    { id: 'addr-private-192', origin: 'http://192.168.0.1', canary: false },
    { id: 'addr-metadata', origin: 'http://169.254.169.254', canary: false },
    { id: 'addr-metadata-v6', origin: 'http://[fd00:ec2::254]', canary: false },
    { id: 'addr-cgnat', origin: 'http://100.100.100.200', canary: false },
  ];
}

// --- scripts ---------------------------------------------------------------------------------

/**
 * Script payloads: each pings `ran(id)` on the allow-listed origin if it ever executes, with
 * several request APIs, and also reports whether it could reach the player page (the parent).
 */
export function scriptPayload(ran: (id: string) => string, id: string): string {
  const u = JSON.stringify(ran(id));
  return (
    `(function(){var u=${u};try{new Image().src=u}catch(e){}try{fetch(u+'&via=fetch')}catch(e){}` +
    `try{navigator.sendBeacon(u+'&via=beacon')}catch(e){}` +
    `try{var t=top.__rr;new top.Image().src=u+'&via=top&player='+(typeof t)}catch(e){}})()`
  );
}

export function scriptVectors(ran: (id: string) => string, allowed: string): Vector[] {
  const s = (id: string) => scriptPayload(ran, id);
  const htmlDoc = (id: string) => `<!doctype html><p>x</p><script>${s(id)}</script>`;
  const v = (id: string, parent: Vector['parent'], pieces: Piece[], recordable = true): Vector => ({ id, parent, pieces, recordable });
  return [
    v('script-inline', 'body', [{ tag: 'script', text: s('script-inline') }]),
    v('script-src', 'body', [{ tag: 'script', attrs: { src: `${allowed}/hostile/script.js` } }]),
    v('script-module', 'body', [{ tag: 'script', attrs: { type: 'module' }, text: s('script-module') }]),
    v('img-onerror', 'body', [{ tag: 'img', attrs: { src: 'data:,', onerror: s('img-onerror') } }]),
    v('img-onload', 'body', [{ tag: 'img', attrs: { src: `${allowed}/ok/onload.png`, onload: s('img-onload') } }]),
    v('svg-onload', 'body', [{ tag: 'svg', attrs: { onload: s('svg-onload') } }]),
    v('svg-script', 'body', [{ tag: 'svg', children: [{ tag: 'script', text: s('svg-script') }] }]),
    v('svg-foreign-script', 'body', [{ tag: 'svg', children: [{ tag: 'foreignObject', attrs: { width: '10', height: '10' }, children: [{ tag: 'img', attrs: { src: 'data:,', onerror: s('svg-foreign-script') } }] }] }]),
    v('details-ontoggle', 'body', [{ tag: 'details', attrs: { open: '', ontoggle: s('details-ontoggle') }, children: [{ tag: 'summary', text: 's' }] }]),
    v('input-onfocus', 'body', [{ tag: 'input', attrs: { autofocus: '', onfocus: s('input-onfocus') } }]),
    v('style-onload', 'body', [{ tag: 'style', attrs: { onload: s('style-onload') }, text: 'p{}' }]),
    v('link-onload', 'head', [{ tag: 'link', attrs: { rel: 'stylesheet', href: `${allowed}/ok/onload.css`, onload: s('link-onload') } }]),
    v('link-onerror', 'head', [{ tag: 'link', attrs: { rel: 'stylesheet', href: 'data:text/css,@@@', onerror: s('link-onerror') } }]),
    v('iframe-onload', 'body', [{ tag: 'iframe', attrs: { src: 'about:blank', onload: s('iframe-onload') } }]),
    v('animation-event', 'body', [
      { tag: 'style', text: '@keyframes h-anim { from { opacity: 0.5 } to { opacity: 1 } } .h-anim { animation: h-anim 1ms; }' },
      { tag: 'div', attrs: { class: 'h-anim', onanimationstart: s('animation-event'), onanimationend: s('animation-event-end') }, text: 'a' },
    ]),
    v('video-onerror', 'body', [{ tag: 'video', attrs: { src: 'data:,', onerror: s('video-onerror'), onloadstart: s('video-onloadstart') } }]),
    v('marquee-onstart', 'body', [{ tag: 'marquee', attrs: { onstart: s('marquee-onstart') }, text: 'm' }]),
    v('iframe-javascript-src', 'body', [{ tag: 'iframe', attrs: { src: `javascript:${s('iframe-javascript-src')}` } }]),
    v('iframe-srcdoc', 'body', [{ tag: 'iframe', attrs: { srcdoc: htmlDoc('iframe-srcdoc') } }]),
    v('iframe-data-url', 'body', [{ tag: 'iframe', attrs: { src: `data:text/html,${encodeURIComponent(htmlDoc('iframe-data-url'))}` } }]),
    v('iframe-remote-html', 'body', [{ tag: 'iframe', attrs: { src: `${allowed}/hostile/framed.html` } }]),
    v('object-html', 'body', [{ tag: 'object', attrs: { type: 'text/html', data: `data:text/html,${encodeURIComponent(htmlDoc('object-html'))}` } }]),
    v('embed-svg', 'body', [
      { tag: 'embed', attrs: { type: 'image/svg+xml', src: `data:image/svg+xml,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" onload="${s('embed-svg').replace(/"/g, '&quot;')}"/>`)}` } },
    ]),
    v('a-javascript-href', 'body', [{ tag: 'a', attrs: { href: `javascript:${s('a-javascript-href')}`, id: 'h-js-link' }, text: 'js link' }]),
    v('form-javascript-action', 'body', [{ tag: 'form', attrs: { action: `javascript:${s('form-javascript-action')}` }, children: [{ tag: 'button', text: 'go' }] }]),
    v('css-expression', 'body', [{ tag: 'div', attrs: { style: `width:expression(${s('css-expression')});background:url("javascript:${s('css-javascript-url')}");behavior:url(${ran('css-behavior')});-moz-binding:url(${ran('css-binding')})` } }]),
    // Only through a hand-made file: on the live page these would navigate away or take over the page.
    v('meta-refresh-javascript', 'head', [{ tag: 'meta', attrs: { 'http-equiv': 'refresh', content: `0;url=javascript:${s('meta-refresh-javascript')}` } }], false),
    v('body-onload', 'body', [{ tag: 'span', text: '(body onload is set on <body> itself)' }], false),
  ];
}
