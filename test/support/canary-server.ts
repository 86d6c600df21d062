import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import sharp from 'sharp';

const require = createRequire(import.meta.url);

export interface CanaryRequest {
  method: string;
  path: string;
  /** The Host header: which spelling of the address reached us. */
  host: string;
  /** Which listener took it (127.0.0.1 or ::1). */
  local: string;
}

/**
 * A loopback HTTP server for hostile-recording tests, in two roles:
 * - the allow-listed origin: serves the hostile pages to record, legitimate assets (which must still
 *   load in the replay, proving the page can reach it at all) and redirects to private addresses;
 * - the canary: an origin nothing in a replay may reach. It counts TCP connections as well as
 *   requests, so a browser-side connection that never sends a request is caught too.
 * It listens on 127.0.0.1 and, when the machine has it, on [::1] at the same port, so every
 * spelling of "this machine" (localhost, [::1], 127.1, 2130706433, ...) lands here.
 */
export interface CanaryServer {
  origin: string;
  port: number;
  /** Whether [::1] at the same port is ours too. */
  ipv6: boolean;
  requests: CanaryRequest[];
  connections: number;
  /** Pages served as text/html at their path (e.g. '/ssrf.html'). */
  pages: Map<string, string>;
  /** Requests whose path starts with `prefix`. */
  hits(prefix: string): CanaryRequest[];
  reset(): void;
  close(): Promise<void>;
}

/** Solid colours the tests look for in GIF frames. */
export const COLOURS = {
  /** A legitimate image from the allowed origin. */
  ok: { r: 0, g: 160, b: 80 },
  /** What a forbidden image would show if it ever loaded. */
  forbidden: { r: 230, g: 20, b: 140 },
} as const;

let pngs: Map<string, Promise<Buffer>> | undefined;

export function solidPng(colour: { r: number; g: number; b: number }, size = 64): Promise<Buffer> {
  pngs ??= new Map();
  const key = `${colour.r},${colour.g},${colour.b},${size}`;
  let p = pngs.get(key);
  if (!p) {
    p = sharp({ create: { width: size, height: size, channels: 3, background: colour } }).png().toBuffer();
    pngs.set(key, p);
  }
  return p;
}

async function asset(path: string, origin: string): Promise<{ type: string; body: Buffer | string }> {
  const ext = path.slice(path.lastIndexOf('.') + 1).replace(/[?#].*$/, '');
  switch (ext) {
    case 'png':
      return { type: 'image/png', body: await solidPng(path.includes('forbidden') ? COLOURS.forbidden : COLOURS.ok) };
    case 'css':
      return { type: 'text/css', body: 'body { outline: 0 solid transparent; }' };
    case 'woff2':
      return { type: 'font/woff2', body: await readFile(require.resolve('@fontsource/lobster/files/lobster-latin-400-normal.woff2')) };
    case 'js':
      // If a replay ever executes this, the allow-listed origin hears about it.
      return { type: 'text/javascript', body: `new Image().src = ${JSON.stringify(`${origin}/script-ran?case=external-js`)};` };
    case 'svg':
      return {
        type: 'image/svg+xml',
        body: `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="green"/></svg>`,
      };
    case 'html':
      return {
        type: 'text/html',
        body: `<!doctype html><p>framed</p><script>new Image().src = ${JSON.stringify(`${origin}/script-ran?case=framed-html`)};</script>`,
      };
    case 'vtt':
      return { type: 'text/vtt', body: 'WEBVTT\n\n00:00.000 --> 00:10.000\nhello\n' };
    default:
      return { type: 'text/plain', body: 'canary' };
  }
}

export async function startCanary(): Promise<CanaryServer> {
  const requests: CanaryRequest[] = [];
  const pages = new Map<string, string>();
  let connections = 0;
  let origin = '';
  const sockets = new Set<Socket>();

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ method: req.method ?? '', path: url.pathname + url.search, host: req.headers.host ?? '', local: req.socket.localAddress ?? '' });
    void (async () => {
      try {
        const page = pages.get(url.pathname);
        if (page !== undefined) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
        } else if (url.pathname === '/redirect') {
          res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
        } else if (url.pathname === '/script-ran') {
          res.writeHead(204).end();
        } else if (url.pathname === '/nested.css') {
          // A stylesheet that names other URLs itself (second-order requests).
          const imp = url.searchParams.get('import');
          const bg = url.searchParams.get('bg');
          const css = `${imp ? `@import url("${imp}");\n` : ''}${bg ? `.nested-bg { width: 40px; height: 40px; background: url("${bg}"); }` : ''}`;
          res.writeHead(200, { 'content-type': 'text/css', 'cache-control': 'no-store' }).end(css);
        } else if (url.pathname === '/framed-page') {
          // A document for a frame, whose own subresources point elsewhere.
          const img = url.searchParams.get('img') ?? '';
          res
            .writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store', 'content-security-policy': 'sandbox' })
            .end(`<!doctype html><img src="${img.replace(/"/g, '&quot;')}"><div style="width:40px;height:40px;background:url('${img.replace(/'/g, '%27')}')"></div>`);
        } else {
          const { type, body } = await asset(url.pathname, origin);
          // While rrweb's recorder runs, documents loaded into frames must not start recorders of
          // their own (the harness records every frame into one event stream); a CSP sandbox keeps
          // them script-free. The replay never sees this header: the asset proxy passes on only the
          // content type.
          res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'content-security-policy': 'sandbox' }).end(body);
        }
      } catch {
        res.writeHead(500).end();
      }
    })();
  };

  const servers: Server[] = [];
  const listen = (server: Server, port: number, host: string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  const make = () => {
    const s = createServer(handler);
    s.on('connection', (sock: Socket) => {
      connections++;
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    servers.push(s);
    return s;
  };

  const v4 = make();
  await listen(v4, 0, '127.0.0.1');
  const port = (v4.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  let ipv6 = false;
  try {
    await listen(make(), port, '::1');
    ipv6 = true;
  } catch {
    servers.pop();
  }

  return {
    origin,
    port,
    ipv6,
    requests,
    get connections() {
      return connections;
    },
    pages,
    hits: (prefix) => requests.filter((r) => r.path.startsWith(prefix)),
    reset() {
      requests.length = 0;
      connections = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

/**
 * Waits until the canaries have seen no new request or connection for `quietMs` (at most
 * `timeoutMs`): a request the page started late may still be in flight through the proxy when a
 * render returns. Polls the counts instead of sleeping a fixed time, so a quiet run ends at once.
 */
export async function quiet(canaries: CanaryServer[], quietMs = 150, timeoutMs = 3000): Promise<void> {
  const count = () => canaries.reduce((n, c) => n + c.requests.length + c.connections, 0);
  const deadline = Date.now() + timeoutMs;
  let last = count();
  let stillSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    const now = count();
    if (now !== last) {
      last = now;
      stillSince = Date.now();
    } else if (Date.now() - stillSince >= quietMs) {
      return;
    }
  }
}
