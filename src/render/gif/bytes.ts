/** A growable byte buffer: the GIF being written. */
export class ByteSink {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  u16(v: number): void {
    this.reserve(2);
    this.buf[this.length++] = v & 255;
    this.buf[this.length++] = (v >> 8) & 255;
  }

  bytes(b: Uint8Array | readonly number[]): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Overwrites a little-endian 16-bit value written earlier. */
  setU16(at: number, v: number): void {
    this.buf[at] = v & 255;
    this.buf[at + 1] = (v >> 8) & 255;
  }

  getU16(at: number): number {
    return this.buf[at]! | (this.buf[at + 1]! << 8);
  }

  /** Drops everything written after `at` (an attempt that is thrown away). */
  truncate(at: number): void {
    this.length = at;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
