import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (Redis, PostgreSQL, S3), switchable at run time
 * to the ways a network dependency fails, so that "unavailable for a while" and "timing out" are real
 * network behaviour seen by the real clients:
 *
 * - `pass`: forwards both ways.
 * - `refuse`: new connections are reset as soon as they arrive (the client sees ECONNRESET, as from a
 *   server that is down or a firewall rejecting); existing ones keep working unless cut.
 * - `blackhole`: a partition. Nothing moves either way: bytes sent are held (the sender's kernel
 *   buffers fill, as TCP flow control would), new connections are accepted but not connected on.
 *   The client notices only through its own timeouts. When the mode goes back to `pass`, what was
 *   held is delivered (TCP retransmits across a healed partition) to connections still open.
 * - `mute`: requests are delivered, answers are held (the server acts, the client does not hear: a
 *   retry after the client's timeout repeats something that already happened).
 *
 * `cut()` resets every open connection (both sides), as a restarted server or a network reset would.
 * Every decision is counted, so a test can show that its fault really happened.
 */
export type FaultMode = 'pass' | 'refuse' | 'blackhole' | 'mute';

export interface FaultProxyStats {
  /** Connections accepted in any mode. */
  accepted: number;
  /** Connections reset on arrival (refuse). */
  refused: number;
  /** Connections that arrived in a black hole. */
  blackholed: number;
  /** Open connections reset by cut(). */
  cut: number;
  /** Times a connection's lane was stopped by a black hole or mute (what it carried waits, unread). */
  holds: number;
  /** Bytes forwarded client to server and back. */
  bytesUp: number;
  bytesDown: number;
}

export interface FaultProxy {
  readonly port: number;
  readonly mode: FaultMode;
  /** Switches the mode for new connections and for what existing ones send from now on. */
  setMode(mode: FaultMode, options?: { cut?: boolean }): void;
  /** Resets every open connection; returns how many there were. */
  cut(): number;
  /** Connections open right now. */
  open(): number;
  readonly stats: FaultProxyStats;
  /** Called with each chunk a client sends, before the mode applies to it (e.g. to act on an S3 PUT). */
  onClientData?: (chunk: Buffer) => void;
  close(): Promise<void>;
}

/** One direction of a connection, which can be held: chunks queue up and the source stops being read. */
class Lane {
  held = false;
  private readonly queue: Buffer[] = [];
  private blocked = false;

  constructor(
    private readonly src: Socket,
    private dst: Socket | undefined,
    private readonly onHold: () => void,
    private readonly onSent: (chunk: Buffer) => void,
  ) {}

  setDestination(dst: Socket): void {
    this.dst = dst;
  }

  push(chunk: Buffer): void {
    if (this.held || !this.dst || this.queue.length > 0) {
      this.queue.push(chunk);
      this.src.pause();
      return;
    }
    this.write(chunk);
  }

  hold(): void {
    if (!this.held) this.onHold();
    this.held = true;
    this.src.pause();
  }

  release(): void {
    this.held = false;
    if (!this.dst) return;
    while (this.queue.length > 0 && !this.held) this.write(this.queue.shift()!);
    if (!this.blocked && !this.held) this.src.resume();
  }

  private write(chunk: Buffer): void {
    this.onSent(chunk);
    if (!this.dst!.write(chunk)) {
      this.blocked = true;
      this.src.pause();
      this.dst!.once('drain', () => {
        this.blocked = false;
        if (!this.held) this.src.resume();
      });
    }
  }
}

interface Pair {
  client: Socket;
  upstream?: Socket;
  up: Lane;
  down?: Lane;
}

export async function startFaultProxy(target: { host?: string; port: number }, options: { port?: number; mode?: FaultMode } = {}): Promise<FaultProxy> {
  const host = target.host ?? '127.0.0.1';
  let mode: FaultMode = options.mode ?? 'pass';
  const pairs = new Set<Pair>();
  const stats: FaultProxyStats = { accepted: 0, refused: 0, blackholed: 0, cut: 0, holds: 0, bytesUp: 0, bytesDown: 0 };
  const held = () => {
    stats.holds++;
  };

  const destroyPair = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  const connectUpstream = (pair: Pair) => {
    const upstream = connect({ host, port: target.port });
    pair.upstream = upstream;
    upstream.on('error', () => destroyPair(pair));
    upstream.on('close', () => destroyPair(pair));
    pair.down = new Lane(upstream, pair.client, held, (c) => (stats.bytesDown += c.length));
    upstream.on('data', (chunk: Buffer) => pair.down!.push(chunk));
    pair.up.setDestination(upstream);
    apply(pair);
  };

  /** Holds or releases a connection's lanes for the current mode. */
  const apply = (pair: Pair) => {
    if (mode === 'blackhole') {
      pair.up.hold();
      pair.down?.hold();
      return;
    }
    if (!pair.upstream) {
      // Held by a black hole that turned into a refusal: reset, as the server would.
      if (mode === 'refuse') {
        stats.refused++;
        pairs.delete(pair);
        pair.client.resetAndDestroy();
        return;
      }
      connectUpstream(pair);
      return;
    }
    pair.up.release();
    if (mode === 'mute') pair.down?.hold();
    else pair.down?.release();
  };

  const server: Server = createServer((client) => {
    stats.accepted++;
    client.on('error', () => {});
    if (mode === 'refuse') {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = {
      client,
      up: new Lane(client, undefined, held, (c) => (stats.bytesUp += c.length)),
    };
    pairs.add(pair);
    client.on('close', () => destroyPair(pair));
    client.on('data', (chunk: Buffer) => {
      handle.onClientData?.(chunk);
      pair.up.push(chunk);
    });
    if (mode === 'blackhole') {
      stats.blackholed++;
      pair.up.hold();
      return;
    }
    connectUpstream(pair);
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
      pairs.delete(pair);
      pair.client.resetAndDestroy();
      pair.upstream?.resetAndDestroy();
    }
    return n;
  };

  const handle: FaultProxy = {
    port,
    get mode() {
      return mode;
    },
    setMode(next, opts = {}) {
      mode = next;
      if (opts.cut) cut();
      for (const pair of [...pairs]) apply(pair);
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
