import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (Redis, PostgreSQL, S3), switchable at run time
 * to the ways a network dependency fails, so that "unavailable for a while" and "timing out" are real
 * network behaviour seen by the real clients:
 *
 * - `pass`: forwards both ways.
 * - `refuse`: new connections are reset as soon as they arrive (the client sees ECONNRESET, as from
 *   a server that is down or a firewall rejecting); existing ones keep working unless cut.
 * - `blackhole`: new connections are accepted and then nothing: what they send is dropped and nothing
 *   comes back (a partition or a hung server: the client only notices through its own timeouts).
 *   Existing connections stop forwarding too, both ways.
 * - `mute`: requests are forwarded, answers are dropped (the server acts, the client never hears:
 *   the nastiest kind of timeout, where a retry repeats something that already happened).
 *
 * `cut()` destroys every open connection (both sides), as a restart of the server or a network
 * reset would. Every decision is counted, so a test can show that its fault really happened.
 */
export type FaultMode = 'pass' | 'refuse' | 'blackhole' | 'mute';

export interface FaultProxyStats {
  /** Connections accepted in any mode. */
  accepted: number;
  /** Connections forwarded to the target (pass or mute at the time they arrived). */
  forwarded: number;
  /** Connections reset on arrival (refuse). */
  refused: number;
  /** Connections accepted into the black hole. */
  blackholed: number;
  /** Open connections destroyed by cut(). */
  cut: number;
  /** Chunks dropped (black hole, mute) and their bytes. */
  droppedChunks: number;
  droppedBytes: number;
  /** Bytes forwarded client to server and back. */
  bytesUp: number;
  bytesDown: number;
}

export interface FaultProxy {
  readonly port: number;
  readonly host: '127.0.0.1';
  readonly mode: FaultMode;
  /** Switches the mode for new connections and for what existing ones send from now on. */
  setMode(mode: FaultMode, options?: { cut?: boolean }): void;
  /** Destroys every open connection; returns how many there were. */
  cut(): number;
  /** Connections open right now. */
  open(): number;
  readonly stats: FaultProxyStats;
  /** Called with each chunk a client sends before the mode is applied (e.g. to act on an S3 PUT). */
  onClientData?: (chunk: Buffer) => void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream?: Socket;
}

export async function startFaultProxy(target: { host?: string; port: number }, options: { port?: number; mode?: FaultMode } = {}): Promise<FaultProxy> {
  const host = target.host ?? '127.0.0.1';
  let mode: FaultMode = options.mode ?? 'pass';
  const pairs = new Set<Pair>();
  const stats: FaultProxyStats = { accepted: 0, forwarded: 0, refused: 0, blackholed: 0, cut: 0, droppedChunks: 0, droppedBytes: 0, bytesUp: 0, bytesDown: 0 };

  const drop = (chunk: Buffer) => {
    stats.droppedChunks++;
    stats.droppedBytes += chunk.length;
  };

  const destroyPair = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  const server: Server = createServer((client) => {
    stats.accepted++;
    client.on('error', () => {});
    if (mode === 'refuse') {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client };
    pairs.add(pair);
    client.on('close', () => destroyPair(pair));
    if (mode === 'blackhole') {
      stats.blackholed++;
      client.on('data', (chunk: Buffer) => {
        handle.onClientData?.(chunk);
        drop(chunk);
      });
      return;
    }
    stats.forwarded++;
    const upstream = connect({ host, port: target.port });
    pair.upstream = upstream;
    upstream.on('error', () => destroyPair(pair));
    upstream.on('close', () => destroyPair(pair));
    client.on('data', (chunk: Buffer) => {
      handle.onClientData?.(chunk);
      if (mode === 'blackhole') return drop(chunk);
      stats.bytesUp += chunk.length;
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole' || mode === 'mute') return drop(chunk);
      stats.bytesDown += chunk.length;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const cut = () => {
    const n = pairs.size;
    stats.cut += n;
    for (const pair of [...pairs]) {
      pair.client.resetAndDestroy();
      pair.upstream?.resetAndDestroy();
      pairs.delete(pair);
    }
    return n;
  };

  const handle: FaultProxy = {
    port,
    host: '127.0.0.1',
    get mode() {
      return mode;
    },
    setMode(next, opts = {}) {
      mode = next;
      if (opts.cut) cut();
    },
    cut,
    open: () => pairs.size,
    stats,
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return handle;
}
