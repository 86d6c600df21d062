import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express from 'express';
import { serveApp, type SiteServer } from './site-server.js';

/**
 * A web application built from a component library we did not write: Shoelace (web components, Lit:
 * every control a custom element with an open shadow root, its styles in constructed stylesheets
 * adopted by the root, parts styled from outside with `::part`, animations by the Web Animations
 * API, menus and selects placed by Floating UI, icons fetched and inlined). An account settings
 * page: tabs, fields with help text and a password toggle, a select, switches, a radio group, a
 * dropdown menu, a tooltip, a dialog, an alert toast, details panels, a range, a rating.
 */

const require = createRequire(import.meta.url);
// The package's exports name no package.json: its folder from the custom elements manifest it does export.
const PACKAGE = dirname(dirname(require.resolve('@shoelace-style/shoelace/dist/custom-elements.json')));

/** The library's version, for reports. */
export const SHOELACE_VERSION = (JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as { version: string }).version;

export const COMPONENTS_PATH = '/account/';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Account settings</title>
<link rel="stylesheet" href="/shoelace/themes/light.css">
<script type="module" src="/shoelace/shoelace-autoloader.js"></script>
<style>
  /* Shoelace's documented way to keep controls hidden until their definitions load (no flash of undefined elements). */
  :not(:defined) { visibility: hidden; }
  body { margin: 0; font-family: var(--sl-font-sans); background: var(--sl-color-neutral-50); color: var(--sl-color-neutral-900); }
  header { display: flex; align-items: center; gap: 1rem; padding: .75rem 1.5rem; background: var(--sl-color-primary-700); color: white; }
  header h1 { font-size: 1.1rem; margin: 0; flex: 1; }
  header sl-avatar { --size: 2rem; }
  main { max-width: 880px; margin: 1.5rem auto; padding: 0 1.5rem; }
  sl-card { width: 100%; }
  sl-card::part(body) { display: grid; gap: 1.1rem; }
  .row { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
  .actions { display: flex; gap: .75rem; justify-content: flex-end; }
  sl-tab-group { --indicator-color: var(--sl-color-primary-600); }
  sl-details + sl-details { margin-top: .5rem; }
  sl-alert { position: fixed; right: 1rem; bottom: 1rem; width: 340px; }
  .plan { display: flex; gap: 1rem; align-items: center; }
  footer { text-align: center; color: var(--sl-color-neutral-500); font-size: .85rem; padding: 2rem; }
</style>
</head>
<body>
<header>
  <h1>Acme Cloud</h1>
  <sl-tooltip content="Notifications"><sl-icon-button name="bell" label="Notifications" style="color: white; font-size: 1.3rem"></sl-icon-button></sl-tooltip>
  <sl-dropdown placement="bottom-end" id="user-menu">
    <sl-button slot="trigger" caret size="small" id="user-button"><sl-avatar slot="prefix" initials="AL" label="Ada Lovelace"></sl-avatar>Ada</sl-button>
    <sl-menu>
      <sl-menu-item value="profile"><sl-icon slot="prefix" name="person"></sl-icon>Profile</sl-menu-item>
      <sl-menu-item value="billing"><sl-icon slot="prefix" name="credit-card"></sl-icon>Billing</sl-menu-item>
      <sl-divider></sl-divider>
      <sl-menu-item value="sign-out"><sl-icon slot="prefix" name="box-arrow-right"></sl-icon>Sign out</sl-menu-item>
    </sl-menu>
  </sl-dropdown>
</header>
<main>
<sl-card>
  <sl-tab-group id="tabs">
    <sl-tab slot="nav" panel="profile">Profile</sl-tab>
    <sl-tab slot="nav" panel="security">Security</sl-tab>
    <sl-tab slot="nav" panel="notifications">Notifications</sl-tab>
    <sl-tab slot="nav" panel="plan">Plan</sl-tab>

    <sl-tab-panel name="profile">
      <form id="profile-form" style="display: grid; gap: 1.1rem">
        <div class="row">
          <sl-input name="name" label="Full name" value="Ada Lovelace" required></sl-input>
          <sl-input name="email" type="email" label="Email" value="ada@example" help-text="We send receipts here." required clearable></sl-input>
        </div>
        <sl-select name="region" label="Region" value="eu-west" help-text="Where your data is kept.">
          <sl-option value="us-east">US East (Virginia)</sl-option>
          <sl-option value="us-west">US West (Oregon)</sl-option>
          <sl-option value="eu-west">EU West (Ireland)</sl-option>
          <sl-option value="eu-central">EU Central (Frankfurt)</sl-option>
          <sl-option value="ap-south">Asia Pacific (Mumbai)</sl-option>
        </sl-select>
        <sl-textarea name="bio" label="About you" rows="3" resize="none" placeholder="A line or two for your team"></sl-textarea>
        <sl-radio-group name="theme" label="Theme" value="light">
          <sl-radio-button value="light">Light</sl-radio-button>
          <sl-radio-button value="dark">Dark</sl-radio-button>
          <sl-radio-button value="system">System</sl-radio-button>
        </sl-radio-group>
        <div class="actions">
          <sl-button variant="default" type="reset">Discard</sl-button>
          <sl-button variant="primary" type="submit" id="save">Save changes</sl-button>
        </div>
      </form>
    </sl-tab-panel>

    <sl-tab-panel name="security">
      <sl-input type="password" label="Current password" password-toggle value="correct horse"></sl-input>
      <sl-input type="password" label="New password" password-toggle id="new-password" help-text="At least 12 characters."></sl-input>
      <sl-switch id="two-factor">Two-factor authentication</sl-switch>
      <sl-details summary="Active sessions">
        <p>Firefox on Linux, Dublin: now.</p>
        <p>Safari on iPhone, Dublin: 2 days ago.</p>
      </sl-details>
      <sl-details summary="API keys">
        <p>No keys yet. Keys give scripts access to your account.</p>
      </sl-details>
      <div class="actions"><sl-button variant="danger" outline id="delete">Delete account</sl-button></div>
    </sl-tab-panel>

    <sl-tab-panel name="notifications">
      <sl-checkbox checked>Weekly summary</sl-checkbox><br>
      <sl-checkbox>Product news</sl-checkbox><br>
      <sl-checkbox checked>Failed payments</sl-checkbox>
      <sl-range label="Digest hour" min="0" max="23" value="9" help-text="When the daily digest is sent."></sl-range>
    </sl-tab-panel>

    <sl-tab-panel name="plan">
      <div class="plan"><sl-badge variant="success" pill>Team</sl-badge> 14 of 20 seats used</div>
      <sl-progress-bar value="70"></sl-progress-bar>
      <p>How do you like it?</p>
      <sl-rating label="Rating" value="3"></sl-rating>
    </sl-tab-panel>
  </sl-tab-group>
</sl-card>
<footer>Acme Cloud · settings</footer>
</main>

<sl-dialog label="Delete your account?" id="delete-dialog">
  Everything in it goes, for good: 3 projects, 41 GB of data.
  <sl-input id="confirm" label="Type DELETE to confirm" style="margin-top: 1rem"></sl-input>
  <sl-button slot="footer" variant="default" id="keep">Keep it</sl-button>
  <sl-button slot="footer" variant="danger" id="really-delete">Delete</sl-button>
</sl-dialog>

<sl-alert variant="success" duration="4000" closable id="saved">
  <sl-icon slot="icon" name="check2-circle"></sl-icon>
  <strong>Saved.</strong> Your profile is up to date.
</sl-alert>

<script type="module">
  const form = document.getElementById('profile-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const save = document.getElementById('save');
    save.loading = true;
    setTimeout(() => { save.loading = false; document.getElementById('saved').toast(); }, 900);
  });
  const dialog = document.getElementById('delete-dialog');
  document.getElementById('delete').addEventListener('click', () => dialog.show());
  document.getElementById('keep').addEventListener('click', () => dialog.hide());
</script>
</body>
</html>
`;

export async function startComponentsSite(port = 0): Promise<SiteServer> {
  const app = express();
  app.get(COMPONENTS_PATH, (_req, res) => {
    res.type('html').send(PAGE);
  });
  app.use('/shoelace', express.static(join(PACKAGE, 'cdn')));
  return serveApp(app, port);
}
