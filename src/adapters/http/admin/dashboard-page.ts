import { createHash } from 'node:crypto';

const STYLE = `
:root{color-scheme:light dark;--ok:#1a7f37;--warn:#b08800;--bad:#cf222e;--muted:#6e7781;--card:rgba(127,127,127,.08)}
*{box-sizing:border-box}body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:16px}
header{display:flex;gap:12px;align-items:baseline;flex-wrap:wrap}h1{font-size:20px;margin:0}h2{font-size:15px;margin:0 0 8px}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px;margin-top:12px}
section{background:var(--card);border-radius:8px;padding:12px;min-width:0}
table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:3px 6px;border-bottom:1px solid rgba(127,127,127,.2)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;border:1px solid currentColor}
.closed,.healthy,.full,.succeeded,.live,.on{color:var(--ok)}.half-open,.degraded,.reduced,.running,.deviated{color:var(--warn)}
.open,.isolated,.unhealthy,.emergency,.minimal,.failed,.aborted,.down,.off{color:var(--bad)}
.muted{color:var(--muted)}.big{font-size:28px;font-weight:700}svg.chart{width:100%;height:48px;display:block}
svg.chart polyline{fill:none;stroke:currentColor;stroke-width:1.5}ol{margin:0;padding-left:18px;max-height:260px;overflow:auto}
button,select,input{font:inherit}#error{color:var(--bad)}#login{margin-top:12px}[hidden]{display:none!important}
`;

const SCRIPT = `
(() => {
  'use strict';
  const cfg = JSON.parse(document.getElementById('cfg').textContent);
  const BASE = cfg.base;
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const kid of kids) e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    return e;
  };
  const badge = (text, attrs) => el('span', Object.assign({ class: 'badge ' + text }, attrs || {}), text);
  const pct = (x) => (Math.round(x * 1000) / 10) + '%';
  const time = (ms) => new Date(ms).toLocaleTimeString();
  const series = { score: [], hit: [] };
  const MAX_POINTS = 120;

  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.has('token')) {
    sessionStorage.setItem('antifragile-admin-token', hash.get('token'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = () => sessionStorage.getItem('antifragile-admin-token');
  const headers = () => { const t = token(); return t ? { authorization: 'Bearer ' + t } : {}; };

  function chart(svg, values, max) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (values.length < 2) return;
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    const step = 120 / (MAX_POINTS - 1);
    line.setAttribute('points', values.map((v, i) => (i * step).toFixed(1) + ',' + (30 - (v / max) * 28 - 1).toFixed(1)).join(' '));
    svg.appendChild(line);
  }
  function push(list, value) { list.push(value); if (list.length > MAX_POINTS) list.shift(); }
  function fill(id, nodes) { const e = $(id); e.replaceChildren(...nodes); }
  function show(id, visible) { $(id).hidden = !visible; }

  async function act(path, body) {
    $('error').textContent = '';
    try {
      const res = await fetch(BASE + path, { method: 'POST', headers: Object.assign({ 'content-type': 'application/json' }, headers()), body: JSON.stringify(body || {}) });
      if (!res.ok) { const p = await res.json().catch(() => ({})); $('error').textContent = (p.title || res.status) + ': ' + (p.detail || ''); }
    } catch (e) { $('error').textContent = String(e); }
  }

  function render(s) {
    $('env').textContent = s.environment;
    $('updated').textContent = time(s.at);
    const actions = s.actionsAllowed;
    show('breakers-card', s.breakers !== null);
    if (s.breakers) fill('breakers', s.breakers.map((b) => el('tr', { 'data-breaker': b.name },
      el('td', {}, b.name), el('td', {}, badge(b.state, { 'data-testid': 'breaker-state', 'data-name': b.name })),
      el('td', {}, pct(b.failureRate)), el('td', {}, String(b.calls)), el('td', {}, String(b.healthScore)),
      el('td', {}, actions ? el('button', { onclick: () => act('/breakers/' + encodeURIComponent(b.name) + '/reset') }, 'reset') : ''))));
    show('health-card', s.health !== null);
    if (s.health) {
      $('score').textContent = String(s.health.score); $('overall').replaceChildren(badge(s.health.overall));
      push(series.score, s.health.score); chart($('score-chart'), series.score, 100);
      fill('components', s.health.components.map((c) => el('tr', {}, el('td', {}, c.component), el('td', {}, badge(c.status)), el('td', {}, Math.round(c.availability) + '%'), el('td', {}, Math.round(c.responseTimeMs) + ' ms'))));
    }
    show('degradation-card', s.degradation !== null);
    if (s.degradation) {
      const d = s.degradation;
      $('level').replaceChildren(badge(d.level, { 'data-testid': 'degradation-level' }), d.override ? el('span', { class: 'muted' }, ' pinned') : '');
      $('level-reason').textContent = d.reason;
      const select = $('level-select');
      if (select.options.length !== d.levels.length) select.replaceChildren(...d.levels.map((l) => el('option', { value: l }, l)));
      show('level-form', actions);
      fill('features', d.features.map((f) => el('li', {}, badge(f.available ? 'on' : 'off'), ' ' + f.name + ' (priority ' + f.priority + ')')));
    }
    show('cache-card', s.cache !== null);
    if (s.cache) {
      $('hit-rate').textContent = pct(s.cache.hitRate);
      push(series.hit, s.cache.hitRate); chart($('hit-chart'), series.hit, 1);
      fill('layers', s.cache.layers.map((l) => el('tr', {}, el('td', {}, l.name), el('td', {}, badge(l.state)), el('td', {}, pct(l.hitRate)))));
    }
    show('experiments-card', s.experiments !== null || s.chaos !== null);
    if (s.chaos) $('chaos').replaceChildren('chaos ', badge(s.chaos.enabled ? 'on' : 'off'), ' · ' + s.chaos.faults.length + ' active fault(s)');
    if (s.experiments) {
      const e = s.experiments;
      fill('experiment-names', e.names.map((n) => el('li', {}, n + ' ', actions ? el('button', { onclick: () => act('/experiments/start', { name: n }) }, 'start') : '')));
      fill('experiment-runs', [...e.running, ...e.recent].map((r) => el('li', {}, badge(r.status), ' ' + r.name + ' ' + time(r.startedAt) + ' ',
        r.status === 'running' && actions ? el('button', { onclick: () => act('/experiments/stop', { id: r.id }) }, 'stop') : '')));
    }
    fill('activity', s.activity.map((a) => el('li', { 'data-source': a.source }, el('span', { class: 'muted' }, time(a.at) + ' ' + a.source + ' '), a.target + ': ' + a.type + (a.detail ? ' (' + a.detail + ')' : ''))));
  }

  let source;
  let retry;
  async function connect() {
    clearTimeout(retry);
    if (source) { source.close(); source = undefined; }
    let res;
    try { res = await fetch(BASE + '/session', { method: 'POST', headers: headers() }); } catch { return later(); }
    if (res.status === 401) { setStatus('locked'); show('login', true); return; }
    if (!res.ok) return later();
    show('login', false);
    const { ticket } = await res.json();
    const es = new EventSource(BASE + '/events?ticket=' + encodeURIComponent(ticket));
    source = es;
    es.addEventListener('open', () => setStatus('live'));
    es.addEventListener('snapshot', (m) => { setStatus('live'); render(JSON.parse(m.data)); });
    es.addEventListener('end', () => { es.close(); if (source === es) connect(); });
    es.addEventListener('error', () => { es.close(); if (source === es) later(); });
  }
  function later() { setStatus('down'); retry = setTimeout(connect, 2000); }
  function setStatus(s) { $('status').replaceChildren(badge(s, { 'data-testid': 'connection' })); }

  $('login').addEventListener('submit', (e) => { e.preventDefault(); sessionStorage.setItem('antifragile-admin-token', $('token').value); $('token').value = ''; connect(); });
  $('level-form').addEventListener('submit', (e) => { e.preventDefault(); act('/degradation', { level: $('level-select').value }); });
  $('unpin').addEventListener('click', () => act('/degradation', { level: null }));
  connect();
})();
`;

const BODY = `<header><h1>antifragile</h1><span id="status"></span><span class="muted">env <span id="env">?</span> · updated <span id="updated">never</span></span><span id="error" role="alert"></span></header>
<form id="login" hidden><label>Admin token <input id="token" type="password" autocomplete="off"></label> <button>Connect</button></form>
<main>
<section id="breakers-card"><h2>Circuit breakers</h2><table><thead><tr><th>name</th><th>state</th><th>failures</th><th>calls</th><th>score</th><th></th></tr></thead><tbody id="breakers"></tbody></table></section>
<section id="health-card"><h2>Health</h2><div><span class="big" id="score">?</span> <span id="overall"></span></div><svg class="chart" id="score-chart" viewBox="0 0 120 30" preserveAspectRatio="none" aria-label="health score"></svg><table><tbody id="components"></tbody></table></section>
<section id="degradation-card"><h2>Degradation</h2><div id="level"></div><div class="muted" id="level-reason"></div><form id="level-form" hidden><select id="level-select"></select> <button>set level</button> <button type="button" id="unpin">unpin</button></form><ul id="features"></ul></section>
<section id="cache-card"><h2>Cache</h2><div>hit rate <span class="big" id="hit-rate">?</span></div><svg class="chart" id="hit-chart" viewBox="0 0 120 30" preserveAspectRatio="none" aria-label="cache hit rate"></svg><table><tbody id="layers"></tbody></table></section>
<section id="experiments-card"><h2>Chaos experiments</h2><div id="chaos"></div><ul id="experiment-names"></ul><ol id="experiment-runs"></ol></section>
<section id="activity-card"><h2>Recent events</h2><ol id="activity"></ol></section>
</main>`;

const sha = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Content-Security-Policy of the dashboard page: nothing loads from anywhere; only the page's own inline
 * script and style run (pinned by hash); requests go to the same origin only.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha(SCRIPT)}`,
  `style-src ${sha(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The dashboard: one static HTML page (inline CSS, a small inline script, inline SVG charts; no framework,
 * no CDN, no build step). It gets a ticket from `POST <base>/session` and follows `GET <base>/events`.
 * A ticket opens one connection only (the server refuses it a second time, even before it expires), so
 * the page gets a new ticket for every connection: when the server ends the stream (`event: end`: the ticket expired,
 * the stream reached its lifetime, or the token was revoked) the page fetches a fresh ticket at once, and
 * after a dropped connection it does so 2 s later (never letting EventSource retry with the old ticket).
 * A refused token (401) shows the login form.
 * The token comes from the `#token=` fragment (never sent to a server; removed from the address bar at
 * once and kept in `sessionStorage`), from a login form, or from a proxy that adds the header
 * (`antifragile dashboard`).
 *
 * @param base the admin API's path prefix, e.g. `/admin`.
 */
export function renderDashboardPage(base: string): string {
  const cfg = JSON.stringify({ base }).replace(/</g, '\\u003c');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>antifragile dashboard</title><link rel="icon" href="data:,"><style>${STYLE}</style></head><body>${BODY}
<script type="application/json" id="cfg">${cfg}</script><script>${SCRIPT}</script></body></html>`;
}
