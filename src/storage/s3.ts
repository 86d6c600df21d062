import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3Config } from '../config/config.js';

/**
 * An S3 client for AWS, MinIO or a test server. Credentials come from the SDK's standard chain
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, IAM roles); only the endpoint and the URL
 * style are ours to set. The SDK sets no timeout of its own: an S3 that accepts a connection and
 * then says nothing (a partition, a hung proxy) would hold an upload, and its job, forever. So a
 * connection must open within the timeout (at most 10 s) and may not sit silent longer than it;
 * uploads that keep moving are not cut, however long they take. The SDK retries timed-out requests
 * (3 tries) before the job's own retries take over.
 */
export function createS3Client(config: Pick<S3Config, 'endpoint' | 'region' | 'forcePathStyle' | 'timeoutMs'>): S3Client {
  const { timeoutMs } = config;
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: Math.min(timeoutMs, 10_000), socketTimeout: timeoutMs },
  });
}

/** `<prefix>/team-<team_id>/asset-<id>.gif`: one key per asset, so a retried job overwrites its own GIF. */
export function assetKey(prefix: string, teamId: number, assetId: number): string {
  const tail = `team-${teamId}/asset-${assetId}.gif`;
  return prefix ? `${prefix}/${tail}` : tail;
}

export function s3Location(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export function parseS3Location(location: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!m) throw new Error(`not an s3:// location: ${location}`);
  return { bucket: m[1]!, key: m[2]! };
}

export function isNotFound(err: unknown): boolean {
  if (err instanceof NoSuchKey) return true;
  if (err instanceof S3ServiceException) return err.$metadata.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey';
  return false;
}

/** Where the service's GIFs live: one bucket and prefix from the configuration. */
export class AssetStore {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    readonly prefix: string,
  ) {}

  keyFor(teamId: number, assetId: number): string {
    return assetKey(this.prefix, teamId, assetId);
  }

  /** Uploads the GIF and returns its `s3://bucket/key` location. */
  async putGif(teamId: number, assetId: number, gif: Buffer): Promise<string> {
    const key = this.keyFor(teamId, assetId);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: gif,
        ContentType: 'image/gif',
        ContentLength: gif.length,
        CacheControl: 'private, max-age=31536000, immutable',
      }),
    );
    return s3Location(this.bucket, key);
  }

  /** Deletes an object by location; a missing object is not an error (deletes are retried by sweeps). */
  async delete(location: string): Promise<void> {
    const { bucket, key } = parseS3Location(location);
    await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  /** Deletes the object an asset would have, whether or not its row recorded it (a job may have uploaded then failed). */
  async deleteForAsset(teamId: number, assetId: number): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyFor(teamId, assetId) }));
  }

  /** The object as a stream, or undefined when it does not exist. */
  async open(location: string, signal?: AbortSignal): Promise<{ body: Readable; contentLength: number | undefined } | undefined> {
    const { bucket, key } = parseS3Location(location);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      return { body: out.Body as Readable, contentLength: out.ContentLength };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async checkReachable(signal?: AbortSignal): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: signal });
  }
}
