import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/recording/errors.js';
import { parseRecording } from '../src/recording/parse.js';

// A real recording made by rrweb's recorder on the fixture shop (scripts/record-example.ts), as JSON Lines.
const exampleLines = readFileSync(new URL('../examples/journey.json.gz', import.meta.url));
const events = parseRecording(exampleLines).events;

describe('format detection', () => {
  const array = JSON.stringify(events);
  const lines = events.map((e) => JSON.stringify(e)).join('\n');
  const pairs = events.map((e) => JSON.stringify(['window-1', e])).join('\n');
  // PostHog's blob storage: one line per batch, `{window_id, data: [events]}`.
  const batches = [0, 40, 90, events.length]
    .slice(0, -1)
    .map((from, i, all) => JSON.stringify({ window_id: 'w-7', data: events.slice(from, all[i + 1] ?? events.length) }))
    .join('\n');

  it.each([
    ['a JSON array', array, 'json-array'],
    ['JSON Lines', lines, 'json-lines'],
    ['PostHog [windowId, event] lines', pairs, 'posthog-snapshots'],
    ['PostHog {window_id, data} lines', batches, 'posthog-snapshots'],
  ] as const)('reads %s, plain and gzipped, to the same events', (_name, text, format) => {
    for (const input of [Buffer.from(text), gzipSync(text)]) {
      const parsed = parseRecording(input);
      expect(parsed.format).toBe(format);
      expect(parsed.gzipped).toBe(input[0] === 0x1f);
      expect(parsed.events.map((e) => [e.type, e.timestamp])).toEqual(events.map((e) => [e.type, e.timestamp]));
    }
  });

  // PostHog's snapshot API answers, saved to a file as they came.
  const half = Math.floor(events.length / 2);
  const byWindow = { 'w-a': events.slice(0, half), 'w-b': events.slice(half) };
  it.each([
    ['{snapshot_data_by_window_id}', { snapshot_data_by_window_id: byWindow, next: null }],
    ['{result: {snapshot_data_by_window_id}}', { result: { snapshot_data_by_window_id: byWindow, next: null } }],
    ['the long-term storage form', { version: '2022-12-22', snapshot_data_by_window_id: byWindow }],
    ['{result: {snapshots: [events with window_id]}}', { result: { snapshots: events.map((e, i) => ({ ...e, window_id: i < half ? 'w-a' : 'w-b' })) } }],
    ['{snapshots: [{window_id, data}]}', { snapshots: [{ window_id: 'w-a', data: byWindow['w-a'] }, { window_id: 'w-b', data: byWindow['w-b'] }] }],
    ['{snapshots: [[windowId, event]]}', { snapshots: events.map((e, i) => [i < half ? 'w-a' : 'w-b', e]) }],
  ])('reads a PostHog API answer: %s, with its window ids', (_name, doc) => {
    for (const input of [Buffer.from(JSON.stringify(doc)), gzipSync(JSON.stringify(doc, null, 2))]) {
      const parsed = parseRecording(input);
      expect(parsed.format).toBe('posthog-api-response');
      expect(parsed.events.map((e) => [e.type, e.timestamp])).toEqual(events.map((e) => [e.type, e.timestamp]));
      expect(parsed.events.filter((e) => e.windowId === 'w-a')).toHaveLength(half);
      expect(parsed.events.filter((e) => e.windowId === 'w-b')).toHaveLength(events.length - half);
    }
  });

  it('refuses a PostHog list of blob sources by name, and a malformed answer by its path', () => {
    const sources = { sources: [{ source: 'blob', start_timestamp: '2026-11-01T00:00:00Z', blob_key: '1700000000000-1700000060000' }] };
    expect(() => parseRecording(Buffer.from(JSON.stringify(sources)))).toThrow(/PostHog list of snapshot sources .* not the snapshots/);
    expect(() => parseRecording(Buffer.from(JSON.stringify({ snapshot_data_by_window_id: { w: 'x' } })))).toThrow(/snapshot_data_by_window_id\.w is not a list/);
    expect(() => parseRecording(Buffer.from(JSON.stringify({ snapshots: [{ window_id: 'w', data: [{ nope: 1 }] }] })))).toThrow(/not an rrweb event at snapshots\[0\]\.data\[0\]/);
  });

  it('keeps window ids from PostHog lines and ignores a stray windowId inside events', () => {
    expect(new Set(parseRecording(Buffer.from(pairs)).events.map((e) => e.windowId))).toEqual(new Set(['window-1']));
    expect(new Set(parseRecording(Buffer.from(batches)).events.map((e) => e.windowId))).toEqual(new Set(['w-7']));
    expect(parseRecording(Buffer.from(lines)).events.every((e) => e.windowId === undefined)).toBe(true);
  });

  it('accepts a byte-order mark, CRLF line ends and blank lines', () => {
    const crlf = '\uFEFF' + events.map((e) => JSON.stringify(e)).join('\r\n\r\n') + '\r\n';
    expect(parseRecording(Buffer.from(crlf)).events).toHaveLength(events.length);
  });

  it('sorts events by time, keeping file order for equal times', () => {
    const shuffled = [...events].reverse();
    const parsed = parseRecording(Buffer.from(JSON.stringify(shuffled))).events;
    for (let i = 1; i < parsed.length; i++) expect(parsed[i]!.timestamp).toBeGreaterThanOrEqual(parsed[i - 1]!.timestamp);
  });

  it('decompresses PostHog compressed event data (cv)', () => {
    // posthog-js gzips a full snapshot's data and stores it as a latin1 string marked with cv.
    const full = events.find((e) => e.type === 2)!;
    const packed = { ...full, cv: '2024-10', data: gzipSync(JSON.stringify(full.data)).toString('latin1') };
    const parsed = parseRecording(Buffer.from(JSON.stringify([events[0], packed]))).events;
    const back = parsed.find((e) => e.type === 2)!;
    expect(back.data).toEqual(full.data);
    expect(back.cv).toBeUndefined();
  });
});

describe('bad recordings fail with one clear line', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['an empty file', Buffer.from(''), /empty/],
    ['whitespace', Buffer.from('  \n \n'), /empty/],
    ['not JSON', Buffer.from('hello world'), /not JSON/],
    ['truncated JSON', Buffer.from(JSON.stringify(events).slice(0, 5000)), /line 1 does not parse/],
    ['JSON that is not events', Buffer.from('{"hello": "world"}'), /not an rrweb event/],
    ['an empty array', Buffer.from('[]'), /no rrweb events/],
    ['a wrong event type', Buffer.from(JSON.stringify([{ type: 42, timestamp: 1, data: {} }])), /type/],
    ['a string timestamp', Buffer.from(JSON.stringify([{ type: 2, timestamp: 'now', data: {} }])), /timestamp/],
    ['invalid gzip', Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from('garbage that is not deflate')]), /gzip/],
    ['mixed plain and PostHog lines', Buffer.from(JSON.stringify(events[0]) + '\n' + JSON.stringify(['w', events[1]])), /mixes/],
    ['a bad PostHog pair', Buffer.from(JSON.stringify([{ w: 1 }, events[0]]) + '\n' + JSON.stringify([{ w: 1 }, events[1]])), /windowId/],
  ];
  it.each(cases)('%s', (_name, input, message) => {
    let err: unknown;
    try {
      parseRecording(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('refuses a recording over the size limit, compressed or not', () => {
    const big = Buffer.from(JSON.stringify(events));
    expect(() => parseRecording(big, { maxBytes: 1000 })).toThrow(/limit/);
    expect(() => parseRecording(gzipSync(big), { maxBytes: 1000 })).toThrow(/limit once decompressed/);
  });
});
