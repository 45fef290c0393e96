// The console's shell: hash routes to pages, each page a function (main, params, page) that may start timers through
// page.every(); leaving the page aborts its requests and stops its timers.
import { h, fill, errorBox } from './dom.js';
import { streamsPage } from './streams.js';
import { streamPage } from './stream.js';
import { dataPage } from './data.js';
import { pipelinePage } from './pipeline.js';
import { alarmsPage } from './alarms.js';
import { settingsPage } from './settings.js';

const routes = [
  [/^#\/streams\/([^/]+)\/data$/, dataPage, 'Streams'],
  [/^#\/streams\/([^/]+)$/, streamPage, 'Streams'],
  [/^#\/streams$/, streamsPage, 'Streams'],
  [/^#\/pipeline$/, pipelinePage, 'Pipeline'],
  [/^#\/alarms$/, alarmsPage, 'Alarms'],
  [/^#\/settings$/, settingsPage, 'Settings'],
];

let current = null;

/** What a page gets to run live work: an abort signal for its requests and timers stopped when it is left. */
class Page {
  constructor() {
    this.controller = new AbortController();
    this.timers = new Set();
  }
  get signal() { return this.controller.signal; }
  get active() { return !this.controller.signal.aborted; }
  /** Runs fn now and then every ms until the page is left; a run never overlaps the one before. */
  every(ms, fn) {
    const run = async () => {
      this.timers.delete(timer);
      if (!this.active) return;
      try { await fn(); } catch (e) { if (e.name !== 'AbortError') console.warn(e); }
      if (this.active) { timer = setTimeout(run, ms); this.timers.add(timer); }
    };
    let timer = null;
    run();
  }
  leave() {
    this.controller.abort();
    this.timers.forEach(clearTimeout);
  }
}

function route() {
  const hash = location.hash || '#/streams';
  if (!location.hash) history.replaceState(null, '', '#/streams');
  if (current) current.leave();
  current = new Page();
  const main = document.getElementById('main');
  for (const [pattern, page, section] of routes) {
    const match = pattern.exec(hash);
    if (!match) continue;
    for (const link of document.querySelectorAll('nav a')) {
      if (link.textContent === section) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
    }
    fill(main);
    Promise.resolve(page(main, match.slice(1).map(decodeURIComponent), current)).catch((e) => {
      if (e.name !== 'AbortError') main.append(errorBox(e));
    });
    title(section);
    return;
  }
  fill(main, h('h1', {}, 'Not found'), h('p', {}, 'No page at ', hash, '. '), h('a', { href: '#/streams' }, 'Streams'));
  title('Not found');
}

/** The window's title names the page (its heading, written by the page at once), so that tabs and history tell them apart. */
function title(fallback) {
  const heading = document.querySelector('#main h1');
  document.title = `${heading ? heading.textContent : fallback} – Runnel console`;
}

/** Moves focus to the page's heading after a navigation, so that keyboard and screen-reader users start there. */
function focusHeading() {
  const heading = document.querySelector('#main h1');
  if (heading) { heading.setAttribute('tabindex', '-1'); heading.focus({ preventScroll: true }); }
}

// A refused key pair (the server checks signatures) is said once, above every page, until a call is answered.
document.addEventListener('runnel:credentials', (event) => {
  const notice = document.getElementById('credentials-notice');
  const error = event.detail;
  if (!error) { if (!notice.hidden) { notice.hidden = true; fill(notice); } return; }
  if (!notice.hidden) return;
  fill(notice, `${error.type}: this server checks signatures and does not take the console's key pair. Enter one of its credentials file in `,
    h('a', { href: '#/settings' }, 'Settings'), '.');
  notice.hidden = false;
});

window.addEventListener('hashchange', () => { route(); requestAnimationFrame(focusHeading); });
route();
