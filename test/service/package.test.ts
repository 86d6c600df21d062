import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './build.js';

const root = join(import.meta.dirname, '..', '..');

/** What a queue producer in another Node project writes, checked against the built package. */
const CONSUMER = `
import { createProducer, widenWindow, parseSegmentTime, type EnqueuedPreview, type SegmentPreview, type ProblemType } from 'replay-rasterizer/producer';
import { renderRecording, type RenderResult } from 'replay-rasterizer';

export async function ask(): Promise<Map<number, string | null>> {
  const producer = createProducer();
  const one: EnqueuedPreview = await producer.enqueueMomentPreview({ teamId: 1, sessionId: 's', startS: 10, endS: 12, recordingDurationS: 90 });
  const many: SegmentPreview[] = await producer.enqueueSessionProblems({
    teamId: 1,
    sessionId: 's',
    segments: [{ start_time: '00:10', end_time: '00:20', exception: 'blocking' }],
  });
  const types: (ProblemType | null)[] = many.map((s) => s.problemType);
  void types;
  const cleanup = await producer.startFailureCleanup();
  await cleanup.close();
  const urls = await producer.resolvePreviewUrls([one.assetId], { teamId: 1 });
  await producer.close();
  return urls;
}

export const w: { startS: number; endS: number } = widenWindow({ startS: 1, endS: 2, minDurationS: 30 });
export const t: number | undefined = parseSegmentTime('01:02');
export type R = RenderResult;
export const r: typeof renderRecording = renderRecording;

// @ts-expect-error teamId is a number
void createProducer().enqueueMomentPreview({ teamId: '1', sessionId: 's', startS: 0, endS: 1 });
// @ts-expect-error every read names its team
void createProducer().resolvePreviewUrls([1]);
`;

describe('the built package', () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = await mkdtemp(join(root, '.tmp', 'consumer-'));
  });
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  it('exports the producer and the engine as ES modules', async () => {
    const producer = await import('replay-rasterizer/producer' as string);
    expect(typeof producer.createProducer).toBe('function');
    expect(typeof producer.widenWindow).toBe('function');
    expect(producer.QUEUE_NAME).toBe('rasterize-recording');
    const engine = await import('replay-rasterizer' as string);
    expect(typeof engine.renderRecording).toBe('function');
  });

  it("runs the commands the Dockerfile and docker-compose.yml use", async () => {
    const { readFile } = await import('node:fs/promises');
    const dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "bin\/replay-rasterizer\.js"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["node", "bin\/healthcheck\.js"\]$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    const compose = await readFile(join(root, 'docker-compose.yml'), 'utf8');
    const commands = [...compose.matchAll(/^ {4}command: \["(\w+)"\]$/gm)].map((m) => m[1]!);
    expect(commands.sort()).toEqual(['server', 'worker']);
    for (const command of [...commands, 'migrate', 'render']) {
      const { stdout } = await promisify(execFile)(process.execPath, ['bin/replay-rasterizer.js', command, '--help'], { cwd: root });
      expect(stdout).toContain(`Usage: replay-rasterizer ${command}`);
    }
  });

  it('type-checks a consumer against the published declarations', async () => {
    await writeFile(join(dir, 'consumer.ts'), CONSUMER);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['consumer.ts'] }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: root }).then(
      () => ({ code: 0, out: '' }),
      (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
    );
    expect(run.out).toBe('');
    expect(run.code).toBe(0);

    // The check has teeth: a wrong type is reported.
    await writeFile(join(dir, 'consumer.ts'), `import { widenWindow } from 'replay-rasterizer/producer';\nexport const x: string = widenWindow({ startS: 1, endS: 2 });\n`);
    const bad = await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: root }).then(
      () => ({ code: 0, out: '' }),
      (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
    );
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/TS2322/);
  });
});
