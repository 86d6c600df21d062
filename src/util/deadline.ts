import { RasterizerError, type ErrorCode } from '../errors.js';

/**
 * Settles as `work` does, or rejects when `ms` pass first (a RasterizerError with `code`, `timeout`
 * by default: "<what> did not finish within N s") or when `signal` aborts (with its reason). The
 * work itself runs on: a promise cannot be cancelled, only stopped being waited for. `ms` of
 * Infinity waits for the signal alone.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string, signal?: AbortSignal, code: ErrorCode = 'timeout'): Promise<T> {
  if (signal?.aborted) {
    work.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const timer = Number.isFinite(ms) ? setTimeout(() => reject(new RasterizerError(code, `${what} did not finish within ${formatSeconds(ms)}`)), ms) : undefined;
    const onAbort = () => reject(abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  });
}

/** True when `work` settled within `ms`, false when it did not (its outcome is then ignored). */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  try {
    await withDeadline(work.then(() => undefined, () => undefined), ms, 'work');
    return true;
  } catch {
    return false;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted'));
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
