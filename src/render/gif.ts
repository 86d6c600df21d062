// The GIF encoder (src/render/gif/): palette, writer, LZW (lossless and lossy), byte budget, the second thread.
export { PaletteSampler, PaletteMap, paletteFor, MAX_COLORS, type Palette } from './gif/palette.js';
export { GifWriter, ColourTable, FrameMapper, type GifStats, type MappedFrame, type WriterOptions } from './gif/writer.js';
export { GifEncoder, LOSSY_LEVELS, stepNames, type BudgetReport, type EncodeInput, type EncodeOutput, type EncodeSettings, type SourceFrame } from './gif/budget.js';
export { encodeClip, encodeTaps } from './gif/encode.js';
export { closePartWorker, partWorkerReady, preparePartWorker } from './gif/part.js';
