// One render in a process of its own, for the benchmark: node --import tsx bench/lib/render-child.ts
//   <events.json> <options.json> <context.json> <out.gif>   -> prints the RenderResult (without the GIF) as JSON
// A render measured inside the bench process shared it with the recordings and screenshots every row
// keeps (a heap of 0.8 GB): its garbage collections made the fixture moment 6.9 s instead of 4.4 s.
import { readFile, writeFile } from 'node:fs/promises';
import type { RrwebEvent } from '../../src/recording/types.js';
import { renderRecording } from '../../src/render/render.js';
import type { RenderContext, RenderOptions } from '../../src/render/types.js';
import { ProcessSampler } from './process-usage.js';

const [eventsFile, optionsJson, contextJson, outFile] = process.argv.slice(2);
const events = JSON.parse(await readFile(eventsFile!, 'utf8')) as RrwebEvent[];
// The recording is parsed before sampling starts: the usage is the render's, Chromium's start included.
const usage = new ProcessSampler();
const r = await renderRecording(events, JSON.parse(optionsJson!) as RenderOptions, JSON.parse(contextJson!) as RenderContext);
const processes = usage.stop().byKind;
await writeFile(outFile!, r.gif);
const { gif: _gif, ...rest } = r;
process.stdout.write(JSON.stringify({ ...rest, processes }));
