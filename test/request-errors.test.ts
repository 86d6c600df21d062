import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE } from '../src/cli/exit-codes.js';
import { ERROR_CATALOGUE, ERROR_CODES, InputError, RasterizerError, isInputError, toRasterizerError } from '../src/errors.js';
import { HTTP_STATUS } from '../src/http/errors.js';
import { jobDataSchema, parseJobData } from '../src/queue/job.js';
import { toJobError } from '../src/queue/retry.js';
import { flagName, wireName } from '../src/request/fields.js';
import { wireMomentRequest } from '../src/request/moment.js';
import { parseRequest } from '../src/request/parse.js';
import { parseRenderRequest } from '../src/request/render.js';
import { enforceBudget } from '../src/render/budget-guard.js';
import { cacheSuccesses } from '../src/util/cache.js';
import { withDeadline } from '../src/util/deadline.js';

/** What each edge makes of one error. */
function atEdges(err: RasterizerError) {
  return { http: err.describe(wireName), cli: err.describe(flagName), inside: err.message };
}

describe('one request model', () => {
  it('names a field by its wire name on HTTP, its flag in the CLI, its camelCase name inside, from one neutral message', () => {
    const err = (() => {
      try {
        parseRenderRequest({ startS: 20, endS: 10, playbackSpeed: 0, fps: 10, width: 800, footer: false, maxDurationS: 600 });
      } catch (e) {
        return e as RasterizerError;
      }
      throw new Error('no error');
    })();
    expect(err.code).toBe('invalid_request');
    expect(err.fields).toEqual({ playbackSpeed: 'must be above 0 and at most 16', endS: '(10 s) must be after {startS} (20 s)' });
    expect(atEdges(err)).toEqual({
      http: 'playback_speed must be above 0 and at most 16; end_offset_s (10 s) must be after start_offset_s (20 s)',
      cli: '--speed must be above 0 and at most 16; --end (10 s) must be after --start (20 s)',
      inside: 'playbackSpeed must be above 0 and at most 16; endS (10 s) must be after startS (20 s)',
    });
  });

  it('parses the wire into inside names, and a job back and forth without loss', () => {
    const moment = parseRequest(wireMomentRequest, { team_id: 1, session_id: 's', start_offset_s: 1, end_offset_s: 2, playback_speed: 2, max_bytes: 8192 });
    expect(moment).toEqual({ teamId: 1, sessionId: 's', startS: 1, endS: 2, playbackSpeed: 2, maxBytes: 8192 });
    const job = parseJobData({ asset_id: 3, team_id: 1, session_id: 's', start_offset_s: 1, end_offset_s: 2 });
    // Jobs written before byte budgets existed get the service's budget and the other defaults.
    expect(job).toEqual({ assetId: 3, teamId: 1, sessionId: 's', startS: 1, endS: 2, options: { fps: 10, width: 800, playbackSpeed: 1, footer: false, maxBytes: 1048576 } });
    expect(jobDataSchema.safeParse({ asset_id: 3, team_id: 1, session_id: 's', start_offset_s: 2, end_offset_s: 2 }).success).toBe(false);
  });
});

describe('one error type', () => {
  it('maps every code once to an HTTP status and a CLI exit code; retryable ones are never 4xx or exit 2', () => {
    for (const code of ERROR_CODES) {
      expect(HTTP_STATUS[code], code).toBeGreaterThanOrEqual(400);
      const { retryable } = ERROR_CATALOGUE[code];
      if (retryable) {
        expect(HTTP_STATUS[code], code).toBeGreaterThanOrEqual(500);
        expect(EXIT_CODE[code], code).toBe(1);
      } else {
        expect(EXIT_CODE[code], code).toBe(2);
      }
    }
    expect(HTTP_STATUS.queue_unavailable).toBe(503);
    expect(HTTP_STATUS.over_budget).toBe(400);
  });

  it('decides the BullMQ outcome from retryable: UnrecoverableError for input, the error itself otherwise', () => {
    const over = toJobError(new InputError('the GIF is 2000000 bytes, over its budget of 1048576 bytes', 'over_budget'));
    expect(over.error).toBeInstanceOf(UnrecoverableError);
    expect(over.cause.code).toBe('over_budget');
    const field = toJobError(new RasterizerError('invalid_request', undefined, { fields: { startS: '(80 s) is at or past the end of the recording (72.80 s long)' } }));
    expect(field.message).toBe('start_offset_s (80 s) is at or past the end of the recording (72.80 s long)');
    const crash = toJobError(new Error('socket hang up'));
    expect(crash.error).not.toBeInstanceOf(UnrecoverableError);
    expect(crash.cause).toMatchObject({ code: 'internal', retryable: true });
  });

  it('keeps InputError for the engine: not retryable, invalid_recording unless a code is given', () => {
    expect(new InputError('recording is empty')).toMatchObject({ code: 'invalid_recording', retryable: false });
    expect(isInputError(new InputError('x', 'over_budget'))).toBe(true);
    expect(isInputError(toRasterizerError(new Error('x')))).toBe(false);
  });
});

describe('byte budget at the edges', () => {
  const gif = (n: number) => Buffer.alloc(n);
  it('passes the engine\'s steps on, says [] when nothing was needed and null without a budget', () => {
    expect(enforceBudget({ gif: gif(900), budget: { maxBytes: 1000, bytesBefore: 1800, bytesAfter: 900, steps: ['lossy:40', 'colors:128'], encodes: 2, twoThreadEncodes: 0 } }, 1000)).toEqual(['lossy:40', 'colors:128']);
    expect(enforceBudget({ gif: gif(900), budget: { maxBytes: 1000, bytesBefore: 900, bytesAfter: 900, steps: [], encodes: 1, twoThreadEncodes: 0 } }, 1000)).toEqual([]);
    expect(enforceBudget({ gif: gif(900) }, 1000)).toEqual([]);
    expect(enforceBudget({ gif: gif(900) }, undefined)).toBeNull();
  });
  it('never hands out a GIF over its budget', () => {
    expect(() => enforceBudget({ gif: gif(1200) }, 1000)).toThrow(expect.objectContaining({ code: 'over_budget', retryable: false }));
    expect(() => enforceBudget({ gif: gif(1200), budget: { maxBytes: 1000, bytesBefore: 5000, bytesAfter: 1200, steps: ['lossy:80'], encodes: 3, twoThreadEncodes: 0 } }, 1000)).toThrow(/1200 bytes, over its budget of 1000 bytes after lossy:80/);
  });
});

describe('withDeadline and cacheSuccesses', () => {
  it('settles as the work does, rejects at the deadline with the code asked for, or with the signal\'s reason', async () => {
    expect(await withDeadline(Promise.resolve(5), 1000, 'x')).toBe(5);
    await expect(withDeadline(new Promise(() => {}), 20, 'the capture', undefined, 'page_unresponsive')).rejects.toMatchObject({ code: 'page_unresponsive', message: 'the capture did not finish within 20 ms' });
    const abort = new AbortController();
    const waiting = withDeadline(new Promise(() => {}), Infinity, 'x', abort.signal);
    abort.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
  });

  it('does not keep a failure: the next call tries again (the player bundle\'s bug)', async () => {
    let calls = 0;
    const load = cacheSuccesses(async (k: string) => {
      calls++;
      if (calls === 1) throw new Error('esbuild failed');
      return `${k}!`;
    });
    await expect(load('posthog')).rejects.toThrow('esbuild failed');
    expect(await load('posthog')).toBe('posthog!');
    expect(await load('posthog')).toBe('posthog!');
    expect(calls).toBe(2);
  });
});
