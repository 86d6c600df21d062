import type { S3Client } from '@aws-sdk/client-s3';
import type { RecordingSourceConfig } from '../../config/config.js';
import { DirectorySource } from './directory.js';
import { S3Source } from './s3.js';
import { UrlSource } from './url.js';
import type { RecordingSource } from './source.js';

export { recordingNotFound, SESSION_ID_PATTERN, RECORDING_EXTENSIONS, type RecordingSource } from './source.js';
export { DirectorySource, S3Source, UrlSource };

export function createRecordingSource(config: RecordingSourceConfig, s3: () => S3Client): RecordingSource {
  switch (config.kind) {
    case 'directory':
      return new DirectorySource(config.dir);
    case 's3':
      return new S3Source(s3(), config.bucket, config.prefix);
    case 'url':
      return new UrlSource(config.template, { token: config.token, timeoutMs: config.timeoutMs });
  }
}
