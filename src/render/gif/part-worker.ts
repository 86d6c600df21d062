// The entry of the encode's second thread (part.ts bundles it): maps and codes the frames of a GIF
// part (GifWriter.part) sent one by one, and returns the part's bytes.
import { parentPort } from 'node:worker_threads';
import type { FromPartWorker, ToPartWorker, WireMapped } from './part-protocol.js';
import { warmEncoder } from './warm.js';
import { ColourTable, FrameMapper, GifWriter, type MappedFrame } from './writer.js';

interface Job {
  id: number;
  width: number;
  writer: GifWriter;
  shared: ColourTable;
  mapper: FrameMapper;
  /**
   * The frame before the next one: a frame whose marks alone moved is mapped from it (GifEncoder.mapped).
   * `own`: mapped here (sent back when asked), not sent mapped.
   */
  before: { i: number; m: MappedFrame; own?: boolean };
  /** An index array no frame reads any more, to map the next frame into. */
  spare?: Uint8Array;
  /** Mapped frames sent back (the encoder keeps them for the byte budget's later encodes), or undefined. */
  mapped?: (WireMapped & { i: number })[];
}

let job: Job | undefined;

function reply(message: FromPartWorker, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

function fromWire(w: WireMapped, shared: ColourTable): MappedFrame {
  return w.palette ? { index: w.index, table: new ColourTable(w.palette), local: true } : { index: w.index, table: shared, local: false };
}

parentPort!.on('message', (m: ToPartWorker) => {
  // After a failure the job's remaining messages are dropped: it has been answered.
  if (m.type !== 'start' && m.job !== job?.id) return;
  try {
    if (m.type === 'start') {
      const shared = new ColourTable(m.shared);
      const seed = fromWire(m.seed, shared);
      job = {
        id: m.job,
        width: m.width,
        shared,
        mapper: new FrameMapper(shared, m.localPalettes),
        writer: GifWriter.part(m.width, m.height, shared, seed, { localPalettes: m.localPalettes, lossy: m.lossy }),
        before: { i: m.seed.i, m: seed },
        mapped: m.returnMapped ? [] : undefined,
      };
    } else if (m.type === 'frame' || m.type === 'mapped') {
      const j = job!;
      const { before } = j;
      const own = m.type === 'frame';
      const frame = own ? j.mapper.mapAfter(before, m.rgba, m.i, m.changedBox, j.width, j.spare) : fromWire(m.mapped, j.shared);
      if (own) j.spare = undefined;
      j.writer.add(frame, m.delayCs);
      // The writer compares the next frame with this one: the one before is free, unless sent back.
      if (!j.mapped || !before.own) j.spare = before.m.index;
      if (own && j.mapped) j.mapped.push({ i: m.i, index: frame.index, ...(frame.local ? { palette: frame.table.palette } : {}) });
      j.before = { i: m.i, m: frame, own };
      // Its pixels are free: the sender may send another (PartJob's bound on frames in flight), in
      // the same buffer.
      if (own) reply({ type: 'took', job: m.job, rgba: m.rgba }, [m.rgba.buffer as ArrayBuffer]);
      else reply({ type: 'took', job: m.job });
    } else {
      const j = job!;
      job = undefined;
      const part = j.writer.finishPart();
      const mapped = j.mapped ?? [];
      reply({ type: 'done', job: m.job, part, mapped }, [part.bytes.buffer as ArrayBuffer, ...mapped.map((x) => x.index.buffer as ArrayBuffer)]);
    }
  } catch (err) {
    job = undefined;
    reply({ type: 'error', job: m.job, message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});

// Made ahead of the encodes (preparePartWorker): compiled before the first part comes (warm.ts).
warmEncoder();
