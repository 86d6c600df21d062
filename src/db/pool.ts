import pg from 'pg';

export type Pool = pg.Pool;

/**
 * A pg pool; an idle client's error (a restarted server) is logged instead of crashing the process.
 * pg waits for an answer forever by default, so a PostgreSQL behind a partition (connection open,
 * nothing coming back) would hold a job's last statement, and the job, forever: each query gets
 * `queryTimeoutMs` (its client is then dropped from the pool), a new connection as long (at most
 * 10 s), and TCP keepalive notices dead peers of idle clients.
 */
export function createPool(url: string, max: number, queryTimeoutMs: number, onError: (err: Error) => void = () => {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: Math.min(10_000, queryTimeoutMs),
    idleTimeoutMillis: 30_000,
    query_timeout: queryTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  pool.on('error', onError);
  return pool;
}
