// The replay's shadow roots, for what the document's own calls do not reach. `document.getAnimations()`
// leaves out every animation and transition inside a shadow tree (Chromium 156; `subtree: true` on
// the root element too), and web components keep their whole look there: a Shoelace field's focus
// ring, a switch's slide, a tab's indicator are transitions in shadow roots. The player neither
// placed them at their events' time nor knew they moved, so no frame was drawn while they ran and a
// frame showed a field focused a second before still at the transition's first picture.
//
// The recording names every shadow host (`isShadowHost` in the snapshot and in added nodes; a root
// attached later comes as children added to its host, marked `isShadow`), so the hosts are followed
// from the events the player applies, and their roots asked one by one.
import type { SerializedNode } from '../src/recording/rrweb-shape.js';
import { EventType, forEachSerializedNode, IncrementalSource } from '../src/recording/rrweb-shape.js';

/**
 * Roots asked at most, each step: each is asked twice a step (a page of 20,000 hosts, each root
 * with a transitioned element, all asked: a median step of 63 ms against 3.8 with none; with this
 * bound, 17-27 ms on pages of 5,000 and of 20,000 hosts). On a page of more components (a long feed
 * of them) the first 5,000 recorded that are still in the page are asked; the others are drawn
 * where each step leaves them.
 */
const ROOTS_ASKED_MAX = 5_000;

/** Hosts remembered at most: ids only, those removed forgotten (a host inside a removed subtree is not, and is skipped). */
const HOSTS_MAX = 50_000;

interface MirrorLike {
  getNode(id: number): unknown;
}

interface HostLike {
  isConnected?: boolean;
  shadowRoot?: { getAnimations?(): Animation[] } | null;
}

export class ShadowRoots {
  private hosts = new Set<number>();

  /** Notes the shadow hosts an applied event adds (a full snapshot starts the set again). */
  note(e: { type: number; data: unknown }): void {
    if (e.type === EventType.FullSnapshot) {
      this.hosts.clear();
      this.addHosts((e.data as { node?: unknown } | null)?.node);
      return;
    }
    if (e.type !== EventType.IncrementalSnapshot) return;
    const d = e.data as { source?: number; adds?: unknown; removes?: unknown };
    if (d.source !== IncrementalSource.Mutation) return;
    // A host removed gives its place to later ones (one moved is in the adds again, after this).
    if (Array.isArray(d.removes)) for (const r of d.removes as ({ id?: unknown } | null)[]) if (typeof r?.id === 'number') this.hosts.delete(r.id);
    if (!Array.isArray(d.adds)) return;
    for (const add of d.adds as ({ parentId?: unknown; node?: { isShadow?: unknown } } | null)[]) {
      // A root attached after its host was recorded comes as its children, added to the host.
      if (add?.node?.isShadow === true && typeof add.parentId === 'number') this.add(add.parentId);
      this.addHosts(add?.node);
    }
  }

  private add(id: number): void {
    if (this.hosts.size < HOSTS_MAX) this.hosts.add(id);
  }

  private addHosts(node: unknown): void {
    forEachSerializedNode(node, (n) => {
      if ((n as SerializedNode & { isShadowHost?: unknown }).isShadowHost === true && typeof n.id === 'number') this.add(n.id);
    });
  }

  /**
   * Every animation of the document and of the shadow trees in it. Calling it brings style up to
   * date, as `document.getAnimations()` does, which is what creates the animations a change started.
   */
  animations(doc: Document, mirror: MirrorLike): Animation[] {
    const all = doc.getAnimations();
    let asked = 0;
    for (const id of this.hosts) {
      if (asked >= ROOTS_ASKED_MAX) break;
      const host = mirror.getNode(id) as HostLike | null;
      // One not built yet (noted ahead of its event), or out of the document, has nothing drawn.
      const root = host?.isConnected ? host.shadowRoot : null;
      if (!root?.getAnimations) continue;
      asked++;
      for (const a of root.getAnimations()) all.push(a);
    }
    return all;
  }
}
