// Small DOM helpers shared by the pages: element builders (no innerHTML, so no markup injection from data), formatters.

const SVG = 'http://www.w3.org/2000/svg';

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'text') element.textContent = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', child…): an HTML element. */
export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);

/** The same for SVG elements. */
export const s = (tag, attrs, ...children) => build(document.createElementNS(SVG, tag), attrs, children);

/** Text for screen readers only (a column heading with nothing to show, say). */
export const hidden = (text) => h('span', { class: 'visually-hidden' }, text);

/** A box that scrolls sideways (a wide graph on a narrow window): a named region that takes focus, so that the
 * keyboard can scroll it too. */
export const scrollBox = (id, label) => h('div', { class: 'scroll', id, role: 'region', 'aria-label': label, tabindex: 0 });

const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';

/** Runs fn, which rebuilds or removes part of container, and if that took the focus away gives it to the element of
 * the new content with the same id or aria-label (a row's button, say), else to the same place in the row now where
 * the old one was (its row deleted), else to the page's heading: a refresh never throws the keyboard user back to
 * the top of the page. */
export function keepFocus(container, fn) {
  const active = document.activeElement;
  if (!active || active === document.body || !container.contains(active)) return fn();
  const label = active.getAttribute('aria-label');
  const key = active.id ? `#${CSS.escape(active.id)}` : label !== null ? `[aria-label="${CSS.escape(label)}"]` : null;
  const row = active.closest('tr');
  const rowIndex = row ? [...container.querySelectorAll('tr')].indexOf(row) : -1;
  const slot = row ? [...row.querySelectorAll(FOCUSABLE)].indexOf(active) : -1;
  const result = fn();
  if (container.contains(active) || !container.isConnected) return result;
  let next = key && container.querySelector(key);
  if (!next && rowIndex >= 0) {
    const rows = [...container.querySelectorAll('tr')];
    const candidates = rows.length ? [...rows[Math.min(rowIndex, rows.length - 1)].querySelectorAll(FOCUSABLE)] : [];
    next = candidates[Math.max(0, Math.min(slot, candidates.length - 1))];
  }
  if (!next) {
    next = document.querySelector('#main h1');
    next?.setAttribute('tabindex', '-1');
  }
  next?.focus({ preventScroll: true });
  return result;
}

/** A unique id for label/input pairs. */
let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;

/** A labelled form field: [label, control] in a div. control is an element; its id is set here. */
export function field(labelText, control, hint) {
  const id = control.id || uid('f');
  control.id = id;
  const hintId = hint ? id + '-hint' : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, labelText), control, hint && h('small', { id: hintId }, hint));
}

export function select(name, options, value) {
  return h('select', { name }, options.map((o) => {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, selected: v === value }, text);
  }));
}

/** An error of the AWS APIs as the service wrote it: "Type: message". */
export const errorText = (e) => (e && e.type ? `${e.type}: ${e.message}` : String(e && e.message ? e.message : e));

/** A paragraph announcing an error (role=alert), or an empty one to fill later. */
export const errorBox = (e) => h('p', { class: 'error', role: 'alert' }, e ? errorText(e) : '');

export function rate(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  if (n >= 100) return Math.round(n).toLocaleString('en');
  return n.toFixed(n >= 10 ? 1 : 2);
}

export function bytes(n) {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

/** A duration in ms, short: 850 ms, 12 s, 4 min, 2.5 h. */
export function duration(ms) {
  if (ms === undefined || ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7200000) return `${Math.round(ms / 60000)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

/** A time (epoch ms, or epoch seconds when small) as local ISO-like text. */
export function time(t) {
  if (t === undefined || t === null || t === '') return '–';
  if (typeof t === 'number' && t < 1e11) t *= 1000;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Replaces an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  build(element, {}, children);
  return element;
}
