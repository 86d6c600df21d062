import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startSite, type SiteServer } from './site-server.js';

/**
 * A documentation site in a theme we did not write: Material for MkDocs (Debian's `mkdocs-material`
 * with `mkdocs`), the theme of a great many projects' docs: its JavaScript swaps pages in place
 * (instant navigation), wraps tables, searches in a web worker, switches palettes, folds admonitions
 * into <details> and content into tabs, shows a back-to-top button; its tables are styled by
 * `table:not([class])`, which rrweb's hover class broke (player/state-selectors.ts). The theme,
 * its scripts and the HTML are the theme's; the Markdown pages are generated here (the words do not
 * matter to a replay). Built once per machine into the system's temporary directory, in a folder
 * named by the pages and settings (the same pages each time, so a stored recording finds its site
 * again; pages edited here are built anew).
 */

/** Where Debian's package puts the theme. */
const THEME_DIR = '/usr/share/mkdocs/themes/material';

/** Why the site cannot be built here, or undefined when it can. */
export function mkdocsMissing(): string | undefined {
  if (!existsSync(THEME_DIR)) return `no Material for MkDocs theme at ${THEME_DIR} (apt-get install mkdocs mkdocs-material)`;
  try {
    execFileSync('mkdocs', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'no `mkdocs` command (apt-get install mkdocs mkdocs-material)';
  }
  return undefined;
}

const CONFIG = `site_name: Acme Platform Docs
theme:
  name: material
  features: [navigation.instant, navigation.tabs, navigation.sections, navigation.top, search.suggest, search.highlight, content.tabs.link]
  palette:
    - scheme: default
      primary: indigo
      accent: indigo
      toggle: { icon: material/brightness-7, name: Switch to dark mode }
    - scheme: slate
      primary: indigo
      accent: indigo
      toggle: { icon: material/brightness-4, name: Switch to light mode }
markdown_extensions:
  - admonition
  - pymdownx.details
  - pymdownx.superfences
  - pymdownx.highlight
  - pymdownx.inlinehilite
  - pymdownx.tabbed: { alternate_style: true }
  - attr_list
  - tables
  - toc: { permalink: true }
nav:
  - Home: index.md
  - Guide:
      - Getting started: guide/start.md
      - Configuration: guide/config.md
  - Reference:
      - API: reference/api.md
`;

const PARAGRAPH =
  'Acme Platform routes events from your applications to the services that need them. Each pipeline reads from a source, applies transforms and writes to sinks, with retries and dead-letter queues for anything that fails. ';

/** A page of `sections` sections: prose, an admonition, a folded one or code in tabs, and an options table each. */
function page(title: string, sections: number): string {
  const out = [`# ${title}\n`];
  for (let i = 0; i < sections; i++) {
    out.push(`## Section ${i + 1}\n\n${PARAGRAPH.repeat(3)}\n`);
    if (i % 3 === 0) out.push(`!!! note "Good to know"\n    ${PARAGRAPH}\n`);
    if (i % 3 === 1) out.push(`??? warning "Limits (click to expand)"\n    ${PARAGRAPH.repeat(2)}\n`);
    if (i % 3 === 2) {
      out.push('=== "Python"\n\n    ```python\n    from acme import Pipeline\n    p = Pipeline("orders")\n    p.run(retries=3)\n    ```\n');
      out.push('=== "JavaScript"\n\n    ```js\n    import { Pipeline } from "acme";\n    const p = new Pipeline("orders");\n    await p.run({ retries: 3 });\n    ```\n');
    }
    out.push('| Option | Default | Description |\n| --- | --- | --- |\n| `retries` | 3 | How often a failed event is tried again |\n| `timeout` | 30s | How long a sink may take |\n| `batch` | 100 | Events written at once |\n');
  }
  return out.join('\n');
}

const PAGES: Record<string, string> = {
  'index.md': page('Acme Platform', 6),
  'guide/start.md': page('Getting started', 10),
  'guide/config.md': page('Configuration', 8),
  'reference/api.md': page('API reference', 12),
};

const SITE_DIR = join(tmpdir(), `replay-rasterizer-mkdocs-${createHash('sha256').update(CONFIG).update(JSON.stringify(PAGES)).digest('hex').slice(0, 12)}`);

/** The built site's directory, built first when absent. Throws with mkdocsMissing's reason. */
export function mkdocsSiteRoot(): string {
  const built = join(SITE_DIR, 'site');
  if (existsSync(join(built, 'index.html'))) return built;
  const missing = mkdocsMissing();
  if (missing) throw new Error(missing);
  rmSync(SITE_DIR, { recursive: true, force: true });
  writeFileSync(ensureDir(join(SITE_DIR, 'mkdocs.yml')), CONFIG);
  for (const [path, text] of Object.entries(PAGES)) writeFileSync(ensureDir(join(SITE_DIR, 'docs', path)), text);
  execFileSync('mkdocs', ['build', '--quiet', '--site-dir', built], { cwd: SITE_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
  return built;
}

function ensureDir(file: string): string {
  mkdirSync(dirname(file), { recursive: true });
  return file;
}

/** The theme's version as the built pages name it (`mkdocs-material-8.2.5`). */
export function mkdocsMaterialVersion(): string {
  const html = readFileSync(join(mkdocsSiteRoot(), 'index.html'), 'utf8');
  return /mkdocs-material-([\w.]+)/.exec(html)?.[1] ?? 'unknown';
}

export function startMkdocsSite(port = 0): Promise<SiteServer> {
  return startSite({ port, root: mkdocsSiteRoot() });
}
