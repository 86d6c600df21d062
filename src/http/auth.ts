import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { RasterizerError } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `Authorization: Bearer <RASTERIZER_API_TOKEN>`. Compared as digests in constant time, so neither
 * the length nor a prefix of the token leaks through timing.
 */
export function requireBearer(token: string): RequestHandler {
  const expected = digest(token);
  return (req, _res, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (m && timingSafeEqual(digest(m[1]!), expected)) return next();
    next(new RasterizerError('unauthorized', m ? 'the bearer token is not valid' : 'send Authorization: Bearer <RASTERIZER_API_TOKEN>'));
  };
}
