import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

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

export class PolicyRefusal extends Error {
  override readonly name = 'PolicyRefusal';
}

export interface FetchedAsset {
  status: number;
  contentType: string | undefined;
  body: Buffer;
  finalUrl: string;
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
  ['::', 128],
  ['::1', 128],
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (incl. fd00:ec2::254 metadata)
  ['fe80::', 10], // link-local
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

function embeddedIPv4(v6: string): string | undefined {
  const dotted = /^(?:::ffff:|::ffff:0:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** `scheme://host[:port]` with default ports dropped, as URL.origin spells it. */
export function normaliseOrigin(origin: string): string {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    throw new PolicyRefusal(`not an origin: ${origin}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PolicyRefusal(`allowed origins must be http(s): ${origin}`);
  return u.origin;
}

export class NetworkPolicy {
  readonly options: NetworkPolicyOptions;
  private readonly allowed: Set<string>;
  private requests = 0;
  private totalBytes = 0;

  constructor(options: Partial<NetworkPolicyOptions> = {}) {
    this.options = { ...DEFAULT_POLICY, ...options };
    this.allowed = new Set(this.options.allowOrigins.map(normaliseOrigin));
  }

  /** Checks scheme and, unless the origin is allow-listed, every address the host resolves to; returns the address to connect to. */
  async vet(url: URL): Promise<{ address: string; family: number } | undefined> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PolicyRefusal(`scheme ${url.protocol} is not fetched`);
    if (url.username || url.password) throw new PolicyRefusal('URLs with credentials are not fetched');
    if (this.allowed.has(url.origin)) return undefined;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const reason = forbiddenAddressReason(host);
      if (reason) throw new PolicyRefusal(reason);
      return { address: host, family: isIP(host) };
    }
    let addresses: { address: string; family: number }[];
    try {
      addresses = await dnsLookup(host, { all: true, verbatim: true });
    } catch (err) {
      throw new PolicyRefusal(`cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (addresses.length === 0) throw new PolicyRefusal(`${host} has no addresses`);
    for (const a of addresses) {
      const reason = forbiddenAddressReason(a.address);
      if (reason) throw new PolicyRefusal(`${host} resolves to ${reason}`);
    }
    return addresses[0];
  }

  /** Fetches a URL under the policy, following redirects hop by hop. */
  async fetch(rawUrl: string, signal?: AbortSignal): Promise<FetchedAsset> {
    if (++this.requests > this.options.maxRequests) throw new PolicyRefusal(`more than ${this.options.maxRequests} requests in one render`);
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new PolicyRefusal(`not a URL: ${rawUrl.slice(0, 200)}`);
    }
    const deadline = AbortSignal.timeout(this.options.requestTimeoutMs);
    const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
    for (let hop = 0; ; hop++) {
      const pinned = await this.vet(url);
      const res = await this.request(url, pinned, abort);
      if (res.status >= 300 && res.status < 400 && res.location) {
        if (hop >= this.options.maxRedirects) throw new PolicyRefusal(`more than ${this.options.maxRedirects} redirects`);
        url = new URL(res.location, url);
        continue;
      }
      this.totalBytes += res.body.length;
      if (this.totalBytes > this.options.maxTotalBytes) throw new PolicyRefusal(`over ${this.options.maxTotalBytes} bytes of assets in one render`);
      return { status: res.status, contentType: res.contentType, body: res.body, finalUrl: url.href };
    }
  }

  private request(
    url: URL,
    pinned: { address: string; family: number } | undefined,
    signal: AbortSignal,
  ): Promise<{ status: number; contentType?: string; location?: string; body: Buffer }> {
    const max = this.options.maxResponseBytes;
    // Connect to the address we vetted, so a second DNS answer cannot point us elsewhere.
    const lookup: LookupFunction | undefined = pinned
      ? (_host, opts, cb) => {
          if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
          else cb(null, pinned.address, pinned.family);
        }
      : undefined;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method: 'GET',
          lookup,
          signal,
          headers: { 'user-agent': 'replay-rasterizer', accept: '*/*', 'accept-encoding': 'identity' },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const location = res.headers.location;
          if (status >= 300 && status < 400 && location) {
            res.resume();
            resolve({ status, location, body: Buffer.alloc(0) });
            return;
          }
          const declared = Number(res.headers['content-length']);
          if (declared > max) {
            req.destroy();
            reject(new PolicyRefusal(`response of ${declared} bytes is over the ${max}-byte cap`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > max) {
              req.destroy();
              reject(new PolicyRefusal(`response is over the ${max}-byte cap`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status, contentType: res.headers['content-type'], body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', (err) => reject(signal.aborted ? new PolicyRefusal(`timed out after ${this.options.requestTimeoutMs} ms`) : err));
      req.end();
    });
  }
}
