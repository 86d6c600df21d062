import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { RasterizerError } from '../errors.js';
import { withDeadline } from '../util/deadline.js';
import { normaliseOrigin } from '../util/origin.js';

/**
 * The one gate every request from a replay goes through. A recording is untrusted input: its DOM
 * and CSS can name any URL, so we only fetch http(s), refuse addresses inside our network (after
 * DNS, and again for each redirect hop, connecting to the address we checked), and cap size, count
 * and time.
 */
export interface NetworkPolicyOptions {
  /** Origins let through even when they resolve to loopback or private addresses (tests, intranet assets). */
  allowOrigins: string[];
  maxResponseBytes: number;
  maxRequests: number;
  maxTotalBytes: number;
  requestTimeoutMs: number;
  maxRedirects: number;
}

export const DEFAULT_POLICY: NetworkPolicyOptions = {
  allowOrigins: [],
  maxResponseBytes: 15 * 1024 * 1024,
  maxRequests: 1500,
  maxTotalBytes: 200 * 1024 * 1024,
  requestTimeoutMs: 8000,
  maxRedirects: 5,
};

/** One hop's answer: a redirect's location, or the body. */
interface Answer {
  status: number;
  contentType?: string;
  location?: string;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

export interface FetchedAsset {
  status: number;
  contentType: string | undefined;
  body: Buffer;
  finalUrl: string;
  /** The last hop's response headers (what a cache decides by). */
  headers: http.IncomingHttpHeaders;
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  // IPv4-compatible (::a.b.c.d, deprecated; includes :: and ::1) and SIIT-translated
  // (::ffff:0:a.b.c.d) addresses carry an IPv4 address a stack or translator may act on.
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): the site's own translator
  ['100::', 64], // discard
  ['2001::', 32], // Teredo: tunnels to an IPv4 address
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
  ['fc00::', 7], // unique local (incl. fd00:ec2::254 metadata)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routed inside some networks)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** Why an address may not be fetched from, or undefined when it may. */
export function forbiddenAddressReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return `not an IP address: ${address}`;
  if (family === 6) {
    const lower = address.toLowerCase();
    // IPv4 inside IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96) is judged by its IPv4 part.
    const embedded = embeddedIPv4(lower);
    if (embedded) return forbiddenAddressReason(embedded);
    if (blocked.check(lower, 'ipv6')) return `${address} is a loopback, private, link-local or reserved address`;
    return undefined;
  }
  if (blocked.check(address, 'ipv4')) return `${address} is a loopback, private, link-local or reserved address`;
  return undefined;
}

/**
 * The IPv4 address an IPv6 address stands for, if it embeds one a stack, translator or relay acts
 * on: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::).
 */
function embeddedIPv4(v6: string): string | undefined {
  const g = ipv6Groups(v6);
  if (!g) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) return v4(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address in any spelling (compressed, dotted tail), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const b = dotted.slice(1).map(Number);
    if (b.some((x) => x > 255)) return undefined;
    text = `${text.slice(0, dotted.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (h: string) => (h === '' ? [] : h.split(':'));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((x) => !/^[0-9a-f]{1,4}$/.test(x))) return undefined;
  return groups.map((x) => parseInt(x, 16));
}

export class NetworkPolicy {
  readonly options: NetworkPolicyOptions;
  private readonly allowed: Set<string>;
  /**
   * The rules an answer is fetched under, for a cache shared between renders (asset-cache.ts): two
   * policies of one scope fetch a URL alike.
   */
  readonly scope: string;
  private requests = 0;
  private totalBytes = 0;

  constructor(options: Partial<NetworkPolicyOptions> = {}) {
    this.options = { ...DEFAULT_POLICY, ...options };
    this.allowed = new Set(this.options.allowOrigins.map(normaliseOrigin));
    this.scope = JSON.stringify([[...this.allowed].sort(), this.options.maxResponseBytes]);
  }

  /** Checks scheme and, unless the origin is allow-listed, every address the host resolves to; returns the address to connect to. */
  async vet(url: URL, signal?: AbortSignal): Promise<{ address: string; family: number } | undefined> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RasterizerError('network_policy', `scheme ${url.protocol} is not fetched`);
    if (url.username || url.password) throw new RasterizerError('network_policy', 'URLs with credentials are not fetched');
    if (this.allowed.has(url.origin)) return undefined;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const reason = forbiddenAddressReason(host);
      if (reason) throw new RasterizerError('network_policy', reason);
      return { address: host, family: isIP(host) };
    }
    let addresses: { address: string; family: number }[];
    try {
      // getaddrinfo cannot be cancelled and can take many seconds; the fetch's deadline covers it.
      addresses = await withDeadline(dnsLookup(host, { all: true, verbatim: true }), Infinity, `resolving ${host}`, signal);
    } catch (err) {
      if (signal?.aborted) throw new RasterizerError('network_policy', `timed out resolving ${host}`);
      throw new RasterizerError('network_policy', `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (addresses.length === 0) throw new RasterizerError('network_policy', `${host} has no addresses`);
    for (const a of addresses) {
      const reason = forbiddenAddressReason(a.address);
      if (reason) throw new RasterizerError('network_policy', `${host} resolves to ${reason}`);
    }
    return addresses[0];
  }

  /** Fetches a URL under the policy, following redirects hop by hop. */
  async fetch(rawUrl: string, signal?: AbortSignal): Promise<FetchedAsset> {
    if (++this.requests > this.options.maxRequests) throw new RasterizerError('network_policy', `more than ${this.options.maxRequests} requests in one render`);
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new RasterizerError('network_policy', `not a URL: ${rawUrl.slice(0, 200)}`);
    }
    const deadline = AbortSignal.timeout(this.options.requestTimeoutMs);
    const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
    for (let hop = 0; ; hop++) {
      const pinned = await this.vet(url, abort);
      const res = await this.request(url, pinned, abort);
      if (res.status >= 300 && res.status < 400 && res.location) {
        if (hop >= this.options.maxRedirects) throw new RasterizerError('network_policy', `more than ${this.options.maxRedirects} redirects`);
        try {
          url = new URL(res.location, url);
        } catch {
          throw new RasterizerError('network_policy', `redirect to something that is not a URL: ${res.location.slice(0, 200)}`);
        }
        continue;
      }
      return { status: res.status, contentType: res.contentType, body: res.body, finalUrl: url.href, headers: res.headers };
    }
  }

  /**
   * Counts bytes against the render's total as they arrive, so concurrent responses cannot each
   * stay under the per-response cap while together holding far more than the total in memory.
   */
  private take(bytes: number): boolean {
    this.totalBytes += bytes;
    return this.totalBytes <= this.options.maxTotalBytes;
  }

  private request(url: URL, pinned: { address: string; family: number } | undefined, signal: AbortSignal): Promise<Answer> {
    // Connect to the address we vetted, so a second DNS answer cannot point us elsewhere.
    const lookup: LookupFunction | undefined = pinned
      ? (_host, opts, cb) => {
          if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
          else cb(null, pinned.address, pinned.family);
        }
      : undefined;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const headers = { 'user-agent': 'replay-rasterizer', accept: '*/*', 'accept-encoding': 'identity' };
      const req = mod.request(url, { method: 'GET', lookup, signal, headers }, (res) => this.readAnswer(req, res, resolve, reject));
      req.on('error', (err) => reject(signal.aborted ? new RasterizerError('network_policy', `timed out after ${this.options.requestTimeoutMs} ms`) : err));
      req.end();
    });
  }

  /** A redirect as it is; a body counted against the response's cap and the render's total as it arrives. */
  private readAnswer(req: http.ClientRequest, res: http.IncomingMessage, resolve: (a: Answer) => void, reject: (e: Error) => void): void {
    const max = this.options.maxResponseBytes;
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    const refuse = (why: string) => {
      req.destroy();
      reject(new RasterizerError('network_policy', why));
    };
    if (status >= 300 && status < 400 && location) {
      res.resume();
      resolve({ status, location, body: Buffer.alloc(0), headers: res.headers });
      return;
    }
    const declared = Number(res.headers['content-length']);
    if (declared > max) return refuse(`response of ${declared} bytes is over the ${max}-byte cap`);
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) return refuse(`response is over the ${max}-byte cap`);
      if (!this.take(c.length)) return refuse(`over ${this.options.maxTotalBytes} bytes of assets in one render`);
      chunks.push(c);
    });
    res.on('end', () => resolve({ status, contentType: res.headers['content-type'], body: Buffer.concat(chunks), headers: res.headers }));
    res.on('error', reject);
  }
}
