// gifenc ships no types; these cover the calls we make (see node_modules/gifenc/src/index.js).
declare module 'gifenc' {
  export type Palette = number[][];
  export type ColorFormat = 'rgb565' | 'rgb444' | 'rgba4444';
  export interface WriteFrameOptions {
    palette?: Palette;
    delay?: number;
    transparent?: boolean;
    transparentIndex?: number;
    repeat?: number;
    colorDepth?: number;
    dispose?: number;
    first?: boolean;
  }
  export interface Encoder {
    writeFrame(index: Uint8Array, width: number, height: number, opts?: WriteFrameOptions): void;
    finish(): void;
    bytes(): Uint8Array;
    bytesView(): Uint8Array;
  }
  // The package is CommonJS: Node's ESM loader sees only its default export.
  const gifenc: {
    GIFEncoder(opts?: { auto?: boolean; initialCapacity?: number }): Encoder;
    quantize(
      rgba: Uint8Array | Uint8ClampedArray,
      maxColors: number,
      opts?: { format?: ColorFormat; oneBitAlpha?: boolean | number; clearAlpha?: boolean },
    ): Palette;
    applyPalette(rgba: Uint8Array | Uint8ClampedArray, palette: Palette, format?: ColorFormat): Uint8Array;
  };
  export default gifenc;
}
