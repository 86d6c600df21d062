import type { ErrorRequestHandler, Response } from 'express';
import { namedFields, toRasterizerError, type ErrorCode, type RasterizerError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { wireName } from '../request/fields.js';

/** Each error code's HTTP status, stated once. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_body: 400,
  too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  invalid_token: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  not_ready: 404,
  invalid_config: 500,
  recording_not_found: 404,
  invalid_recording: 400,
  network_policy: 400,
  over_budget: 400,
  queue_unavailable: 503,
  page_unresponsive: 500,
  browser_crashed: 500,
  timeout: 503,
  internal: 500,
};

/** The body of every error answer: `{error, message, fields?, request_id?}`. */
export interface ErrorBody {
  error: ErrorCode;
  message: string;
  fields?: Record<string, string>;
  request_id?: string;
}

/**
 * Answers an error. A 4xx says what was wrong, naming fields as the wire does; a 5xx says only
 * that it was ours (or that the queue is away), with the request id to find the details in the
 * logs: internal messages (connection strings, stack frames) never reach a client.
 */
export function sendError(res: Response, err: RasterizerError, metrics?: Metrics): void {
  const status = HTTP_STATUS[err.code];
  const requestId = String(res.req.id ?? '');
  metrics?.errors.inc({ code: err.code });
  const body: ErrorBody =
    status < 500
      ? { error: err.code, message: err.describe(wireName), ...(err.fields ? { fields: namedFields(err, wireName) } : {}) }
      : { error: err.code, message: err.code === 'queue_unavailable' ? 'the queue is not reachable right now; nothing was created, try again' : 'something went wrong on our side; try again', request_id: requestId };
  if (err.code === 'unauthorized') res.set('www-authenticate', 'Bearer');
  res.status(status).json(body);
}

/** The app's last handler: every error thrown or passed on by a route ends here. */
export function errorHandler(metrics: Metrics): ErrorRequestHandler {
  return (thrown: unknown, req, res, _next) => {
    const err = toRasterizerError(thrown);
    if (HTTP_STATUS[err.code] >= 500) req.log.error({ err: thrown, code: err.code }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, err, metrics);
  };
}
