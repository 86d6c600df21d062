import { RasterizerError } from '../errors.js';

/**
 * `scheme://host[:port]` with default ports dropped, as URL.origin spells it: how an allowed origin
 * is written, whether it comes from a CLI flag, ALLOWED_ORIGINS or the network policy itself.
 */
export function normaliseOrigin(origin: string): string {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    throw new RasterizerError('invalid_request', `not an origin: ${origin}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RasterizerError('invalid_request', `allowed origins must be http(s): ${origin}`);
  return u.origin;
}
