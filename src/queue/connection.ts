import type { ConnectionOptions } from 'bullmq';

/**
 * BullMQ connection options from REDIS_URL. Workers block on Redis and need retries without a cap
 * (BullMQ enforces maxRetriesPerRequest: null for them). Producers and the HTTP server must fail a
 * request at once while Redis is away, not hold it: no offline queue (ioredis would keep commands
 * until Redis answers, forever when it was never reachable).
 */
export function redisConnection(url: string, role: 'worker' | 'producer'): ConnectionOptions {
  return role === 'worker' ? { url, maxRetriesPerRequest: null } : { url, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 };
}
