import { describe, expect, it } from 'vitest';
import { InputError } from '../src/recording/errors.js';
import { parseRecording } from '../src/recording/parse.js';
import { loadFuzzBase } from './support/fuzz-run.js';
import { forms, gzipBomb, malformedCorpus, type MalformedCase } from './support/malformed.js';

/**
 * The parser's edge checks, one by one, on cases of the malformed corpus (derived from a real
 * recording). Each was found by the fuzz tests: without the check, the file got past the parser
 * and broke a later stage (Node's JSON.stringify, rrweb's player, Blink, or memory).
 */

const base = await loadFuzzBase();
const corpus = malformedCorpus(base, { large: false });
const byName = (name: string): MalformedCase => {
  const c = corpus.find((x) => x.name === name);
  if (!c) throw new Error(`no case ${name}`);
  return c;
};

function refusal(input: Buffer): InputError {
  try {
    parseRecording(input);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('parsed without an error');
}

describe('parseRecording refuses what the renderer cannot replay', () => {
  it.each([
    ['dom/deep-snapshot-3000', /nests more than 2048 levels deep \(line 1\)/],
    ['dom/deep-snapshot-10000', /nests more than 2048 levels deep/],
    ['format/nested-1e6-arrays', /nests more than 2048 levels deep/],
    ['retype/snapshot.data=null', /event 3 \(data\): expected an object/],
    ['retype/incremental.data=string', /\(data\): expected an object/],
    ['dom/mutation-mouse-move-empty-positions', /\(data\.positions\): expected a non-empty list/],
    ['dom/mutation-touch-move-null-positions', /\(data\.positions\)/],
    ['dom/mutation-drag-positions-object', /\(data\.positions\)/],
    ['dom/mutation-mouse-interaction-garbage', /\(data\.type\): a mouse interaction type is a whole number from 0 to 10/],
    ['dom/mutation-mouse-interaction-type-string', /\(data\.type\)/],
    ['dom/mutation-adopted-stylesheet-ids-not-array', /\(data\.styleIds\): expected a list/],
    ['data/meta.width=1e9', /\(data\.width\): a viewport side must be between 1 and 100000 px/],
    ['data/meta.width=1e-9', /\(data\.width\)/],
    ['dom/later-snapshot-tag-invalid-name', /node \d+\): not a valid element name/],
    ['dom/later-snapshot-tag-empty', /not a valid element name/],
    ['dom/later-snapshot-element-without-childnodes', /childNodes must be a list/],
    ['dom/later-snapshot-childnodes-with-null', /every DOM node must be an object/],
    ['dom/later-snapshot-document-inside-body', /a document can only be the root or inside a frame/],
    ['dom/later-snapshot-doctype-inside-body', /a doctype can only be inside a document/],
    ['dom/later-snapshot-shadow-host-flag-on-void', /<img> cannot host a shadow root/],
    ['dom/later-snapshot-media-state-garbage', /media playback rate/],
    ['dom/later-snapshot-node-type-99', /a DOM node type is 0 to 5/],
  ])('%s', (name, message) => {
    const err = refusal(byName(name).bytes());
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/\n/);
  });

  it('a CDATA section (inline SVG keeps them) is replayed as the text it holds, not refused', () => {
    const events = parseRecording(byName('dom/later-snapshot-cdata-in-html').bytes()).events;
    const texts: unknown[] = [];
    const walk = (n: { type: number; textContent?: string; childNodes?: unknown[] }) => {
      if (n.textContent === ']]>') texts.push(n.type);
      for (const c of n.childNodes ?? []) walk(c as typeof n);
    };
    for (const e of events) if (e.type === 2) walk((e.data as { node: { type: number } }).node);
    expect(texts).toEqual([3]);
  });

  it('a PostHog cv payload is inflated only up to what is left of the size limit', () => {
    // 64 MiB of zeros from a 64 KiB line: refused under a 16 MiB limit, inflated (and found not to be
    // JSON) under a 128 MiB one, so the limit is what stops it.
    const snap = (base as { type: number }[]).findIndex((e) => e.type === 2);
    const bomb = Buffer.from(forms.posthogPairs(base.map((e, i) => (i === snap ? { ...(e as object), cv: '2024-10', data: gzipBomb(64).toString('latin1') } : e))));
    expect(() => parseRecording(bomb, { maxBytes: 16 * 1024 * 1024 })).toThrow(/line \d+ takes the recording over its size limit once decompressed/);
    expect(() => parseRecording(bomb, { maxBytes: 128 * 1024 * 1024 })).toThrow(/is not JSON once decompressed/);
  });

  it('accepts what rrweb writes: the real recording in every form, hidden windows (0 × 0 Meta), deep but plausible DOM', () => {
    for (const input of [forms.jsonArray(base), forms.jsonLines(base), forms.posthogPairs(base), forms.posthogBlobs(base), forms.gzip(forms.jsonLines(base))]) {
      expect(parseRecording(input).events.length).toBe(base.length);
    }
    const hidden = base.map((e) => ((e as { type: number }).type === 4 ? { ...(e as object), timestamp: (e as { timestamp: number }).timestamp + 1, data: { href: 'x', width: 0, height: 0 } } : e));
    expect(() => parseRecording(forms.jsonArray([...base, ...hidden]))).not.toThrow();
    expect(parseRecording(byName('dom/deep-snapshot-1000').bytes()).events.length).toBe(base.length);
  });
});
