import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { SignJWT, base64url } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import type { ServerHandle } from '../../src/http/server.js';
import { AssetRepository } from '../../src/db/assets.js';
import { PreviewSigner } from '../../src/signing/public-url.js';
import { AssetStore, createS3Client } from '../../src/storage/s3.js';
import { API_TOKEN, PUBLIC_SECRET, serverFixture, type ServerFixture } from '../service/env.js';
import { report } from './stack.js';

/**
 * Bad HTTP input, table-driven, against the real server (PostgreSQL, Redis, S3 behind it): malformed
 * JSON, wrong types, huge and non-finite offsets, negative windows, unknown fields, oversized and
 * mis-typed bodies, and every way a bearer or preview token can be wrong. Each must get a clear 4xx
 * naming what is wrong (never a 500, never a row or a job), and a good request right after each must
 * still be accepted.
 */

let served: ServerFixture;
let config: Config;
let server: ServerHandle;
let base: string;
let pool: pg.Pool;
let logLines: string[];

beforeAll(async () => {
  served = await serverFixture();
  ({ config, server, base, pool, logLines } = served);
});

afterAll(() => served?.close());

interface Raw {
  status: number;
  body: string;
  json?: Record<string, unknown>;
}

/** A raw HTTP request: any bytes, any headers (fetch would refuse some of these). */
function raw(method: string, path: string, headers: Record<string, string | number>, body?: Buffer | string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: text, json });
      });
    });
    // The server may answer (413) and close before it has read a large body.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? resolve({ status: -1, body: err.code }) : reject(err)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const auth = { authorization: `Bearer ${API_TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };
const good = { team_id: 3, session_id: 'sess-ok', start_offset_s: 10, end_offset_s: 20 };

async function rowCount(): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM exported_assets');
  return Number(rows[0]!.n);
}

async function jobCount(): Promise<number> {
  const c = await server.jobs.counts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

describe('bad HTTP input', () => {
  let tried = 0;
  let accepted = 0;

  /** Sends the bad request, checks its 4xx and that it names `field`; then a good one still gets 202. */
  async function expectRefused(name: string, send: () => Promise<Raw>, status: number, field?: string | RegExp) {
    const res = await send();
    tried++;
    expect(res.status, `${name}: ${res.body.slice(0, 300)}`).toBe(status);
    if (field !== undefined) {
      const fields = (res.json?.fields ?? {}) as Record<string, string>;
      const text = `${JSON.stringify(fields)} ${String(res.json?.message ?? '')}`;
      if (typeof field === 'string') expect(Object.keys(fields), `${name}: fields ${text}`).toContain(field);
      else expect(text, name).toMatch(field);
    }
    if (res.json) expect(typeof res.json.error, `${name}: an error code`).toBe('string');
    const ok = await raw('POST', '/v1/rasterize', json, JSON.stringify(good));
    expect(ok.status, `a good request after ${name}`).toBe(202);
    accepted++;
  }

  const postJson = (body: unknown) => () => raw('POST', '/v1/rasterize', json, typeof body === 'string' ? body : JSON.stringify(body));

  it('malformed JSON: 400 invalid_json', async () => {
    const bodies = ['{"team_id": 1,', '{', '}', 'nul', '{"a":1}{"b":2}', "{'team_id': 1}", '{"team_id": NaN}', '{"start_offset_s": Infinity}', '{"x": undefined}', '\u0000\u0001', '{"team_id": 01}', '{"team_id": 1,}'];
    for (const b of bodies) await expectRefused(`body ${JSON.stringify(b)}`, postJson(b), 400, 'body');
    await expectRefused('invalid UTF-8', () => raw('POST', '/v1/rasterize', json, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])), 400);
    await expectRefused('JSON nested 100,000 deep', postJson('['.repeat(100_000) + ']'.repeat(100_000)), 400);
    await expectRefused('an object nested 20,000 deep', postJson('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)), 400);
  });

  it('JSON that is not an object, and empty bodies: 400 naming the body', async () => {
    for (const b of ['null', '[]', '[1,2]', '"text"', '42', 'true']) await expectRefused(`body ${b}`, postJson(b), 400, 'body');
    await expectRefused('empty body', () => raw('POST', '/v1/rasterize', { ...json, 'content-length': 0 }, ''), 400);
  });

  it('wrong types and out-of-range values: 400 naming each field', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['team_id string', { ...good, team_id: '3' }, 'team_id'],
      ['team_id float', { ...good, team_id: 1.5 }, 'team_id'],
      ['team_id zero', { ...good, team_id: 0 }, 'team_id'],
      ['team_id negative', { ...good, team_id: -3 }, 'team_id'],
      ['team_id past 2^53', { ...good, team_id: 2 ** 60 }, 'team_id'],
      ['team_id 1e20', { ...good, team_id: 1e20 }, 'team_id'],
      ['team_id boolean', { ...good, team_id: true }, 'team_id'],
      ['team_id null', { ...good, team_id: null }, 'team_id'],
      ['team_id array', { ...good, team_id: [3] }, 'team_id'],
      ['session_id number', { ...good, session_id: 123 }, 'session_id'],
      ['session_id empty', { ...good, session_id: '' }, 'session_id'],
      ['session_id path', { ...good, session_id: '../../etc/passwd' }, 'session_id'],
      ['session_id dots', { ...good, session_id: 'a..b' }, 'session_id'],
      ['session_id slash', { ...good, session_id: 'a/b' }, 'session_id'],
      ['session_id leading dot', { ...good, session_id: '.hidden' }, 'session_id'],
      ['session_id 201 chars', { ...good, session_id: 'a'.repeat(201) }, 'session_id'],
      ['session_id unicode', { ...good, session_id: 'séance' }, 'session_id'],
      ['session_id NUL', { ...good, session_id: 'a\u0000b' }, 'session_id'],
      ['session_id object', { ...good, session_id: { $ne: 1 } }, 'session_id'],
      ['start_offset_s string', { ...good, start_offset_s: '10' }, 'start_offset_s'],
      ['start_offset_s "NaN"', { ...good, start_offset_s: 'NaN' }, 'start_offset_s'],
      ['start_offset_s null', { ...good, start_offset_s: null }, 'start_offset_s'],
      ['start_offset_s object', { ...good, start_offset_s: {} }, 'start_offset_s'],
      ['end_offset_s missing', { team_id: 3, session_id: 's', start_offset_s: 1 }, 'end_offset_s'],
      ['fps zero', { ...good, fps: 0 }, 'fps'],
      ['fps 51', { ...good, fps: 51 }, 'fps'],
      ['fps fraction', { ...good, fps: 2.5 }, 'fps'],
      ['fps string', { ...good, fps: '10' }, 'fps'],
      ['width 63', { ...good, width: 63 }, 'width'],
      ['width 1921', { ...good, width: 1921 }, 'width'],
      ['width 1e9', { ...good, width: 1e9 }, 'width'],
      ['playback_speed zero', { ...good, playback_speed: 0 }, 'playback_speed'],
      ['playback_speed negative', { ...good, playback_speed: -1 }, 'playback_speed'],
      ['playback_speed 17', { ...good, playback_speed: 17 }, 'playback_speed'],
      ['footer string', { ...good, footer: 'yes' }, 'footer'],
      ['footer number', { ...good, footer: 1 }, 'footer'],
      ['min_duration_s string', { ...good, min_duration_s: '5' }, 'min_duration_s'],
      ['recording_duration_s zero', { ...good, recording_duration_s: 0 }, 'recording_duration_s'],
    ];
    for (const [name, body, field] of cases) await expectRefused(name, postJson(body), 400, field);
  });

  it('huge, non-finite and negative windows: 400 naming the field', async () => {
    const cases: [string, string | Record<string, unknown>, string][] = [
      ['start 1e400 (Infinity)', '{"team_id":3,"session_id":"s","start_offset_s":1e400,"end_offset_s":2e400}', 'start_offset_s'],
      ['end -1e400 (-Infinity)', '{"team_id":3,"session_id":"s","start_offset_s":0,"end_offset_s":-1e400}', 'end_offset_s'],
      ['start 1e308, end 1.7e308', { ...good, start_offset_s: 1e308, end_offset_s: 1.7e308 }, 'end_offset_s'],
      ['start = end = 1e308', { ...good, start_offset_s: 1e308, end_offset_s: 1e308 }, 'end_offset_s'],
      ['start MAX_VALUE', { ...good, start_offset_s: Number.MAX_VALUE, end_offset_s: Number.MAX_VALUE }, 'end_offset_s'],
      ['window 1e15 s long', { ...good, start_offset_s: 0, end_offset_s: 1e15 }, 'end_offset_s'],
      ['negative start', { ...good, start_offset_s: -1 }, 'start_offset_s'],
      ['negative end', { ...good, start_offset_s: 0, end_offset_s: -5 }, 'end_offset_s'],
      ['end before start', { ...good, start_offset_s: 20, end_offset_s: 10 }, 'end_offset_s'],
      ['negative min_duration_s', { ...good, min_duration_s: -30 }, 'min_duration_s'],
      ['negative recording_duration_s', { ...good, recording_duration_s: -5 }, 'recording_duration_s'],
      ['start past the recording', { ...good, start_offset_s: 500, end_offset_s: 510, recording_duration_s: 100 }, 'start_offset_s'],
      ['-0 is fine but -1e-9 is not', { ...good, start_offset_s: -1e-9 }, 'start_offset_s'],
    ];
    for (const [name, body, field] of cases) await expectRefused(name, postJson(body), 400, field);
  });

  it('unknown fields: 400 naming each one', async () => {
    await expectRefused('one unknown field', postJson({ ...good, colour: 'red' }), 400, 'colour');
    const two = await raw('POST', '/v1/rasterize', json, JSON.stringify({ ...good, colour: 'red', __proto__x: 1 }));
    expect(two.status).toBe(400);
    expect(Object.keys((two.json?.fields ?? {}) as object)).toEqual(expect.arrayContaining(['colour', '__proto__x']));
    await expectRefused('__proto__ key', postJson(`{"team_id":3,"session_id":"s","start_offset_s":1,"end_offset_s":2,"__proto__":{"polluted":true}}`), 400, '__proto__');
    await expectRefused('constructor key', postJson({ ...good, constructor: { prototype: { polluted: true } } }), 400, 'constructor');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('oversized bodies: 413; wrong or missing content type: 415', async () => {
    const big = JSON.stringify({ ...good, pad: 'x'.repeat(300 * 1024) });
    await expectRefused('300 KiB body', () => raw('POST', '/v1/rasterize', json, big), 413);
    await expectRefused('10 MiB body', () => raw('POST', '/v1/rasterize', json, Buffer.alloc(10 * 1024 * 1024, 0x20)), 413);
    await expectRefused('a Content-Length of 1 GiB', () => raw('POST', '/v1/rasterize', { ...json, 'content-length': 1024 ** 3 }, '{}'), 413);
    await expectRefused('gzip that inflates past the limit', () => raw('POST', '/v1/rasterize', { ...json, 'content-encoding': 'gzip' }, gzipSync(Buffer.alloc(5 * 1024 * 1024, 0x20))), 413);
    await expectRefused('text/plain', () => raw('POST', '/v1/rasterize', { ...auth, 'content-type': 'text/plain' }, JSON.stringify(good)), 415, /content-type|application\/json/i);
    await expectRefused('form encoded', () => raw('POST', '/v1/rasterize', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 'team_id=3'), 415);
    await expectRefused('no content type', () => raw('POST', '/v1/rasterize', auth, JSON.stringify(good)), 415);
    await expectRefused('an unknown charset', () => raw('POST', '/v1/rasterize', { ...auth, 'content-type': 'application/json; charset=x-no-such-charset' }, JSON.stringify(good)), 415);
    await expectRefused('an unknown content encoding', () => raw('POST', '/v1/rasterize', { ...json, 'content-encoding': 'zstd-ish' }, JSON.stringify(good)), 415);
    await expectRefused('gzip that is not gzip', () => raw('POST', '/v1/rasterize', { ...json, 'content-encoding': 'gzip' }, 'not gzip at all'), 400);
  });

  it('other routes: bad ids and bodies are 4xx', async () => {
    for (const id of ['abc', '0', '-1', '1.5', '99999999999999999999', '%00', 'NaN']) {
      const res = await raw("GET", `/v1/assets/${id}?team_id=3`, auth);
      tried++;
      expect(res.status, id).toBe(400);
    }
    for (const [name, body, status] of [
      ['asset_ids huge', { team_id: 3, asset_ids: [2 ** 60] }, 400],
      ['asset_ids 1e20', { team_id: 3, asset_ids: [1e20] }, 400],
      ['asset_ids strings', { team_id: 3, asset_ids: ['1'] }, 400],
      ['asset_ids 1001', { team_id: 3, asset_ids: Array.from({ length: 1001 }, (_, i) => i + 1) }, 400],
      ['asset_ids missing', { team_id: 3 }, 400],
      ['team_id missing', { asset_ids: [1] }, 400],
      ['asset_ids unknown field', { team_id: 3, asset_ids: [1], extra: true }, 400],
    ] as const) {
      const res = await raw('POST', '/v1/assets/preview-urls', json, JSON.stringify(body));
      tried++;
      expect(res.status, name).toBe(status);
    }
  });

  it('left nothing behind: one row and one job per accepted request, no 500s', async () => {
    expect(await rowCount()).toBe(accepted);
    expect(await jobCount()).toBe(accepted);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).not.toMatch(/rasterizer_http_requests_total\{[^}]*status="5\d\d"/);
    expect(logLines.join('\n')).not.toMatch(/"level":"error"/);
    report('HTTP bad input', { tried, passed: tried, lost: 0, server_errors: 0, good_requests_interleaved: accepted });
  });
});

describe('auth', () => {
  let tried = 0;
  const tokenCases: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['empty bearer', { authorization: 'Bearer ' }],
    ['wrong token', { authorization: 'Bearer wrong-token-0123456789abcdef' }],
    ['token without Bearer', { authorization: API_TOKEN }],
    ['Basic auth with the token', { authorization: `Basic ${Buffer.from(`x:${API_TOKEN}`).toString('base64')}` }],
    ['token with a suffix', { authorization: `Bearer ${API_TOKEN}x` }],
    ['token prefix', { authorization: `Bearer ${API_TOKEN.slice(0, -1)}` }],
    ['two tokens', { authorization: `Bearer ${API_TOKEN} ${API_TOKEN}` }],
    ['token in the query string instead', {}],
  ];

  it('/v1 refuses every wrong bearer with 401', async () => {
    for (const [name, headers] of tokenCases) {
      const path = name.includes('query') ? `/v1/rasterize?token=${API_TOKEN}` : '/v1/rasterize';
      const res = await raw('POST', path, { ...headers, 'content-type': 'application/json' }, JSON.stringify(good));
      tried++;
      expect(res.status, name).toBe(401);
      const get = await raw('GET', '/v1/assets/1', headers);
      tried++;
      expect(get.status, `${name} (GET)`).toBe(401);
    }
    // A preview token is not an API token.
    const preview = await server.signer.sign({ assetId: 1, teamId: 3, expiresAfter: new Date(Date.now() + 86400_000) });
    const res = await raw('GET', '/v1/assets/1', { authorization: `Bearer ${preview}` });
    tried++;
    expect(res.status).toBe(401);
  });

  it('public previews refuse tampered, expired, foreign, forged and alg=none tokens', async () => {
    // A real GIF for team 3, done, and one for team 4.
    const assets = new AssetRepository(pool, 90);
    const store = new AssetStore(createS3Client(config.s3), config.s3.bucket, config.s3.prefix);
    const make = async (team: number) => {
      const { asset: a } = await assets.create({ teamId: team, exportContext: { session_recording_id: 's', start_offset_s: 0, end_offset_s: 1, playback_speed: 1, show_metadata_footer: false, fps: 5, width: 200 } });
      const location = await store.putGif(team, a.id, Buffer.from('GIF89a-test'));
      await assets.markDone(a.id, { contentLocation: location, startS: 0, endS: 1, budgetSteps: [] });
      return a.id;
    };
    const mine = await make(3);
    const theirs = await make(4);
    store.client.destroy();
    const day = new Date(Date.now() + 86400_000);
    const signer = { sign: (c: { assetId: number; teamId: number }, now?: Date) => server.signer.sign({ ...c, expiresAfter: day }, now) };
    const key = new TextEncoder().encode(PUBLIC_SECRET);
    const valid = await signer.sign({ assetId: mine, teamId: 3 });
    expect((await raw('GET', `/public/previews/${valid}`, {})).status).toBe(200);

    const [h, p, sig] = valid.split('.') as [string, string, string];
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as Record<string, unknown>;
    const reencode = (o: object) => base64url.encode(JSON.stringify(o));
    const claims = { team_id: 3, sub: String(mine), aud: 'replay-rasterizer:preview', iss: 'replay-rasterizer' };
    const sign = (body: Record<string, unknown>, alg = 'HS256', k: Uint8Array = key) => {
      let j = new SignJWT(body).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt();
      if (body.exp === undefined) j = j.setExpirationTime('1h');
      return j.sign(k);
    };
    const cases: [string, string, number][] = [
      ['payload tampered to another asset (same signature)', `${h}.${reencode({ ...payload, sub: String(theirs) })}.${sig}`, 401],
      ['payload tampered to another team (same signature)', `${h}.${reencode({ ...payload, team_id: 4 })}.${sig}`, 401],
      // The first character: all six of its bits are signature bits (the last one's low bits are padding).
      // Chosen from the character it replaces, so the signature always changes (CI once drew an 'A' there).
      ['signature bit flipped', `${h}.${p}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`, 401],
      ['signature removed', `${h}.${p}.`, 401],
      ['alg none', `${reencode({ alg: 'none', typ: 'JWT' })}.${p}.`, 401],
      ['alg none, upper case', `${reencode({ alg: 'NONE', typ: 'JWT' })}.${p}.`, 401],
      ['HS512 with the same secret', await sign(claims, 'HS512'), 401],
      ['signed with another secret', await new PreviewSigner('another-secret-another-secret-another-1', base, 3600).sign({ assetId: mine, teamId: 3, expiresAfter: day }), 401],
      ['signed with an empty-ish key', await sign(claims, 'HS256', new TextEncoder().encode('x'.repeat(32))), 401],
      ['expired', await signer.sign({ assetId: mine, teamId: 3 }, new Date(Date.now() - 8 * 86400_000)), 401],
      ['no exp', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key), 401],
      ['wrong audience', await sign({ ...claims, aud: 'something-else' }), 401],
      ['wrong issuer', await sign({ ...claims, iss: 'someone-else' }), 401],
      ['sub not a number', await sign({ ...claims, sub: 'abc' }), 401],
      ['sub negative', await sign({ ...claims, sub: '-1' }), 401],
      ['team_id a string', await sign({ ...claims, team_id: '3' }), 401],
      ['not yet valid (nbf in an hour)', await sign({ ...claims, nbf: Math.floor(Date.now() / 1000) + 3600 }), 401],
      ['not a JWT', 'not-a-jwt', 401],
      ['two parts', `${h}.${p}`, 401],
      ['10 KiB of junk', 'a'.repeat(10 * 1024), 401],
      ['a token for the other team\'s asset, claiming my team', await signer.sign({ assetId: theirs, teamId: 3 }), 403],
      ['a token of another team for my asset', await signer.sign({ assetId: mine, teamId: 4 }), 403],
      ['a token for an asset that does not exist', await signer.sign({ assetId: 987654321, teamId: 3 }), 404],
    ];
    for (const [name, token, status] of cases) {
      expect(token, name).not.toBe(valid);
      const res = await raw('GET', `/public/previews/${encodeURIComponent(token)}`, {});
      tried++;
      expect(res.status, name).toBe(status);
      expect(res.body, name).not.toContain('GIF89a');
    }
    // Tokens never reach the logs.
    expect(logLines.join('\n')).not.toContain(valid);
    expect(logLines.join('\n')).not.toContain(API_TOKEN);
    report('auth refusals', { tried, passed: tried, lost: 0, leaked_tokens_in_logs: 0 });
  });
});
