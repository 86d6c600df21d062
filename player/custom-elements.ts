// Custom elements defined as the user's page had them (`:defined`). Web component libraries tell
// their users to hide an element until its definition loads (Shoelace, Web Awesome, Material Web,
// Lit's docs: `:not(:defined) { visibility: hidden }`), and the replay's document runs no scripts, so
// nothing in it was ever defined: every control of such a page was missing from the replay
// (rrweb-io/rrweb#1314, #1438; rrweb's own replay included for any element upgraded after its
// snapshot). rrweb records a definition the page made after the recorder started (a CustomElement
// event with the name) and marks each serialized element whose name was defined then (`isCustom`,
// which rrweb's rebuild defines); this plugin defines the names of the events, at their time, in the
// replay frame's registry, with a class that does nothing: the element is `:defined` from then on,
// as live, and nothing of the page's own code runs.
import type { eventWithTime } from '@posthog/rrweb-types';
import { EventType, IncrementalSource } from '../src/recording/rrweb-shape.js';

/** Names defined at most: far beyond any page's components (a hostile recording must not grow this without end). */
const NAMES_MAX = 10_000;

interface ReplayerLike {
  iframe?: HTMLIFrameElement;
}

type RegistryWindow = Window & typeof globalThis;

/**
 * Defines, in the replay frame, each custom element name the recording says the page defined (a
 * Replayer plugin). Definitions outlive a new snapshot in the same frame, as rrweb's rebuild keeps
 * the frame's window: the page being built again defines the same names.
 */
export class CustomElementDefinitions {
  private defined = 0;

  readonly plugin = {
    handler: (event: eventWithTime, _isSync: boolean, { replayer }: { replayer: ReplayerLike }) => {
      if (event.type !== EventType.IncrementalSnapshot) return;
      const d = event.data as { source?: number; define?: { name?: unknown } };
      if (d.source !== IncrementalSource.CustomElement || typeof d.define?.name !== 'string') return;
      this.define(replayer.iframe?.contentWindow as RegistryWindow | null | undefined, d.define.name);
    },
  };

  private define(win: RegistryWindow | null | undefined, name: string): void {
    const registry = win?.customElements;
    if (!registry || this.defined >= NAMES_MAX || registry.get(name)) return;
    try {
      // The frame's own HTMLElement: a class from this realm cannot be an element of that one.
      registry.define(name, class extends win.HTMLElement {});
      this.defined++;
    } catch {
      // A name the browser refuses (not a valid custom element name, reserved, or defined by
      // rrweb's rebuild meanwhile) stays as it is.
    }
  }
}
