import { lookup } from 'node:dns/promises';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../service/build.js';
import { startCanary, type CanaryServer } from '../support/canary-server.js';
import { injectVectorsAsMutation, injectVectorsIntoSnapshot } from '../support/hostile-recordings.js';
import { addressSpellings, legitimateVectors, scriptVectors, ssrfVectors, type Vector } from '../support/hostile-vectors.js';
import type { RawEvent } from '../support/rrweb-inject.js';
import { killAllLaunched, launchService, waitHealthy, type ServiceProcess } from '../support/service-procs.js';
import { uniqueName } from '../service/env.js';
import { createStack, enqueueMoment, expectBucketMatchesDoneRows, expectDoneOnce, freePort, report, row, waitSettled, TEAM, type Stack } from './stack.js';

/**
 * Hostile recordings through the real service: the engine-level suites (test/hostile-*.test.ts,
 * test/network-policy-hostile.test.ts) try every vector three ways with Node and Chromium net-log
 * oracles; here the same vector lists (test/support/hostile-vectors.ts) are written into the example
 * recording, put in the workers' recordings directory and posted to the HTTP endpoint. A loopback
 * canary that is not allow-listed must hear nothing, no script may ping the allow-listed origin,
 * while that origin's legitimate assets do load (so the replay could reach it). A control worker
 * that allow-lists the canary shows the SSRF vectors are live through the service.
 */

const root = join(import.meta.dirname, '..', '..');

let stack: Stack;
let allowed: CanaryServer;
let canary: CanaryServer;
let base: string;
let controlBase: string;
const processes: ServiceProcess[] = [];
const sessions: Record<string, string> = {};

async function loopbackNames(): Promise<string[]> {
  const names: string[] = [];
  for (const name of [hostname()]) {
    try {
      const all = await lookup(name, { all: true });
      if (all.length && all.every((a) => /^127\.|^::1$/.test(a.address))) names.push(name);
    } catch {
      // not resolvable here
    }
  }
  return names.filter((n) => n !== 'localhost');
}

async function journey(): Promise<RawEvent[]> {
  const text = gunzipSync(await readFile(join(root, 'examples', 'journey.json.gz'))).toString('utf8').trim();
  return (text.startsWith('[') ? JSON.parse(text) : text.split('\n').map((l) => JSON.parse(l))) as RawEvent[];
}

beforeAll(async () => {
  await ensureBuilt();
  stack = await createStack();
  allowed = await startCanary();
  canary = await startCanary();
  const u = (id: string) => `${canary.origin}/c/${id}/x`;
  const ran = (id: string) => `${allowed.origin}/script-ran?case=${id}`;
  const spellings = addressSpellings(canary.port, await loopbackNames(), canary.ipv6);
  const extra: Vector[] = [
    ...spellings.map((s): Vector => ({ id: s.id, parent: 'body', recordable: false, pieces: [{ tag: 'img', attrs: { src: `${s.origin}/c/${s.id}/x.png` } }] })),
    { id: 'file-img', parent: 'body', recordable: false, pieces: [{ tag: 'img', attrs: { src: 'file:///etc/hostname' } }] },
    { id: 'file-iframe', parent: 'body', recordable: false, pieces: [{ tag: 'iframe', attrs: { src: 'file:///etc/' } }] },
    { id: 'file-css', parent: 'body', recordable: false, pieces: [{ tag: 'div', attrs: { style: 'width:20px;height:20px;background:url(file:///etc/hostname)' } }] },
  ];
  const ssrf = [...ssrfVectors(u, allowed.origin), ...extra, ...legitimateVectors(allowed.origin)];
  const scripts = [...scriptVectors(ran, allowed.origin), ...legitimateVectors(allowed.origin)];
  const events = await journey();
  const files: Record<string, RawEvent[]> = {
    'ssrf-snapshot': injectVectorsIntoSnapshot(events, ssrf),
    'ssrf-mutation': injectVectorsAsMutation(events, ssrf),
    'scripts-snapshot': injectVectorsIntoSnapshot(events, scripts),
    'scripts-mutation': injectVectorsAsMutation(events, scripts),
  };
  for (const [name, ev] of Object.entries(files)) {
    sessions[name] = `hostile-${name}`;
    await writeFile(join(stack.dir, String(TEAM), `${sessions[name]}.json`), JSON.stringify(ev));
  }
  sessions.vectors = String(ssrf.length + scripts.length);

  const [port, controlPort, m1, m2] = [await freePort(), await freePort(), await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  controlBase = `http://127.0.0.1:${controlPort}`;
  const server = launchService('server', stack.env({ PORT: String(port), PUBLIC_BASE_URL: base }));
  const worker = launchService('worker', stack.env({ WORKER_METRICS_PORT: String(m1), ALLOWED_ORIGINS: allowed.origin }), 'worker');
  // The control: its own queue, and the canary allow-listed too.
  const controlEnv = { QUEUE_PREFIX: uniqueName('bull'), ALLOWED_ORIGINS: `${allowed.origin},${canary.origin}` };
  const controlServer = launchService('server', stack.env({ ...controlEnv, PORT: String(controlPort), PUBLIC_BASE_URL: controlBase }), 'control-server');
  const controlWorker = launchService('worker', stack.env({ ...controlEnv, WORKER_METRICS_PORT: String(m2) }), 'control-worker');
  processes.push(server, worker, controlServer, controlWorker);
  await Promise.all([
    waitHealthy(server, `${base}/healthz`),
    waitHealthy(worker, `http://127.0.0.1:${m1}/healthz`),
    waitHealthy(controlServer, `${controlBase}/healthz`),
    waitHealthy(controlWorker, `http://127.0.0.1:${m2}/healthz`),
  ]);
});

afterAll(async () => {
  await killAllLaunched();
  await Promise.allSettled([allowed?.close(), canary?.close()]);
  await stack?.close();
});

describe('hostile recordings through the service', () => {
  it('SSRF and script vectors: the canary hears nothing, no script runs, legitimate assets load', async () => {
    canary.reset();
    allowed.reset();
    const ids: Record<string, number> = {};
    for (const name of ['ssrf-snapshot', 'ssrf-mutation', 'scripts-snapshot', 'scripts-mutation']) {
      ids[name] = await enqueueMoment(base, { session: sessions[name], start: 0, end: 4, fps: 5, width: 400 });
    }
    for (const [name, id] of Object.entries(ids)) {
      await waitSettled(stack, id, 120_000);
      const r = await row(stack, id);
      expect(r?.status, `${name}: ${r?.error}`).toBe('done');
      await expectDoneOnce(stack, id, [processes[1]!]);
    }
    // Anything the page started late has had time to arrive.
    await new Promise((res) => setTimeout(res, 500));
    const canaryHits = canary.requests.length;
    const canaryConnections = canary.connections;
    const scriptPings = allowed.hits('/script-ran').length;
    const legit = allowed.hits('/ok/').length;
    expect(canary.requests, 'requests that reached the canary').toEqual([]);
    expect(canaryConnections, 'TCP connections to the canary').toBe(0);
    expect(allowed.hits('/script-ran'), 'pings from scripts that ran').toEqual([]);
    expect(legit, 'legitimate assets of the allowed origin loaded').toBeGreaterThan(0);
    await expectBucketMatchesDoneRows(stack);

    // Control: the same SSRF recordings on a worker that allow-lists the canary do reach it.
    canary.reset();
    const controlIds = [
      await enqueueMoment(controlBase, { session: sessions['ssrf-snapshot'], start: 0, end: 4, fps: 5, width: 400 }),
      await enqueueMoment(controlBase, { session: sessions['ssrf-mutation'], start: 0, end: 4, fps: 5, width: 400 }),
    ];
    for (const id of controlIds) {
      const deadline = Date.now() + 120_000;
      while ((await row(stack, id))?.status !== 'done') {
        if (Date.now() > deadline) throw new Error(`control asset ${id} did not finish`);
        await new Promise((res) => setTimeout(res, 200));
      }
    }
    await new Promise((res) => setTimeout(res, 500));
    const controlCases = [...new Set(canary.requests.map((r) => r.path.split('/')[2]))];
    expect(controlCases.length, 'vectors that reached the canary once it was allowed').toBeGreaterThan(10);
    report('hostile recordings through the service', {
      tried: Object.keys(ids).length,
      passed: Object.keys(ids).length,
      lost: 0,
      vectors_injected: Number(sessions.vectors),
      canary_requests: canaryHits,
      canary_connections: canaryConnections,
      script_pings: scriptPings,
      legitimate_asset_requests: legit,
      control_cases_reaching_canary_when_allowed: controlCases.length,
    });
  });
});
