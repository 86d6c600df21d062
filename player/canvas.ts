// Canvas drawing recorded by rrweb's recorder (recordCanvas; PostHog's "capture canvas" setting),
// replayed by the player itself. rrweb replays it only with UNSAFE_replayCanvas, which also lets the
// recorded page's scripts run in the replay, decodes every canvas picture of the whole recording at
// each page load, and rebuilds arguments by calling whatever constructor of the player's window the
// recording names. Here only the 2D context's drawing calls and settings are applied, arguments are
// plain values or images made from bytes, and nothing runs that the recording wrote.
//
// A canvas in a document that may not run scripts (the replay's sandboxed iframe) is not drawn: the
// browser shows its fallback content instead, as the HTML standard says (the reason rrweb's canvas
// replay takes the sandbox off). So the replay's canvases are laid out by a rule of the player
// (CANVAS_RULE) and show their pixels as a background image: the recording's own picture, or the
// canvas's bitmap after its recorded calls, encoded once per step that changed it.

import { forEachSerializedNode, IncrementalSource } from '../src/recording/rrweb-shape.js';
import { within } from './within.js';

/** One recorded call on a canvas context: a method with its arguments, or a setting (`setter`). */
interface Command {
  property: string;
  args: unknown[];
  setter?: boolean;
}

/** What a CanvasMutation event carries: the canvas's node id, the context's kind (0: 2D), its calls. */
interface CanvasMutation {
  id: number;
  type: number;
  commands: Command[];
}

/** CanvasRenderingContext2D methods a recording may call (drawing, paths, transforms, state). */
const METHODS = new Set([
  'arc', 'arcTo', 'beginPath', 'bezierCurveTo', 'clearRect', 'clip', 'closePath', 'drawImage', 'ellipse', 'fill',
  'fillRect', 'fillText', 'lineTo', 'moveTo', 'putImageData', 'quadraticCurveTo', 'rect', 'reset', 'resetTransform',
  'restore', 'rotate', 'roundRect', 'save', 'scale', 'setLineDash', 'setTransform', 'stroke', 'strokeRect',
  'strokeText', 'transform', 'translate',
]);

/** CanvasRenderingContext2D settings a recording may set (plain values only). */
const SETTINGS = new Set([
  'direction', 'fillStyle', 'filter', 'font', 'fontKerning', 'fontStretch', 'fontVariantCaps', 'globalAlpha',
  'globalCompositeOperation', 'imageSmoothingEnabled', 'imageSmoothingQuality', 'letterSpacing', 'lineCap',
  'lineDashOffset', 'lineJoin', 'lineWidth', 'miterLimit', 'shadowBlur', 'shadowColor', 'shadowOffsetX',
  'shadowOffsetY', 'strokeStyle', 'textAlign', 'textBaseline', 'textRendering', 'wordSpacing',
]);

/** Typed arrays the recorder writes as { rr_type, args: [numbers] }. */
const TYPED_ARRAYS: Record<string, new (values: number[]) => ArrayBufferView> = {
  Uint8ClampedArray,
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
};

/** An argument the recording's serialized form cannot be turned into (the call is skipped). */
const UNUSABLE: unique symbol = Symbol('unusable');
type Unusable = typeof UNUSABLE;

type Deadline = () => number;

/** Images drawn by URL kept loaded (the oldest go first). */
const MAX_IMAGES = 64;

/** How deep a recorded argument may nest (an ImageBitmap of a Blob of an ArrayBuffer is three). */
const MAX_ARG_DEPTH = 6;

/**
 * Lays a replay canvas out as the browser lays out a drawn one: its width and height attributes as
 * its size when CSS gives none, their ratio when CSS gives one side. Without it a canvas sized only
 * by its attributes would take no room at all (fallback content: an empty inline box). Inserted
 * first in the replay's head, so the page's own rules win where they say otherwise.
 */
export const CANVAS_RULE =
  'canvas { display: inline-block; contain: size; contain-intrinsic-size: attr(width px, 300px) attr(height px, 150px); ' +
  'aspect-ratio: attr(width type(<number>), 300) / attr(height type(<number>), 150); min-width: 0; min-height: 0; }';

/**
 * The canvas calls of the events applied since the last look, drawn on the replay's canvases in
 * recorded order when the step settles (the canvases then exist in the page, whether the events
 * went through rrweb's virtual DOM or not).
 */
export class CanvasReplay {
  private queue: CanvasMutation[] = [];
  /** Images the recording draws by URL (a sprite drawn at every frame is loaded once). */
  private readonly images = new Map<string, Promise<HTMLImageElement | undefined>>();
  /** Each canvas's picture: the URL its background shows (blob: ones are ours to revoke). */
  private readonly shown = new Map<number, string>();
  /** Pictures the page's snapshot or mutations carry (rr_dataURL), to show at the next apply. */
  private readonly given = new Map<number, string>();

  constructor(private readonly nodeOf: (id: number) => Node | null) {}

  /** Queues a CanvasMutation event's data (one of another shape is left out). */
  add(data: unknown): void {
    const m = mutationOf(data);
    if (m) this.queue.push(m);
  }

  /** Notes the canvas pictures (rr_dataURL) in a serialized node tree: a snapshot, or nodes a mutation adds. */
  addNodes(node: unknown): void {
    forEachSerializedNode(node, (n) => {
      const url = n.attributes?.rr_dataURL;
      if (typeof n.id === 'number' && typeof n.tagName === 'string' && n.tagName.toLowerCase() === 'canvas' && typeof url === 'string' && url.startsWith('data:image/')) this.given.set(n.id, url);
    });
  }

  /** Forgets what was queued and shown: the page was built again, with new canvases. */
  reset(): void {
    this.queue = [];
    this.given.clear();
    for (const url of this.shown.values()) if (url.startsWith('blob:')) URL.revokeObjectURL(url);
    this.shown.clear();
  }

  /**
   * Draws what was queued, in order, and shows each changed canvas's pixels, waiting at most
   * `capMs` for images to decode. A canvas picture (rrweb's sampled form: clear the canvas, draw an
   * image of all of it) makes the calls before it on that canvas moot, so a step over many of them
   * decodes only the last. Canvases the page's own changes restyled get their picture back.
   */
  async apply(capMs: number): Promise<void> {
    this.keepShown();
    if (this.queue.length === 0 && this.given.size === 0) return;
    const queue = latestOnly(this.queue);
    this.queue = [];
    const end = performance.now() + capMs;
    const left: Deadline = () => Math.max(0, end - performance.now());
    const pictures = new Map<number, string>(this.given);
    this.given.clear();
    const drawn = new Set<number>();
    for (const m of queue) {
      const canvas = canvasOf(this.nodeOf(m.id));
      // WebGL calls are not replayed (the recording's sampled form is 2D whatever the page used).
      if (!canvas || m.type !== 0) continue;
      try {
        if (isPicture(m)) {
          // The recorder's picture of the whole canvas, shown as it is: nothing to draw or encode.
          const inner = (m.commands[1]!.args[0] as { args?: unknown }).args;
          const blob = Array.isArray(inner) ? await this.arg(inner[0], left) : undefined;
          if (blob instanceof Blob) pictures.set(m.id, URL.createObjectURL(blob));
          drawn.delete(m.id);
          continue;
        }
        const ctx = canvas.getContext('2d');
        if (!ctx) continue;
        for (const c of m.commands) await this.call(ctx, c, left);
        pictures.delete(m.id);
        drawn.add(m.id);
      } catch {
        // Canvas data the browser cannot use (the recording's fault) costs that event, not the render.
      }
    }
    for (const id of drawn) {
      // toDataURL, not toBlob: toBlob encodes in the page's idle time, which a page whose frames
      // Node draws one by one reaches only by its one-second fallback.
      const canvas = canvasOf(this.nodeOf(id));
      try {
        if (canvas) pictures.set(id, canvas.toDataURL('image/png'));
      } catch {
        // A canvas whose pixels cannot be read (tainted all the same): it keeps its last picture.
      }
    }
    await Promise.all([...pictures].map(([id, url]) => this.show(id, url, left)));
  }

  /** Shows `url` as canvas `id`'s pixels once it has decoded (the picture before stays until then). */
  private async show(id: number, url: string, left: Deadline): Promise<void> {
    const img = new Image();
    img.src = url;
    await within(img.decode(), left(), UNUSABLE);
    const before = this.shown.get(id);
    this.shown.set(id, url);
    const canvas = canvasOf(this.nodeOf(id));
    if (canvas) paint(canvas, url);
    if (before?.startsWith('blob:') && before !== url) URL.revokeObjectURL(before);
  }

  /** Puts pictures back on canvases whose style attribute the page's events replaced. */
  private keepShown(): void {
    for (const [id, url] of this.shown) {
      const canvas = canvasOf(this.nodeOf(id));
      // Ours is the one set as important: a style attribute the page's events replaced has none.
      if (canvas && canvas.style.getPropertyPriority('background-image') !== 'important') paint(canvas, url);
    }
  }

  private async call(ctx: CanvasRenderingContext2D, c: Command, left: Deadline): Promise<void> {
    const target = ctx as unknown as Record<string, unknown>;
    try {
      if (c.setter) {
        const v = c.args[0];
        if (SETTINGS.has(c.property) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) target[c.property] = v;
        return;
      }
      if (!METHODS.has(c.property)) return;
      const args: unknown[] = [];
      for (const a of c.args) {
        const v = await this.arg(a, left);
        if (v === UNUSABLE) return;
        args.push(v);
      }
      (target[c.property] as (...a: unknown[]) => unknown).apply(ctx, args);
    } catch {
      // A call the browser refuses (bad arguments in the recording) leaves the canvas as it is.
    }
  }

  /** A recorded argument as the value to pass, or UNUSABLE (also past MAX_ARG_DEPTH: the recorder nests a few levels). */
  private async arg(a: unknown, left: Deadline, depth = 0): Promise<unknown> {
    if (a === null || typeof a === 'number' || typeof a === 'string' || typeof a === 'boolean') return a;
    if (depth >= MAX_ARG_DEPTH) return UNUSABLE;
    const inner = (x: unknown) => this.arg(x, left, depth + 1);
    if (Array.isArray(a)) {
      const out: unknown[] = [];
      for (const x of a) {
        const v = await inner(x);
        if (v === UNUSABLE) return UNUSABLE;
        out.push(v);
      }
      return out;
    }
    if (typeof a !== 'object') return UNUSABLE;
    const o = a as { rr_type?: unknown; args?: unknown; src?: unknown; base64?: unknown; data?: unknown; type?: unknown };
    const type = typeof o.rr_type === 'string' ? o.rr_type : '';
    const list = Array.isArray(o.args) ? o.args : [];
    if (type in TYPED_ARRAYS && Array.isArray(list[0]) && list[0].every((n) => typeof n === 'number')) return new TYPED_ARRAYS[type]!(list[0] as number[]);
    if (type === 'ArrayBuffer' && typeof o.base64 === 'string') return bytesOf(o.base64)?.buffer ?? UNUSABLE;
    if (type === 'Blob' && Array.isArray(o.data)) {
      const parts: BlobPart[] = [];
      for (const d of o.data) {
        const v = await inner(d);
        if (!(v instanceof ArrayBuffer || ArrayBuffer.isView(v) || typeof v === 'string')) return UNUSABLE;
        parts.push(v as BlobPart);
      }
      return new Blob(parts, { type: typeof o.type === 'string' ? o.type : '' });
    }
    if (type === 'ImageData') {
      const [data, w, h] = await Promise.all(list.map(inner));
      if (!(data instanceof Uint8ClampedArray) || typeof w !== 'number' || typeof h !== 'number') return UNUSABLE;
      try {
        return new ImageData(data as Uint8ClampedArray<ArrayBuffer>, w, h);
      } catch {
        return UNUSABLE;
      }
    }
    if (type === 'ImageBitmap') {
      const source = await inner(list[0]);
      if (!(source instanceof Blob || source instanceof ImageData)) return UNUSABLE;
      return within(createImageBitmap(source), left(), UNUSABLE);
    }
    if ((type === 'HTMLImageElement' || type === 'HTMLCanvasElement') && typeof o.src === 'string') return (await this.image(o.src, left)) ?? UNUSABLE;
    return UNUSABLE;
  }

  /** An image the recording draws by URL (data: or the page's own, through the asset proxy), once loaded. */
  private async image(src: string, left: Deadline): Promise<HTMLImageElement | undefined> {
    let loading = this.images.get(src);
    if (!loading) {
      const img = new Image();
      // Loaded for CORS (the asset proxy allows every origin): a canvas that drew a cross-origin
      // image without it is tainted, and its pixels can no longer be read to show them.
      img.crossOrigin = 'anonymous';
      img.src = src;
      loading = img.decode().then(
        () => img,
        () => undefined,
      );
      this.images.set(src, loading);
      // A recording that draws ever new images (a data: URL per frame) must not keep them all.
      if (this.images.size > MAX_IMAGES) this.images.delete(this.images.keys().next().value!);
    }
    const img = await within(loading, left(), UNUSABLE);
    return img === UNUSABLE ? undefined : (img as HTMLImageElement | undefined);
  }
}

/** The replay canvas this node is, if it is one (the replay's nodes are of another window: no instanceof). */
function canvasOf(node: Node | null): HTMLCanvasElement | undefined {
  const c = node as HTMLCanvasElement | null;
  return c?.nodeName === 'CANVAS' && typeof c.getContext === 'function' ? c : undefined;
}

/**
 * Shows a picture as the canvas's pixels: over its content box, stretched to it, as a canvas's
 * bitmap is. The recorder takes its pictures at the canvas's size on screen, so a canvas with more
 * pixels than its box (a high-DPI chart) is still covered whole.
 */
function paint(canvas: HTMLCanvasElement, url: string): void {
  const s = canvas.style;
  // The URL is the recording's (a snapshot's data: URL): escaped, it cannot end the url() early.
  s.setProperty('background-image', `url("${url.replace(/["\\\n\r]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}")`, 'important');
  s.setProperty('background-size', '100% 100%', 'important');
  s.setProperty('background-repeat', 'no-repeat', 'important');
  s.setProperty('background-origin', 'content-box', 'important');
}

/** The queue with each canvas's calls before its last picture left out. */
function latestOnly(queue: CanvasMutation[]): CanvasMutation[] {
  const pictured = new Set<number>();
  const kept: CanvasMutation[] = [];
  for (let i = queue.length - 1; i >= 0; i--) {
    const m = queue[i]!;
    if (pictured.has(m.id)) continue;
    if (isPicture(m)) pictured.add(m.id);
    kept.push(m);
  }
  return kept.reverse();
}

/** rrweb's sampled form: clearRect, then drawImage of an ImageBitmap at 0,0. */
function isPicture(m: CanvasMutation): boolean {
  const [clear, draw] = m.commands;
  const image = draw?.args[0] as { rr_type?: unknown } | undefined;
  return m.commands.length === 2 && clear!.property === 'clearRect' && draw!.property === 'drawImage' && image?.rr_type === 'ImageBitmap';
}

/** A CanvasMutation event's data in one shape (a single call or a list of them), or undefined. */
function mutationOf(data: unknown): CanvasMutation | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const d = data as { source?: unknown; id?: unknown; type?: unknown; commands?: unknown; property?: unknown; args?: unknown; setter?: unknown };
  if (d.source !== IncrementalSource.CanvasMutation || typeof d.id !== 'number') return undefined;
  const raw = Array.isArray(d.commands) ? d.commands : [d];
  const commands: Command[] = [];
  for (const c of raw as { property?: unknown; args?: unknown; setter?: unknown }[]) {
    if (!c || typeof c.property !== 'string' || !Array.isArray(c.args)) return undefined;
    commands.push({ property: c.property, args: c.args, setter: c.setter === true });
  }
  return { id: d.id, type: typeof d.type === 'number' ? d.type : 0, commands };
}

function bytesOf(base64: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return Uint8Array.fromBase64(base64);
  } catch {
    return undefined;
  }
}
