import type { ErrorCode } from '../errors.js';

/**
 * Each error code's exit status, stated once: 2 for what the user gave us (fix the input and run
 * again), 1 for anything else (trying again may help).
 */
export const EXIT_CODE: Record<ErrorCode, 1 | 2> = {
  invalid_request: 2,
  invalid_json: 2,
  invalid_body: 2,
  too_large: 2,
  unsupported_media_type: 2,
  unauthorized: 2,
  invalid_token: 2,
  token_expired: 2,
  forbidden: 2,
  not_found: 2,
  not_ready: 2,
  invalid_config: 2,
  recording_not_found: 2,
  invalid_recording: 2,
  network_policy: 2,
  over_budget: 2,
  queue_unavailable: 1,
  page_unresponsive: 1,
  browser_crashed: 1,
  timeout: 1,
  internal: 1,
};
