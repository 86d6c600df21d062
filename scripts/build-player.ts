// `npm run build:player`: bundles the player page once, so a render need not (src/render/player-bundle.ts).
import { writePlayerBundle } from '../src/render/player-bundle.js';

const bundle = await writePlayerBundle();
console.log(`player bundle: ${bundle.file} (${bundle.inputs.length} sources)`);
