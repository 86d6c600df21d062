import express, { type Request, type RequestHandler } from 'express';
import { RasterizerError } from '../errors.js';

/** The largest JSON body the API reads. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/** Whether the request carries a body (a length above 0, or chunked). */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

const tooLarge = () => new RasterizerError('too_large', `the body is over ${BODY_LIMIT_BYTES / 1024} KiB`);

/**
 * Before the JSON parser: a body that is not JSON gets 415 (the parser would skip it and the route
 * would answer "team_id is required"), and a declared length over the limit gets 413 at once, on a
 * connection that is then closed (the parser would first wait for every declared byte).
 */
const checkBody: RequestHandler = (req, res, next) => {
  if (!hasBody(req)) return next();
  if (!req.is('application/json')) {
    const type = req.get('content-type');
    return next(
      new RasterizerError('unsupported_media_type', `send the body as JSON with Content-Type: application/json${type ? ` (got ${type.slice(0, 100)})` : ' (none was sent)'}`, {
        fields: { 'content-type': 'must be application/json' },
      }),
    );
  }
  if (Number(req.headers['content-length'] ?? 0) > BODY_LIMIT_BYTES) {
    res.set('connection', 'close');
    return next(tooLarge());
  }
  next();
};

/**
 * The parser's own errors, and only those, are the client's: bad JSON, too large, an unknown charset
 * or encoding, a compressed body that does not inflate. Anything a route does later is not a body
 * error (a PostgreSQL that is down is a 500, never a 400).
 */
function bodyError(err: unknown): RasterizerError {
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type === 'entity.too.large' || e.status === 413) return tooLarge();
  if (e.type === 'entity.parse.failed') return new RasterizerError('invalid_json', 'the body is not valid JSON', { fields: { body: 'is not valid JSON' } });
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported' || e.status === 415) {
    return new RasterizerError('unsupported_media_type', `${e.message ?? 'unsupported body encoding'}; send UTF-8 JSON, plain, gzip, deflate or br`);
  }
  return new RasterizerError('invalid_body', 'the body could not be read (a compressed body that does not inflate?)', { fields: { body: 'could not be read' } });
}

const parseJson = express.json({ limit: BODY_LIMIT_BYTES });

/** JSON bodies for /v1: checked, parsed, and the parser's errors (only) made 4xx. */
export const jsonBody: RequestHandler[] = [checkBody, (req, res, next) => parseJson(req, res, (err?: unknown) => next(err === undefined ? undefined : bodyError(err)))];
