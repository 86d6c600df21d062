import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PixelBox } from '../geometry.js';
import type { FromPartWorker, ToPartWorker } from './part-protocol.js';
import { ColourTable, type GifPart, type MappedFrame } from './writer.js';

/**
 * The encode's second thread. After the last picture the encode runs alone: the browser has nothing
 * left to draw, and one of the two cores sat idle for the whole encode (sampled from /proc,
 * BENCHMARKS.md stop 31). The frames after a split point are sent there (pixels, or indices an
 * earlier encode mapped), mapped and coded (GifWriter.part) while the main thread does the frames
 * before it, and the part's bytes are appended: lossless, the same GIF as one thread makes; lossy
 * (the byte budget's later encodes), one within the same bound and up to 1.8 % bigger (GifWriter.part).
 *
 * One worker per process, for one encode at a time: a second encode at once (a worker running two
 * renders) codes on its own thread, as before. Only a long-lived process makes one
 * (preparePartWorker: the service's worker, at its start). A one-render process (the CLI) encodes on
 * one thread: made during its setup the thread took as much CPU from the page's first frame as it
 * saved, and made when its encode started it came too late (BENCHMARKS.md stop 31).
 */

/**
 * Pixels that may wait for the worker at once (PartJob.hasRoom): a long clip's copies never pile up,
 * and the worker is never left without frames while this thread codes one of its own (with 6 frames
 * of 800x520 in flight it was, and the two threads gained little over one: BENCHMARKS.md stop 31).
 */
const PART_IN_FLIGHT_BYTES = 48 * 1024 * 1024;
/** Messages of a job that a worker fails on, or that never end (a dead worker), give up here. */
const PART_TIMEOUT_MS = 60_000;

type Done = Extract<FromPartWorker, { type: 'done' }>;

interface Pending {
  job: number;
  took: (rgba?: Uint8Array) => void;
  resolve: (done: Done) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class PartWorker {
  private pending: Pending | undefined;
  private jobs = 0;
  dead = false;

  constructor(private readonly worker: Worker) {
    worker.on('message', (m: FromPartWorker) => {
      const p = this.pending;
      if (!p || m.job !== p.job) return;
      if (m.type === 'took') return p.took(m.rgba);
      this.settle();
      if (m.type === 'done') p.resolve(m);
      else p.reject(new Error(`the encode's second thread failed: ${m.message.split('\n')[0]}`));
    });
    const fail = (err: Error) => {
      this.dead = true;
      const p = this.pending;
      this.settle();
      p?.reject(err);
    };
    worker.on('error', (err) => fail(err instanceof Error ? err : new Error(String(err))));
    worker.on('exit', (code) => fail(new Error(`the encode's second thread exited (code ${code})`)));
    // Listeners ref the worker again: unref after adding them, so that an idle worker never keeps
    // the process alive.
    worker.unref();
  }

  get idle(): boolean {
    return !this.dead && !this.pending;
  }

  /** Opens a job: `send` posts its messages in order, `done` is its part. */
  open(took: (rgba?: Uint8Array) => void): { send: (m: ToPartWorker, transfer?: ArrayBuffer[]) => void; job: number; done: Promise<Done> } {
    const job = ++this.jobs;
    let pending!: Pending;
    const done = new Promise<Done>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle();
        reject(new Error(`the encode's second thread did not answer in ${PART_TIMEOUT_MS} ms`));
      }, PART_TIMEOUT_MS);
      pending = { job, took, resolve, reject, timer };
    });
    this.pending = pending;
    // Kept alive while a job is open: its answer is awaited.
    this.worker.ref();
    return { job, done, send: (m, transfer = []) => this.worker.postMessage(m, transfer) };
  }

  private settle(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.worker.unref();
  }

  async close(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

let current: PartWorker | undefined;
let starting: Promise<void> | undefined;
/** Set by preparePartWorker, cleared by closePartWorker: a worker that died is then made again. */
let allowed = false;

/**
 * Starts the worker ahead of the first encode, its code compiled on a made-up clip (warm.ts). Once
 * per process, again after one died; only when the machine has a second core. Never fails: without
 * it, encodes run on one thread.
 */
export function preparePartWorker(): void {
  allowed = true;
  if (starting || (current && !current.dead) || availableParallelism() < 2) return;
  starting = spawn()
    .then((w) => {
      current = w;
    })
    .catch(() => {})
    .finally(() => {
      starting = undefined;
    });
}

/** Stops the worker (tests, benchmarks); encodes run on one thread until preparePartWorker. */
export async function closePartWorker(): Promise<void> {
  allowed = false;
  await starting;
  const w = current;
  current = undefined;
  await w?.close();
}

/** Resolves once the worker is ready, or could not be made (tests, benchmarks). */
export async function partWorkerReady(): Promise<boolean> {
  preparePartWorker();
  await starting;
  return !!current && !current.dead;
}

async function spawn(): Promise<PartWorker> {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) {
    // From the build (dist/, bundled by esbuild with its chunks): part-worker.js at its top.
    let dir = dirname(here);
    for (let i = 0; i < 3 && !existsSync(join(dir, 'part-worker.js')); i++) dir = dirname(dir);
    return new PartWorker(new Worker(pathToFileURL(join(dir, 'part-worker.js'))));
  }
  // From the sources under tsx (benchmarks, scripts): its loader, which a worker inherits, runs the entry as it is.
  if (process.execArgv.some((a) => a.includes('tsx'))) return new PartWorker(new Worker(new URL('./part-worker.ts', import.meta.url)));
  // From the sources without tsx (the tests): the entry bundled now, so it is never a stale build.
  const entry = join(dirname(here), 'part-worker.ts');
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    // gifenc is loaded with createRequire(import.meta.url): resolved from the sources' place.
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(entry).href) },
    logLevel: 'silent',
  });
  return new PartWorker(new Worker(out.outputFiles[0]!.text, { eval: true }));
}

/** What the second thread returns: the part, and the frames it mapped when asked to send them back. */
export interface PartResult {
  part: GifPart;
  mapped: { i: number; m: MappedFrame }[];
}

/**
 * A part of a lossless GIF mapped and coded on the second thread: the frames after `seed`, added in
 * order as pixels. Undefined when the worker is not ready or is coding another encode's part.
 */
export class PartJob {
  private inflight = 0;
  private failed = false;
  /**
   * Pixel buffers the worker handed back, filled again for the next frames: a fresh 1.6 MB buffer a
   * frame cost about as much in page faults as the copy itself on a machine slow to fault pages in.
   */
  private readonly free: Uint8Array[] = [];
  private waiting: (() => void) | undefined;

  private constructor(
    private readonly send: (m: ToPartWorker, transfer?: ArrayBuffer[]) => void,
    private readonly job: number,
    private readonly result: Promise<Done>,
    private readonly shared: ColourTable,
    private readonly width: number,
    private readonly height: number,
  ) {
    result.catch(() => {
      this.failed = true;
      this.wake();
    });
  }

  private took(rgba?: Uint8Array): void {
    this.inflight--;
    if (rgba) this.free.push(rgba);
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  /**
   * Whether another frame may be sent now: at most PART_IN_FLIGHT_BYTES of pixels wait for the worker.
   */
  get hasRoom(): boolean {
    return this.inflight < Math.max(4, Math.floor(PART_IN_FLIGHT_BYTES / (this.width * this.height * 4))) || this.failed;
  }

  /** Resolves when the worker took a frame (or failed). */
  room(): Promise<void> {
    if (this.hasRoom) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Whether a part can be opened now: the worker is ready and coding no other encode's part. */
  static available(): boolean {
    // One that died is made again, for the next encode.
    if (current?.dead && allowed) preparePartWorker();
    return !!current?.idle;
  }

  /**
   * `lossy`: the part's level (GifWriter.part). `returnMapped`:
   * the worker sends back the indices of the frames it mapped (the byte budget encodes again).
   */
  static open(width: number, height: number, shared: ColourTable, localPalettes: boolean, lossy: number, seed: { i: number; m: MappedFrame }, returnMapped: boolean): PartJob | undefined {
    const w = current;
    if (!PartJob.available() || !w) return undefined;
    let self: PartJob | undefined;
    const { send, job, done } = w.open((rgba) => self?.took(rgba));
    // The seed's indices are copied: this thread codes that frame too, as the last of its own part.
    const index = seed.m.index.slice();
    const wired = { i: seed.i, index, ...(seed.m.local ? { palette: seed.m.table.palette } : {}) };
    send({ type: 'start', job, width, height, shared: shared.palette, localPalettes, lossy, seed: wired, returnMapped }, [index.buffer as ArrayBuffer]);
    self = new PartJob(send, job, done, shared, width, height);
    return self;
  }

  /** The next frame's pixels (copied: the caller keeps its buffer), `i` its place in the clip. */
  add(rgba: Uint8Array, i: number, changedBox: PixelBox | undefined, delayCs: number): void {
    const reused = this.free.pop();
    const copy = reused?.length === rgba.length ? reused : new Uint8Array(rgba.length);
    copy.set(rgba);
    this.inflight++;
    this.send({ type: 'frame', job: this.job, i, rgba: copy, delayCs, ...(changedBox ? { changedBox } : {}) }, [copy.buffer as ArrayBuffer]);
  }

  /** The next frame, already mapped (an earlier encode's, kept by GifEncoder): its indices are copied. */
  addMapped(m: MappedFrame, i: number, delayCs: number): void {
    const index = m.index.slice();
    this.inflight++;
    this.send({ type: 'mapped', job: this.job, i, delayCs, mapped: { index, ...(m.local ? { palette: m.table.palette } : {}) } }, [index.buffer as ArrayBuffer]);
  }

  /** The part once every frame was added; rejects when the worker failed. */
  async finish(): Promise<PartResult> {
    this.send({ type: 'end', job: this.job });
    const done = await this.result;
    return {
      part: done.part,
      mapped: done.mapped.map(({ i, index, palette }) => ({ i, m: palette ? { index, table: new ColourTable(palette), local: true } : { index, table: this.shared, local: false } })),
    };
  }
}
