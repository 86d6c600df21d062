import { UnrecoverableError, type JobsOptions } from 'bullmq';
import { isInputError } from '../recording/errors.js';
import { PolicyRefusal } from '../render/network-policy.js';

/**
 * Where a job is retried. Bad input (an unreadable or missing recording, offsets outside it, a
 * refused origin) fails at once; anything else (a browser crash, S3 or PostgreSQL trouble, a
 * timeout) is retried with exponential backoff up to `attempts` times.
 */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

export function jobOptions(policy: RetryPolicy, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs, jitter: 0.2 },
    // Completed jobs are only needed for deduplication and status for a while; the row holds the result.
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    // Failed jobs stay long enough for the cleanup sweep to find them even if no producer was listening.
    removeOnFail: { age: 14 * 24 * 3600, count: 50_000 },
  };
}

export function isPermanent(err: unknown): boolean {
  return isInputError(err) || err instanceof PolicyRefusal || err instanceof UnrecoverableError || (err instanceof Error && err.name === 'UnrecoverableError');
}

/** The error the processor throws to BullMQ: UnrecoverableError stops retries. */
export function toJobError(err: unknown): Error {
  if (err instanceof UnrecoverableError) return err;
  if (isPermanent(err)) return new UnrecoverableError((err as Error).message);
  return err instanceof Error ? err : new Error(String(err));
}
