import dc from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../../src/render/browser.js';

/**
 * Two independent witnesses of network traffic during a render, so a hostile recording's request
 * cannot escape by a path the canary server would not see (a connection to an address where nothing
 * of ours listens, or a socket the browser opens without sending a request).
 */

export interface NodeConnection {
  /** The address actually connected to (or attempted, for an error). */
  address: string | undefined;
  port: number | undefined;
  outcome: 'connect' | 'error' | 'pending';
}

/**
 * Every TCP connection Node's `net` opens from now on (the network policy's fetches are the only
 * ones a render makes; Playwright talks to the browser over a pipe).
 */
export function watchNodeSockets(): { connections: NodeConnection[]; created: () => number; stop(): void } {
  const connections: NodeConnection[] = [];
  let created = 0;
  const onSocket = (message: unknown) => {
    const socket = (message as { socket: import('node:net').Socket }).socket;
    created++;
    const entry: NodeConnection = { address: undefined, port: undefined, outcome: 'pending' };
    connections.push(entry);
    socket.once('connect', () => {
      entry.address = socket.remoteAddress;
      entry.port = socket.remotePort;
      entry.outcome = 'connect';
    });
    socket.once('error', (err: NodeJS.ErrnoException & { address?: string; port?: number }) => {
      if (entry.outcome !== 'pending') return;
      entry.address = err.address;
      entry.port = err.port;
      entry.outcome = 'error';
    });
  };
  dc.subscribe('net.client.socket', onSocket);
  return { connections, created: () => created, stop: () => dc.unsubscribe('net.client.socket', onSocket) };
}

export interface NodeRequest {
  url: string;
  /** Address the request's socket is connected to (a reused keep-alive socket included). */
  address: string | undefined;
  port: number | undefined;
}

/**
 * Every HTTP(S) request Node makes from now on, with the address its socket is connected to. Node
 * keeps sockets alive between requests, so counting new sockets alone would miss a request sent
 * on an old one; this sees each request.
 */
export function watchNodeRequests(): { requests: NodeRequest[]; stop(): void } {
  const requests: NodeRequest[] = [];
  const originals = [http.request, https.request] as const;
  const wrap = (mod: typeof http | typeof https, original: typeof http.request) =>
    function (this: unknown, ...args: unknown[]) {
      const req = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
      const first = args[0];
      const url = first instanceof URL ? first.href : typeof first === 'string' ? first : JSON.stringify(first);
      const entry: NodeRequest = { url, address: undefined, port: undefined };
      requests.push(entry);
      req.once('socket', (socket) => {
        const note = () => {
          entry.address = socket.remoteAddress;
          entry.port = socket.remotePort;
        };
        if (socket.remoteAddress) note();
        else socket.once('connect', note);
      });
      return req;
    } as typeof http.request;
  http.request = wrap(http, originals[0]);
  https.request = wrap(https, originals[1] as typeof http.request);
  return {
    requests,
    stop() {
      http.request = originals[0];
      https.request = originals[1];
    },
  };
}

/** A browser like the renderer's (same flags) that also writes Chromium's NetLog to `path`. */
export function launchLoggedBrowser(path: string): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, `--log-net-log=${path}`], headless: true });
}

export interface NetLogSummary {
  /** Addresses the browser's network stack tried to open a TCP connection to. */
  connectAttempts: string[];
  /** Host names it resolved. */
  resolves: string[];
  /** URLs it started real network jobs for (requests the asset proxy fulfils never get one). */
  urlJobs: string[];
}

/** Reads a NetLog written by a browser that has been closed (the file is complete only then). */
export async function readNetLog(path: string): Promise<NetLogSummary> {
  const log = JSON.parse(await readFile(path, 'utf8')) as {
    constants: { logEventTypes: Record<string, number> };
    events: { type: number; phase?: number; params?: Record<string, unknown> }[];
  };
  const names = new Map(Object.entries(log.constants.logEventTypes).map(([k, v]) => [v, k]));
  const out: NetLogSummary = { connectAttempts: [], resolves: [], urlJobs: [] };
  for (const e of log.events) {
    const name = names.get(e.type);
    // phase 1 = BEGIN: the params name the target.
    if (e.phase !== 1 || !e.params) continue;
    // UDP connects are left out: Chromium's IPv6 reachability probe "connects" a UDP socket to a
    // public resolver (no packet is sent) whenever it resolves a name, which only the control does.
    if (name === 'TCP_CONNECT_ATTEMPT') out.connectAttempts.push(String(e.params.address));
    else if (name === 'HOST_RESOLVER_MANAGER_REQUEST') out.resolves.push(String(e.params.host));
    else if (name === 'URL_REQUEST_START_JOB') out.urlJobs.push(String(e.params.url));
  }
  return out;
}
