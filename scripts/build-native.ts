// `npm run build:native`: compiles native/keep-pages.c into dist/native, so that a render need not
// (src/render/keep-pages.ts). Needs a C compiler (CC, default cc).
import { buildKeepPages } from '../src/render/keep-pages.js';

console.log(`keep-pages: ${await buildKeepPages()}`);
