import type { ConnectionOptions } from 'bullmq';

/**
 * BullMQ connection options from REDIS_URL. Workers block on Redis and need retries without a cap
 * (BullMQ enforces maxRetriesPerRequest: null for them); producers and the HTTP server should fail
 * a request fast rather than queue it while Redis is away.
 */
export function redisConnection(url: string, role: 'worker' | 'producer'): ConnectionOptions {
  return role === 'worker' ? { url, maxRetriesPerRequest: null } : { url, maxRetriesPerRequest: 2, enableOfflineQueue: true };
}
