import { SignJWT, jwtVerify, errors } from 'jose';
import { RasterizerError } from '../errors.js';

/** Scopes tokens to this use, so a JWT signed with the same secret for something else is refused. */
const AUDIENCE = 'replay-rasterizer:preview';
const ISSUER = 'replay-rasterizer';

export interface PreviewClaims {
  assetId: number;
  teamId: number;
}

/** What a URL is signed for: the asset, and when the asset itself expires (a link never outlives it). */
export interface SignRequest extends PreviewClaims {
  expiresAfter: Date;
}

/** Signing and checking preview links: what the HTTP routes and the producer need of it. */
export interface UrlSigner {
  url(request: SignRequest, now?: Date): Promise<string>;
  verify(token: string): Promise<PreviewClaims>;
}

/**
 * Signs and verifies the public preview URL `${baseUrl}/public/previews/<jwt>`: an HS256 JWT naming
 * the asset and its team, valid for `ttlS` seconds or until the asset expires, whichever is first.
 * Anyone holding the URL can see that one GIF. A bad token is `invalid_token`, an expired one
 * `token_expired` (so a client knows to ask for a fresh URL).
 */
export class PreviewSigner implements UrlSigner {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    readonly baseUrl: string,
    readonly ttlS: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(claims: SignRequest, now: Date = new Date()): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    const exp = Math.min(iat + this.ttlS, Math.floor(claims.expiresAfter.getTime() / 1000));
    return new SignJWT({ team_id: claims.teamId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(claims.assetId))
      .setAudience(AUDIENCE)
      .setIssuer(ISSUER)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.key);
  }

  async url(claims: SignRequest, now?: Date): Promise<string> {
    return `${this.baseUrl}/public/previews/${await this.sign(claims, now)}`;
  }

  async verify(token: string): Promise<PreviewClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], audience: AUDIENCE, issuer: ISSUER, requiredClaims: ['exp', 'sub'] }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new RasterizerError('token_expired', 'preview link has expired');
      throw new RasterizerError('invalid_token', 'preview link is not valid');
    }
    const assetId = Number(payload.sub);
    const teamId = payload.team_id;
    if (!Number.isSafeInteger(assetId) || assetId < 1 || typeof teamId !== 'number' || !Number.isSafeInteger(teamId)) {
      throw new RasterizerError('invalid_token', 'preview link is not valid');
    }
    return { assetId, teamId };
  }
}
