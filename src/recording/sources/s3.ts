import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isNotFound } from '../../storage/s3.js';
import { DEFAULT_PARSE_LIMITS } from '../parse.js';
import { RECORDING_EXTENSIONS, checkSessionRef, recordingNotFound, tooLarge, type RecordingSource } from './source.js';

/** `s3://<bucket>/<prefix>/<team_id>/<session_id>.{json,jsonl,json.gz,jsonl.gz}`. */
export class S3Source implements RecordingSource {
  readonly description: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly maxBytes = DEFAULT_PARSE_LIMITS.maxBytes,
  ) {
    this.description = `s3://${bucket}/${prefix}`;
  }

  async load(teamId: number, sessionId: string, signal?: AbortSignal): Promise<Buffer> {
    checkSessionRef(teamId, sessionId);
    const base = `${this.prefix ? `${this.prefix}/` : ''}${teamId}/${sessionId}`;
    for (const ext of RECORDING_EXTENSIONS) {
      const key = base + ext;
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
        if (out.ContentLength !== undefined && out.ContentLength > this.maxBytes) {
          (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
          throw tooLarge(`s3://${this.bucket}/${key}`, out.ContentLength, this.maxBytes);
        }
        const bytes = await out.Body!.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (err) {
        if (isNotFound(err)) continue;
        throw err;
      }
    }
    throw recordingNotFound(`recording not found: no s3://${this.bucket}/${base}{${RECORDING_EXTENSIONS.join(',')}}`);
  }
}
