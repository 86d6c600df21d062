import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express from 'express';
import { serveApp, type SiteServer } from './site-server.js';

/**
 * A page built from Bootstrap 5 (its own CSS and JavaScript bundle from npm, the most used component
 * library on the web): a navbar with a dropdown, an accordion, a carousel, a modal, a toast, a
 * tooltip, an offcanvas panel, a collapse, tabs that fade, an animated progress bar, spinners,
 * placeholders, a floating label, a switch and a range. Its transitions keep Bootstrap's own lengths
 * (0.15-0.6 s); several start from a style update Bootstrap forces between two changes of one task
 * (player/forced-starts.ts).
 */

const require = createRequire(import.meta.url);
const DIST = join(dirname(require.resolve('bootstrap/dist/css/bootstrap.min.css')), '..');

/** The library's version, for reports. */
export const BOOTSTRAP_VERSION = (JSON.parse(readFileSync(join(DIST, '..', 'package.json'), 'utf8')) as { version: string }).version;

export const BOOTSTRAP_PATH = '/workspace/';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workspace</title>
<link rel="stylesheet" href="/bootstrap/css/bootstrap.min.css">
<style>
  .slide { height: 180px; display: flex; align-items: center; justify-content: center; color: #fff; font-size: 2rem; }
</style>
</head>
<body>
<nav class="navbar navbar-expand-lg bg-body-tertiary">
  <div class="container-fluid">
    <a class="navbar-brand" href="#">Workspace</a>
    <ul class="navbar-nav me-auto">
      <li class="nav-item"><a class="nav-link active" href="#">Home</a></li>
      <li class="nav-item dropdown">
        <a class="nav-link dropdown-toggle" href="#" id="drop" role="button" data-bs-toggle="dropdown" aria-expanded="false">Menu</a>
        <ul class="dropdown-menu">
          <li><a class="dropdown-item" href="#">Action</a></li>
          <li><a class="dropdown-item" href="#">Another action</a></li>
          <li><hr class="dropdown-divider"></li>
          <li><a class="dropdown-item" href="#">Something else</a></li>
        </ul>
      </li>
    </ul>
    <button class="btn btn-outline-success" id="offcanvas-btn" type="button" data-bs-toggle="offcanvas" data-bs-target="#oc">Open panel</button>
  </div>
</nav>
<div class="container-fluid mt-3">
  <div class="row">
    <div class="col-5">
      <div class="accordion" id="acc">
        <div class="accordion-item">
          <h2 class="accordion-header"><button class="accordion-button" type="button" data-bs-toggle="collapse" data-bs-target="#c1">Accordion item one</button></h2>
          <div id="c1" class="accordion-collapse collapse show" data-bs-parent="#acc"><div class="accordion-body">The first item's body. It is shown by default until another item opens, then it closes with a height transition.</div></div>
        </div>
        <div class="accordion-item">
          <h2 class="accordion-header"><button class="accordion-button collapsed" id="acc2" type="button" data-bs-toggle="collapse" data-bs-target="#c2">Accordion item two</button></h2>
          <div id="c2" class="accordion-collapse collapse" data-bs-parent="#acc"><div class="accordion-body"><strong>The second item's body.</strong> Longer text, so that its height transition is visible: lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</div></div>
        </div>
      </div>
      <div id="car" class="carousel slide mt-3">
        <div class="carousel-indicators">
          <button type="button" data-bs-target="#car" data-bs-slide-to="0" class="active"></button>
          <button type="button" data-bs-target="#car" data-bs-slide-to="1"></button>
          <button type="button" data-bs-target="#car" data-bs-slide-to="2"></button>
        </div>
        <div class="carousel-inner">
          <div class="carousel-item active"><div class="slide" style="background:#0d6efd">First slide</div></div>
          <div class="carousel-item"><div class="slide" style="background:#d63384">Second slide</div></div>
          <div class="carousel-item"><div class="slide" style="background:#198754">Third slide</div></div>
        </div>
        <button class="carousel-control-prev" type="button" data-bs-target="#car" data-bs-slide="prev"><span class="carousel-control-prev-icon"></span></button>
        <button class="carousel-control-next" id="next" type="button" data-bs-target="#car" data-bs-slide="next"><span class="carousel-control-next-icon"></span></button>
      </div>
    </div>
    <div class="col-7">
      <div class="d-flex gap-2 flex-wrap">
        <button type="button" class="btn btn-primary" id="open-modal" data-bs-toggle="modal" data-bs-target="#modal">Launch modal</button>
        <button type="button" class="btn btn-secondary" id="toast-btn">Show toast</button>
        <button type="button" class="btn btn-info" id="tip" data-bs-toggle="tooltip" data-bs-title="A tooltip, faded in">Hover me</button>
        <button class="btn btn-warning" id="collapse-btn" type="button" data-bs-toggle="collapse" data-bs-target="#more">Toggle more</button>
      </div>
      <div class="collapse mt-2" id="more"><div class="card card-body">Collapsed content that slides down when toggled: a card with some text in it.</div></div>
      <ul class="nav nav-tabs mt-3" role="tablist">
        <li class="nav-item"><button class="nav-link active" data-bs-toggle="tab" data-bs-target="#p1" type="button">Overview</button></li>
        <li class="nav-item"><button class="nav-link" id="tab2" data-bs-toggle="tab" data-bs-target="#p2" type="button">Details</button></li>
      </ul>
      <div class="tab-content border border-top-0 p-3">
        <div class="tab-pane fade show active" id="p1">The overview pane: a paragraph of text shown first.</div>
        <div class="tab-pane fade" id="p2"><span class="badge text-bg-success">New</span> The details pane fades in when its tab is chosen.</div>
      </div>
      <div class="mt-3">
        <div class="progress" style="height: 20px"><div class="progress-bar progress-bar-striped progress-bar-animated" style="width: 65%">65%</div></div>
        <div class="mt-3 d-flex gap-3 align-items-center">
          <div class="spinner-border text-primary"></div>
          <div class="spinner-grow text-danger"></div>
          <span class="placeholder-glow" style="width: 200px"><span class="placeholder col-12"></span></span>
        </div>
      </div>
      <form class="mt-3 row g-2">
        <div class="col-6 form-floating"><input class="form-control" id="fl" placeholder="name@example.com"><label for="fl">Email address</label></div>
        <div class="col-6 d-flex align-items-center gap-3">
          <div class="form-check form-switch"><input class="form-check-input" type="checkbox" id="sw" checked><label class="form-check-label" for="sw">Switch</label></div>
          <input type="range" class="form-range" style="width: 120px">
        </div>
      </form>
    </div>
  </div>
</div>
<div class="modal fade" id="modal" tabindex="-1">
  <div class="modal-dialog"><div class="modal-content">
    <div class="modal-header"><h1 class="modal-title fs-5">Modal title</h1><button type="button" class="btn-close" data-bs-dismiss="modal"></button></div>
    <div class="modal-body">A modal that fades in and slides down; its backdrop fades in too.</div>
    <div class="modal-footer"><button type="button" class="btn btn-secondary" id="close-modal" data-bs-dismiss="modal">Close</button><button type="button" class="btn btn-primary">Save changes</button></div>
  </div></div>
</div>
<div class="offcanvas offcanvas-end" tabindex="-1" id="oc">
  <div class="offcanvas-header"><h5 class="offcanvas-title">Panel</h5><button type="button" class="btn-close" id="offcanvas-close" data-bs-dismiss="offcanvas"></button></div>
  <div class="offcanvas-body">An offcanvas panel that slides in from the right, over a fading backdrop.</div>
</div>
<div class="toast-container position-fixed bottom-0 end-0 p-3">
  <div id="toast" class="toast" role="alert"><div class="toast-header"><strong class="me-auto">Saved</strong><small>just now</small><button type="button" class="btn-close" data-bs-dismiss="toast"></button></div><div class="toast-body">Your changes were saved.</div></div>
</div>
<script src="/bootstrap/js/bootstrap.bundle.min.js"></script>
<script>
  document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach((el) => new bootstrap.Tooltip(el));
  document.getElementById('toast-btn').addEventListener('click', () => bootstrap.Toast.getOrCreateInstance(document.getElementById('toast')).show());
</script>
</body>
</html>
`;

export async function startBootstrapSite(port = 0): Promise<SiteServer> {
  const app = express();
  app.get(BOOTSTRAP_PATH, (_req, res) => {
    res.type('html').send(PAGE);
  });
  app.use('/bootstrap', express.static(DIST));
  return serveApp(app, port);
}
