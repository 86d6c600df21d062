import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRecording } from '../../src/recording/parse.js';
import type { RrwebEvent } from '../../src/recording/types.js';
import { nodeDocsRoot, startHeavySite } from '../../test/support/heavy-sites.js';
import { apiDocsJourney, bootstrapJourney, componentsJourney, dashboardJourney, heavyJourney, mkdocsJourney, nodeDocsJourney } from '../../test/support/heavy-journeys.js';
import { APIDOCS_PATH, SWAGGER_UI_VERSION, startApiDocsSite } from '../../test/support/apidocs-site.js';
import { BOOTSTRAP_PATH, BOOTSTRAP_VERSION, startBootstrapSite } from '../../test/support/bootstrap-site.js';
import { COMPONENTS_PATH, SHOELACE_VERSION, startComponentsSite } from '../../test/support/components-site.js';
import { BULL_BOARD_VERSION, DASHBOARD_PATH, startDashboardSite } from '../../test/support/dashboard-site.js';
import { mkdocsMaterialVersion, startMkdocsSite } from '../../test/support/mkdocs-site.js';
import { exampleJourney } from '../../test/support/journeys.js';
import { motionJourney } from '../../test/support/motion-journey.js';
import { replayInRealTime } from '../../test/support/realtime-replay.js';
import { recordJourney, type Journey, type Shot } from '../../test/support/recorder.js';
import { FIXTURE_ROOTS, startSite, type ServedAs, type SiteServer } from '../../test/support/site-server.js';

/**
 * The sessions the benchmark renders, recorded by rrweb's recorder on pages served on 127.0.0.1,
 * with live screenshots. Each is recorded once per run, when a row first needs it, and its site stays
 * up until the run ends (a render loads the recording's stylesheets, fonts and images from it).
 * `--reuse-recordings <dir>` keeps them between runs (the site is served again on the port the
 * recording names), so one row can be re-run without recording again.
 */
export type SessionName = 'fixture' | 'motion' | 'rustdoc' | 'mdbook' | 'reading' | 'print' | 'nodedocs' | 'dashboard' | 'apidocs' | 'components' | 'bootstrap' | 'mkdocs';

export interface Session {
  name: SessionName;
  /** What was recorded, on what: for the report. */
  what: string;
  origin: string;
  events: RrwebEvent[];
  /** The events as recorded (what a worker reads from a recordings folder). */
  raw: unknown[];
  shots: Shot[];
  viewport: { width: number; height: number };
  lengthS: number;
}

interface Stored {
  what: string;
  origin: string;
  raw: unknown[];
  viewport: { width: number; height: number };
  shots: (Omit<Shot, 'png'> & { png: string })[];
}

export class Sessions {
  private made = new Map<SessionName, Promise<Session>>();
  private references = new Map<SessionName, Promise<Map<string, Shot>>>();
  private servers: SiteServer[] = [];

  constructor(
    private readonly opts: { reuseDir?: string; log: (msg: string) => void; served?: ServedAs },
  ) {}

  get(name: SessionName): Promise<Session> {
    let s = this.made.get(name);
    if (!s) {
      s = this.make(name);
      this.made.set(name, s);
    }
    return s;
  }

  /**
   * The reference for what the recording holds: rrweb's Replayer playing it in real time, pictured at
   * each shot's moment (test/support/realtime-replay.ts). Where the recorder lost something (rustdoc's
   * `font: ... var(--font-family)` shorthands, for one), the live page cannot be reached by any replay;
   * this can. Shots with the live shot's moment and viewport, by label. Made once per session.
   */
  reference(name: SessionName): Promise<Map<string, Shot>> {
    let r = this.references.get(name);
    if (!r) {
      r = this.makeReference(name);
      this.references.set(name, r);
    }
    return r;
  }

  private async makeReference(name: SessionName): Promise<Map<string, Shot>> {
    const file = this.opts.reuseDir ? join(this.opts.reuseDir, `${name}.reference.json`) : undefined;
    const s = await this.get(name);
    let pngs: Record<string, string> | undefined = file ? await readFile(file, 'utf8').then((t) => JSON.parse(t) as Record<string, string>, () => undefined) : undefined;
    if (!pngs) {
      this.opts.log(`${name}: playing the recording in real time with rrweb's Replayer for the reference pictures (${s.lengthS.toFixed(0)} s)...`);
      const rt = await replayInRealTime(s.raw, s.shots, s.origin, s.viewport);
      const late = rt.filter((r) => r.lateMs > 40);
      if (late.length) this.opts.log(`${name}: reference captures over 40 ms late: ${late.map((r) => `${r.label} (${Math.round(r.lateMs)} ms)`).join(', ')}`);
      pngs = Object.fromEntries(rt.map((r) => [r.label, r.png.toString('base64')]));
      if (file) await writeFile(file, JSON.stringify(pngs));
    }
    return new Map(s.shots.filter((shot) => pngs![shot.label]).map((shot) => [shot.label, { ...shot, png: Buffer.from(pngs![shot.label]!, 'base64') }]));
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
  }

  private async make(name: SessionName): Promise<Session> {
    const file = this.opts.reuseDir ? join(this.opts.reuseDir, `${name}.json`) : undefined;
    if (file) {
      const stored = await readFile(file, 'utf8').then((t) => JSON.parse(t) as Stored, () => undefined);
      if (stored) {
        const port = Number(new URL(stored.origin).port);
        const { server } = await serveSession(name, port, this.opts.served);
        this.servers.push(server);
        this.opts.log(`${name}: reusing ${file} (${stored.what}), site served again at ${server.origin}`);
        return this.session(name, stored.what, stored.origin, stored.raw, stored.viewport, stored.shots.map((s) => ({ ...s, png: Buffer.from(s.png, 'base64') })));
      }
    }
    const { server, what, journey } = await serveSession(name, 0, this.opts.served);
    this.servers.push(server);
    this.opts.log(`${name}: recording a fresh session with rrweb's recorder: ${what}...`);
    // The motion journey's shots are timed between events: keep only those with none in the second before.
    const rec = await recordJourney(server.origin, journey, name === 'motion' ? { quiet: { beforeMs: 1000, onNoisy: 'drop' } } : {});
    if (rec.dropped.length) this.opts.log(`${name}: shots dropped: ${rec.dropped.map((d) => `${d.label} (${d.reason})`).join('; ')}`);
    if (file) {
      await mkdir(this.opts.reuseDir!, { recursive: true });
      const stored: Stored = { what, origin: server.origin, raw: rec.events, viewport: rec.viewport, shots: rec.shots.map((s) => ({ ...s, png: s.png.toString('base64') })) };
      await writeFile(file, JSON.stringify(stored));
    }
    return this.session(name, what, server.origin, rec.events, rec.viewport, rec.shots);
  }

  private session(name: SessionName, what: string, origin: string, raw: unknown[], viewport: Session['viewport'], shots: Shot[]): Session {
    const events = parseRecording(Buffer.from(JSON.stringify(raw))).events;
    const lengthS = (events[events.length - 1]!.timestamp - events[0]!.timestamp) / 1000;
    return { name, what, origin, events, raw, shots, viewport, lengthS };
  }
}

/**
 * The site a session is recorded on, served on `port` (0: any free one), with what it is and the
 * journey recorded there: for a new recording, and again for one read back (openStored).
 */
export async function serveSession(name: SessionName, port: number, served: ServedAs = {}): Promise<{ server: SiteServer; what: string; journey: Journey }> {
  if (name === 'fixture') return { server: await startSite({ port, ...served }), what: 'fixture shop, example journey (test/support/journeys.ts)', journey: exampleJourney };
  if (name === 'motion') return { server: await startSite({ port, root: FIXTURE_ROOTS.motion, ...served }), what: 'motion fixture (test/fixtures/motion), motion journey', journey: motionJourney };
  if (name === 'nodedocs') {
    const root = nodeDocsRoot();
    if (!root) throw new Error('no Node.js API docs (/usr/share/doc/nodejs/api, or $NODE_DOCS_DIR)');
    return { server: await startSite({ port, root, ...served }), what: `Node.js API docs at ${root}`, journey: nodeDocsJourney };
  }
  if (name === 'dashboard') {
    // A live application: its latency and caching options do not apply.
    return { server: await startDashboardSite(port), what: `bull-board ${BULL_BOARD_VERSION} (the queue dashboard at ${DASHBOARD_PATH}) over three BullMQ queues on Redis`, journey: dashboardJourney };
  }
  if (name === 'apidocs') {
    return { server: await startApiDocsSite(port), what: `Swagger UI ${SWAGGER_UI_VERSION} (at ${APIDOCS_PATH}) over the service's OpenAPI document`, journey: apiDocsJourney };
  }
  if (name === 'components') {
    return { server: await startComponentsSite(port), what: `an account settings page of Shoelace ${SHOELACE_VERSION} web components (at ${COMPONENTS_PATH})`, journey: componentsJourney };
  }
  if (name === 'mkdocs') {
    return { server: await startMkdocsSite(port), what: `a documentation site in Material for MkDocs ${mkdocsMaterialVersion()} (Debian's mkdocs-material; pages generated by test/support/mkdocs-site.ts)`, journey: mkdocsJourney };
  }
  if (name === 'bootstrap') {
    return { server: await startBootstrapSite(port), what: `a page of Bootstrap ${BOOTSTRAP_VERSION} components (at ${BOOTSTRAP_PATH})`, journey: bootstrapJourney };
  }
  const heavy = await startHeavySite(port, served);
  const { name: journeyName, journey } = heavyJourney(heavy.kind, name);
  return { server: heavy.server, what: `${journeyName} journey on the ${heavy.description}`, journey };
}
