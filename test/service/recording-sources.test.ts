import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInputError } from '../../src/recording/errors.js';
import { parseRecording } from '../../src/recording/parse.js';
import { isRasterizerError } from '../../src/errors.js';
import { DirectorySource, S3Source, UrlSource } from '../../src/recording/sources/index.js';

const notFound = expect.objectContaining({ code: 'recording_not_found' });
import { createS3Client } from '../../src/storage/s3.js';
import { S3_CREDENTIALS, startS3, type TestS3 } from './env.js';

const EVENTS = [
  { type: 4, timestamp: 1000, data: { href: 'https://shop.example/', width: 800, height: 600 } },
  { type: 2, timestamp: 1001, data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } } },
  { type: 3, timestamp: 2000, data: { source: 1, positions: [{ x: 1, y: 2, id: 1, timeOffset: 0 }] } },
];
const AS_ARRAY = Buffer.from(JSON.stringify(EVENTS));
const AS_LINES = Buffer.from(EVENTS.map((e) => JSON.stringify(e)).join('\n'));

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('DirectorySource', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rr-src-'));
    await mkdir(join(dir, '3'));
    await writeFile(join(dir, '3', 'a.json'), AS_ARRAY);
    await writeFile(join(dir, '3', 'b.jsonl'), AS_LINES);
    await writeFile(join(dir, '3', 'c.json.gz'), gzipSync(AS_ARRAY));
    await writeFile(join(dir, '3', 'd.jsonl.gz'), gzipSync(AS_LINES));
    await mkdir(join(dir, '3', 'e.json'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each(['a', 'b', 'c', 'd'])('reads session %s in any of the formats the CLI reads', async (session) => {
    const buf = await new DirectorySource(dir).load(3, session);
    expect(parseRecording(buf).events).toHaveLength(3);
  });

  it('reports a missing session as not found (no retry)', async () => {
    for (const [team, session] of [[3, 'nope'], [4, 'a'], [3, 'e']] as const) {
      const err = await rejection(new DirectorySource(dir).load(team, session));
      expect(err).toEqual(notFound);
      expect(isInputError(err)).toBe(true);
      expect(err.message).toMatch(/recording not found/);
    }
  });

  it('refuses session ids that could leave the directory', async () => {
    for (const session of ['../3/a', '..', '.hidden', 'a/b', '']) {
      const err = await rejection(new DirectorySource(dir).load(3, session));
      expect(isInputError(err)).toBe(true);
      expect(isRasterizerError(err, 'recording_not_found')).toBe(false);
    }
  });

  it('refuses a file over the size limit', async () => {
    const err = await rejection(new DirectorySource(dir, 10).load(3, 'a'));
    expect(isInputError(err)).toBe(true);
    expect(err.message).toMatch(/over the 10-byte limit/);
  });
});

describe('S3Source', () => {
  let s3: TestS3;
  beforeAll(async () => {
    Object.assign(process.env, S3_CREDENTIALS);
    s3 = await startS3();
  });
  afterAll(() => s3?.close());

  it('reads <prefix>/<team>/<session>.<ext> and reports a missing one as not found', async () => {
    const client = createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, timeoutMs: 30_000 });
    await client.send(new PutObjectCommand({ Bucket: s3.recordingsBucket, Key: 'sessions/5/s1.jsonl.gz', Body: gzipSync(AS_LINES) }));
    const source = new S3Source(client, s3.recordingsBucket, 'sessions');
    expect(parseRecording(await source.load(5, 's1')).events).toHaveLength(3);
    const err = await rejection(source.load(5, 's2'));
    expect(err).toEqual(notFound);
    expect(err.message).toContain(`s3://${s3.recordingsBucket}/sessions/5/s2`);
    client.destroy();
  });
});

describe('UrlSource', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; auth: string | undefined }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      if (req.url?.startsWith('/recordings/8/s-1.v2.json.gz')) return void res.end(gzipSync(AS_ARRAY));
      if (req.url?.startsWith('/recordings/8/gone')) return void res.writeHead(410).end();
      if (req.url?.startsWith('/recordings/8/broken')) return void res.writeHead(500).end('oops');
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fills the template, sends the bearer token and reads the body', async () => {
    const source = new UrlSource(`${base}/recordings/{team_id}/{session_id}.json.gz?sig=abc`, { token: 'sekret', timeoutMs: 5000 });
    expect(parseRecording(await source.load(8, 's-1.v2')).events).toHaveLength(3);
    expect(seen.at(-1)).toEqual({ url: '/recordings/8/s-1.v2.json.gz?sig=abc', auth: 'Bearer sekret' });
  });

  it('refuses a body over the size limit', async () => {
    const source = new UrlSource(`${base}/recordings/{team_id}/{session_id}.json.gz`, { timeoutMs: 5000, maxBytes: 20 });
    const err = await rejection(source.load(8, 's-1.v2'));
    expect(isInputError(err)).toBe(true);
    expect(err.message).toMatch(/over the 20-byte limit/);
  });

  it('treats 404 and 410 as not found, and other failures as transient', async () => {
    const source = new UrlSource(`${base}/recordings/{team_id}/{session_id}`, { timeoutMs: 5000 });
    expect(await rejection(source.load(8, 'missing'))).toEqual(notFound);
    expect(await rejection(source.load(8, 'gone'))).toEqual(notFound);
    const transient = await rejection(source.load(8, 'broken'));
    expect(isInputError(transient)).toBe(false);
    expect(transient.message).toMatch(/answered 500/);
  });
});
