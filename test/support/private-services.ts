import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * Private Redis and PostgreSQL servers on free ports, for tests that stop, crash or restart them.
 * The machine's shared Redis (6379) and PostgreSQL (5432) are never touched. Each server keeps its
 * data in a temporary directory across restarts (Redis with an fsync-always AOF, so a crash loses
 * nothing it acknowledged) and removes it on close().
 */

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export interface PrivateServer {
  port: number;
  url: string;
  /** The server's process id right now (changes on restart). */
  readonly pid: number | undefined;
  /** Stops it: SIGTERM is a clean shutdown, SIGKILL a crash. Resolves when the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  /** How many times it was stopped. */
  readonly stops: number;
  close(): Promise<void>;
}

// --- Redis ---------------------------------------------------------------------------------------

async function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let buf = '';
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) {
        s.destroy();
        // "-LOADING" while it replays the AOF: not ready yet.
        resolve(buf.startsWith('+PONG'));
      }
    });
    s.once('error', () => resolve(false));
  });
}

export async function startPrivateRedis(): Promise<PrivateServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'rr-redis-'));
  let child: ChildProcess | undefined;
  let stops = 0;
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--dir', dir,
        '--appendonly', 'yes',
        '--appendfsync', 'always',
        '--save', '',
        '--daemonize', 'no',
        '--protected-mode', 'no',
        '--maxmemory-policy', 'noeviction',
        '--logfile', join(dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 20_000;
    while (!(await redisPing(port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} (see ${dir}/redis.log)`);
      if (Date.now() > deadline) throw new Error('redis-server did not answer PING in 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    get stops() {
      return stops;
    },
    async stop(signal = 'SIGTERM') {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = exited(child);
      child.kill(signal);
      await gone;
      stops++;
    },
    start,
    async close() {
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = exited(child);
        child.kill('SIGKILL');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// --- PostgreSQL ----------------------------------------------------------------------------------

/** initdb and postgres refuse to run as root: as root, they run as the `postgres` user. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run initdb and postgres as');
  }
}

function pgBinary(name: string): string {
  for (const dir of ['/usr/local/bin', '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin']) {
    try {
      execFileSync('test', ['-x', join(dir, name)]);
      return join(dir, name);
    } catch {
      // next
    }
  }
  return name;
}

export async function startPrivatePostgres(): Promise<PrivateServer> {
  const port = await freePort();
  const root = await mkdtemp(join(tmpdir(), 'rr-pg-'));
  const user = postgresUser();
  if (user) await chown(root, user.uid, user.gid);
  const data = join(root, 'data');
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };
  execFileSync(pgBinary('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
    ...asUser,
    env,
    cwd: root,
    stdio: 'pipe',
  });
  let child: ChildProcess | undefined;
  let stops = 0;
  let log = '';
  const start = async () => {
    child = spawn(
      pgBinary('postgres'),
      ['-D', data, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=100'],
      { ...asUser, env, cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-8000);
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}: ${log}`);
      const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, connectionTimeoutMillis: 1000 });
      const ok = await client.connect().then(
        () => client.end().then(() => true, () => true),
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections in 30 s: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    get pid() {
      return child?.pid;
    },
    get stops() {
      return stops;
    },
    /** SIGINT: fast shutdown (what `pg_ctl stop -m fast` sends); SIGQUIT: immediate; SIGKILL: a crash. */
    async stop(signal = 'SIGINT') {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = exited(child);
      child.kill(signal);
      await gone;
      stops++;
      if (signal === 'SIGKILL') {
        // The postmaster's children notice their parent is gone and exit; wait for the port to free.
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    start,
    async close() {
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = exited(child);
        child.kill('SIGQUIT');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}
