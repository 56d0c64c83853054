import type { Activity, CriterionResult, LoadSummary, PhaseJournal, ProbeResult, ScenarioJournal, TimePoint } from '../journal.js';
import { escapeHtml } from './escape-html.js';
import { formatClock, formatMs, renderLineChart, renderTimeline } from './svg-charts.js';
import type { ChartBand, ChartHover, TimelineLane } from './svg-charts.js';

const e = escapeHtml;

/** Most rows of the activities table; the rest are counted, not listed. */
const MAX_ACTIVITIES = 1_000;
/** Most breaker lanes drawn. */
const MAX_BREAKERS = 24;
/** Most hover columns per chart (each covers one or more seconds). */
const MAX_HOVERS = 240;

const COLORS = { p50: '#4c78a8', p95: '#f58518', p99: '#e45756', success: '#2f9e44', sent: '#868e96', ok: '#2f9e44' };
const STATE_COLORS: Record<string, string> = {
  closed: '#69db7c',
  open: '#ff6b6b',
  'half-open': '#ffd43b',
  half_open: '#ffd43b',
  isolated: '#9c36b5',
  'forced-open': '#9c36b5',
  disabled: '#adb5bd',
  normal: '#69db7c',
  full: '#69db7c',
  healthy: '#69db7c',
  degraded: '#ffd43b',
  partial: '#ffd43b',
  reduced: '#ffd43b',
  minimal: '#ffa94d',
  severe: '#ffa94d',
  emergency: '#ff6b6b',
  critical: '#ff6b6b',
  offline: '#ff6b6b',
};
const PALETTE = ['#74c0fc', '#b197fc', '#63e6be', '#ffc078', '#f783ac', '#a9e34b', '#e599f7', '#66d9e8'];

function stateColor(state: string): string {
  const known = STATE_COLORS[state.toLowerCase()];
  if (known !== undefined) return known;
  let h = 0;
  for (let i = 0; i < state.length; i++) h = (h * 31 + state.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length] as string;
}

function pct(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 1) return '100%';
  const digits = x > 0.999 ? 3 : 2;
  return `${(Math.floor(x * 100 * 10 ** digits) / 10 ** digits).toFixed(digits)}%`;
}

function count(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

function rate(n: number): string {
  return Number.isFinite(n) ? `${Number(n.toFixed(1)).toLocaleString('en-US')}/s` : '—';
}

function json(value: unknown, max = 300): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function observed(value: CriterionResult['observed']): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(4)));
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value;
}

function badge(ok: boolean, yes = 'pass', no = 'fail'): string {
  return `<span class="badge ${ok ? 'ok' : 'bad'}">${ok ? yes : no}</span>`;
}

function topErrors(errors: Record<string, number>, n = 4): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return '—';
  const shown = entries.slice(0, n).map(([k, v]) => `${e(k)}&nbsp;×${count(v)}`);
  if (entries.length > n) shown.push(`+${entries.length - n} more`);
  return shown.join(', ');
}

function span(startMs: number, endMs: number): string {
  return `${formatClock(startMs)}–${formatClock(endMs)}`;
}

/** Shared scales, so the protected and baseline charts can be compared by eye. */
interface Scales {
  xMaxMs: number;
  latencyMax: number;
  latencyMin: number;
  rateMax: number;
}

function perSecond(points: readonly TimePoint[]): { p: TimePoint; from: number; seconds: number }[] {
  let previous = 0;
  return points.map((p) => {
    const from = previous;
    previous = p.t;
    return { p, from, seconds: Math.max(p.t - from, 1) / 1000 };
  });
}

function scalesOf(journals: readonly ScenarioJournal[]): Scales {
  let xMaxMs = 1000;
  let latencyMax = 1;
  let latencyMin = Infinity;
  let rateMax = 1;
  for (const j of journals) {
    xMaxMs = Math.max(xMaxMs, j.durationMs || 0);
    for (const w of j.faultWindows) xMaxMs = Math.max(xMaxMs, w.endMs);
    for (const { p, seconds } of perSecond(j.series)) {
      xMaxMs = Math.max(xMaxMs, p.t);
      if (p.ok + p.failed > 0) {
        latencyMax = Math.max(latencyMax, p.p99);
        if (p.p50 > 0) latencyMin = Math.min(latencyMin, p.p50);
      }
      rateMax = Math.max(rateMax, p.sent / seconds);
    }
  }
  return { xMaxMs, latencyMax, latencyMin: Number.isFinite(latencyMin) ? latencyMin : 1, rateMax };
}

function bandsOf(j: ScenarioJournal): ChartBand[] {
  return j.faultWindows.map((w) => ({
    startMs: w.startMs,
    endMs: w.endMs,
    label: w.name,
    detail: `${w.name} (${w.kind}${w.target !== undefined ? ` on ${w.target}` : ''}) ${span(w.startMs, w.endMs)}`,
  }));
}

function hoversOf(series: readonly TimePoint[]): ChartHover[] {
  const rows = perSecond(series);
  const size = Math.max(1, Math.ceil(rows.length / MAX_HOVERS));
  const hovers: ChartHover[] = [];
  for (let i = 0; i < rows.length; i += size) {
    const group = rows.slice(i, i + size);
    let sent = 0;
    let ok = 0;
    let p50 = 0;
    let p95 = 0;
    let p99 = 0;
    const faults = new Set<string>();
    const phases = new Set<string>();
    for (const { p } of group) {
      sent += p.sent;
      ok += p.ok;
      p50 = Math.max(p50, p.p50);
      p95 = Math.max(p95, p.p95);
      p99 = Math.max(p99, p.p99);
      phases.add(p.phase);
      for (const f of p.activeFaults) faults.add(f);
    }
    const first = group[0] as (typeof rows)[number];
    const last = group[group.length - 1] as (typeof rows)[number];
    const text =
      `${span(first.from, last.p.t)} · ${[...phases].join(', ')}\n` +
      `sent ${count(sent)}, ok ${count(ok)} (${sent > 0 ? pct(ok / sent) : '—'})\n` +
      `p50 ${formatMs(p50)} · p95 ${formatMs(p95)} · p99 ${formatMs(p99)}` +
      (faults.size > 0 ? `\nfaults: ${[...faults].join(', ')}` : '');
    hovers.push({ startMs: first.from, endMs: last.p.t, text });
  }
  return hovers;
}

function lanesOf(j: ScenarioJournal, endMs: number): { breakers: TimelineLane[]; more: number; degradation: TimelineLane[] } {
  const byName = new Map<string, { t: number; state: string }[]>();
  for (const b of j.timelines.breakers) {
    let list = byName.get(b.name);
    if (list === undefined) byName.set(b.name, (list = []));
    list.push({ t: b.t, state: b.state });
  }
  const toSegments = (changes: { t: number; state: string }[]): TimelineLane['segments'] => {
    const sorted = [...changes].sort((a, b) => a.t - b.t);
    return sorted.map((c, i) => ({ startMs: c.t, endMs: Math.max(sorted[i + 1]?.t ?? endMs, c.t), state: c.state }));
  };
  const names = [...byName.keys()];
  const breakers = names.slice(0, MAX_BREAKERS).map((name) => ({ name, segments: toSegments(byName.get(name) ?? []) }));
  const degradation =
    j.timelines.degradation.length > 0
      ? [{ name: 'level', segments: toSegments(j.timelines.degradation.map((d) => ({ t: d.t, state: d.level }))) }]
      : [];
  return { breakers, more: Math.max(0, names.length - MAX_BREAKERS), degradation };
}

function chartsOf(j: ScenarioJournal, scales: Scales, width: number): string {
  const rows = perSecond(j.series);
  const has = (p: TimePoint): boolean => p.ok + p.failed > 0;
  const bands = bandsOf(j);
  const hovers = hoversOf(j.series);
  const latency = renderLineChart({
    title: 'Latency from intended start (log scale)',
    width,
    xMaxMs: scales.xMaxMs,
    yScale: 'log',
    yMax: scales.latencyMax,
    yMinLog: scales.latencyMin,
    formatY: formatMs,
    series: [
      { name: 'p50', color: COLORS.p50, points: j.series.map((p) => [p.t, has(p) ? p.p50 : null] as const) },
      { name: 'p95', color: COLORS.p95, points: j.series.map((p) => [p.t, has(p) ? p.p95 : null] as const) },
      { name: 'p99', color: COLORS.p99, points: j.series.map((p) => [p.t, has(p) ? p.p99 : null] as const) },
    ],
    bands,
    hovers,
  });
  const success = renderLineChart({
    title: 'Success rate (ok / sent per second)',
    width,
    height: 176,
    xMaxMs: scales.xMaxMs,
    yMax: 100,
    formatY: (v) => `${v}%`,
    series: [{ name: 'success %', color: COLORS.success, points: j.series.map((p) => [p.t, p.sent > 0 ? (100 * p.ok) / p.sent : null] as const) }],
    bands,
    hovers,
  });
  const throughput = renderLineChart({
    title: 'Throughput (requests per second)',
    width,
    height: 176,
    xMaxMs: scales.xMaxMs,
    yMax: scales.rateMax,
    formatY: (v) => `${Number(v.toPrecision(3))}`,
    series: [
      { name: 'sent/s', color: COLORS.sent, points: rows.map(({ p, seconds }) => [p.t, p.sent / seconds] as const), dashed: true },
      { name: 'ok/s', color: COLORS.ok, points: rows.map(({ p, seconds }) => [p.t, p.ok / seconds] as const) },
    ],
    bands,
    hovers,
  });
  let out = `<figure><figcaption>Latency p50 / p95 / p99, from each request's intended start</figcaption>${latency}</figure>`;
  out += `<figure><figcaption>Success rate, ok / sent each second</figcaption>${success}</figure>`;
  out += `<figure><figcaption>Requests per second, sent and ok</figcaption>${throughput}</figure>`;
  const lanes = lanesOf(j, Math.max(j.durationMs, j.series[j.series.length - 1]?.t ?? 0));
  if (lanes.breakers.length > 0) {
    const chart = renderTimeline({ title: 'Circuit breaker states', width, xMaxMs: scales.xMaxMs, lanes: lanes.breakers, colorOf: stateColor, bands });
    const more = lanes.more > 0 ? ` (${lanes.more} more not drawn)` : '';
    out += `<figure><figcaption>Circuit breakers${more}</figcaption>${chart}</figure>`;
  }
  if (lanes.degradation.length > 0) {
    const chart = renderTimeline({ title: 'Degradation level', width, xMaxMs: scales.xMaxMs, lanes: lanes.degradation, colorOf: stateColor, bands });
    out += `<figure><figcaption>Degradation level</figcaption>${chart}</figure>`;
  }
  if (j.series.length === 0) out += '<p class="note">No load was recorded in this run.</p>';
  return out;
}

function banner(j: ScenarioJournal): string {
  const pass = j.verdict === 'pass';
  const t = j.totals;
  const chips = [
    `<span class="chip">${e(j.status)}</span>`,
    j.deviated ? '<span class="chip warn">steady state deviated</span>' : '<span class="chip">steady state held</span>',
    j.target.baseline ? '<span class="chip">baseline (protection off)</span>' : '',
  ].join(' ');
  return (
    `<header class="banner ${pass ? 'pass' : 'fail'}"><div class="verdict">${pass ? 'PASS' : 'FAIL'}</div>` +
    `<div class="headline"><h1>${e(j.scenario.name)}</h1><div>${chips}</div>` +
    (j.reason !== undefined ? `<p class="reason">${e(j.reason)}</p>` : '') +
    `</div><dl class="kpis"><div><dt>availability</dt><dd>${pct(t.availability)}</dd></div>` +
    `<div><dt>p95</dt><dd>${formatMs(t.latency.p95)}</dd></div><div><dt>p99</dt><dd>${formatMs(t.latency.p99)}</dd></div>` +
    `<div><dt>requests</dt><dd>${count(t.sent)}</dd></div><div><dt>duration</dt><dd>${formatClock(j.durationMs)}</dd></div></dl></header>`
  );
}

function meta(j: ScenarioJournal): string {
  const rows: [string, string][] = [];
  if (j.scenario.description !== undefined) rows.push(['Description', e(j.scenario.description)]);
  if (j.scenario.file !== undefined) rows.push(['Scenario file', `<code>${e(j.scenario.file)}</code>`]);
  rows.push(['Format', e(j.scenario.format)]);
  rows.push(['Target', `${j.target.url !== undefined ? `<code>${e(j.target.url)}</code> ` : ''}(${e(j.target.kind)})`]);
  rows.push(['Started', e(j.startedAt)], ['Ended', e(j.endedAt)]);
  rows.push(['Duration', `${formatClock(j.durationMs)}${j.timeScale !== 1 ? ` (time scale ÷${e(j.timeScale)})` : ''}`]);
  return `<dl class="meta">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function comparison(p: ScenarioJournal, b: ScenarioJournal): string {
  const diffMs = (x: number, y: number): string => `${y - x >= 0 ? '+' : '−'}${formatMs(Math.abs(y - x))}`;
  const row = (label: string, a: string, c: string, d: string): string => `<tr><th>${label}</th><td>${a}</td><td>${c}</td><td>${d}</td></tr>`;
  const pl = p.totals.latency;
  const bl = b.totals.latency;
  const pp = (b.totals.availability - p.totals.availability) * 100;
  return (
    '<section><h2>Protected vs baseline</h2><table class="compare-table"><thead><tr><th></th><th>Protected</th><th>Baseline (protection off)</th><th>Baseline − protected</th></tr></thead><tbody>' +
    row('Verdict', badge(p.verdict === 'pass'), badge(b.verdict === 'pass'), '') +
    row('Availability', pct(p.totals.availability), pct(b.totals.availability), `${pp >= 0 ? '+' : '−'}${Math.abs(pp).toFixed(2)} pp`) +
    row('p50', formatMs(pl.p50), formatMs(bl.p50), diffMs(pl.p50, bl.p50)) +
    row('p95', formatMs(pl.p95), formatMs(bl.p95), diffMs(pl.p95, bl.p95)) +
    row('p99', formatMs(pl.p99), formatMs(bl.p99), diffMs(pl.p99, bl.p99)) +
    row('Max', formatMs(pl.max), formatMs(bl.max), diffMs(pl.max, bl.max)) +
    row('Requests', count(p.totals.sent), count(b.totals.sent), '') +
    row('Failed', count(p.totals.failed), count(b.totals.failed), `${b.totals.failed - p.totals.failed >= 0 ? '+' : '−'}${count(Math.abs(b.totals.failed - p.totals.failed))}`) +
    row('Errors', topErrors(p.totals.errors), topErrors(b.totals.errors), '') +
    row('Steady state', p.deviated ? 'deviated' : 'held', b.deviated ? 'deviated' : 'held', '') +
    '</tbody></table></section>'
  );
}

function criteria(j: ScenarioJournal): string {
  if (j.criteria.length === 0) return '<section><h2>Success criteria</h2><p class="note">The scenario has no success criteria.</p></section>';
  const base = j.baseline;
  const baseByName = new Map((base?.criteria ?? []).map((c) => [c.name, c]));
  let out = '<section><h2>Success criteria</h2><table><thead><tr><th>Criterion</th><th>Expected</th><th>Observed</th><th>Result</th>';
  if (base !== undefined) out += '<th>Baseline observed</th><th>Baseline result</th>';
  out += '<th>Detail</th></tr></thead><tbody>';
  for (const c of j.criteria) {
    out += `<tr class="${c.passed ? 'ok' : 'bad'}"><td>${e(c.name)}</td><td><code>${e(c.expected)}</code></td><td>${e(observed(c.observed))}</td><td>${badge(c.passed)}</td>`;
    if (base !== undefined) {
      const b = baseByName.get(c.name);
      out += b === undefined ? '<td>—</td><td>—</td>' : `<td>${e(observed(b.observed))}</td><td>${badge(b.passed)}</td>`;
    }
    out += `<td>${c.detail !== undefined ? e(c.detail) : ''}</td></tr>`;
  }
  return `${out}</tbody></table></section>`;
}

function loadCells(l: LoadSummary): string {
  return (
    `<td class="num">${count(l.sent)}</td><td class="num">${rate(l.ratePerSec)}</td><td class="num">${pct(l.availability)}</td>` +
    `<td class="num">${formatMs(l.latency.p50)}</td><td class="num">${formatMs(l.latency.p95)}</td><td class="num">${formatMs(l.latency.p99)}</td>` +
    `<td class="num">${formatMs(l.latency.max)}</td><td>${topErrors(l.errors)}</td>`
  );
}

function phases(j: ScenarioJournal, title: string): string {
  const head =
    '<tr><th>Phase</th><th>Window</th><th>Target rate</th><th>Sent</th><th>Achieved</th><th>Availability</th><th>p50</th><th>p95</th><th>p99</th><th>Max</th><th>Errors</th><th>Faults</th></tr>';
  const row = (p: PhaseJournal): string =>
    `<tr><td>${e(p.name)}</td><td>${span(p.startMs, p.endMs)}</td><td class="num">${rate(p.rate)}</td>${loadCells(p.load)}<td>${p.faults.map(e).join(', ') || '—'}</td></tr>`;
  const total = `<tr class="total"><td>Total</td><td>${span(0, j.durationMs)}</td><td></td>${loadCells(j.totals)}<td></td></tr>`;
  return `<section><h2>${title}</h2><table><thead>${head}</thead><tbody>${j.phases.map(row).join('')}${total}</tbody></table></section>`;
}

function faults(j: ScenarioJournal, title: string): string {
  if (j.faultWindows.length === 0) return '';
  const rows = j.faultWindows
    .map((w) => `<tr><td>${e(w.name)}</td><td>${e(w.kind)}</td><td>${w.target !== undefined ? e(w.target) : '—'}</td><td>${span(w.startMs, w.endMs)}</td><td class="num">${formatMs(w.endMs - w.startMs)}</td></tr>`)
    .join('');
  return `<section><h2>${title}</h2><table><thead><tr><th>Fault</th><th>Kind</th><th>Target</th><th>Window</th><th>Duration</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function activities(list: readonly Activity[], title: string): string {
  if (list.length === 0) return `<section><h2>${title}</h2><p class="note">No activity was recorded.</p></section>`;
  const rows = list
    .slice(0, MAX_ACTIVITIES)
    .map((a) => {
      const detail = a.error !== undefined ? `<span class="err">${e(json(a.error))}</span>` : a.output !== undefined ? `<code>${e(json(a.output))}</code>` : '';
      return `<tr><td>${e(a.type)}</td><td>${e(a.name)}</td><td>${formatClock(a.startMs)}</td><td class="num">${formatMs(a.endMs - a.startMs)}</td><td>${badge(a.status === 'succeeded', 'succeeded', 'failed')}</td><td>${detail}</td></tr>`;
    })
    .join('');
  const more = list.length > MAX_ACTIVITIES ? `<p class="note">${count(list.length - MAX_ACTIVITIES)} more activities are in the JSON journal.</p>` : '';
  return `<section><h2>${title}</h2><table><thead><tr><th>Type</th><th>Name</th><th>At</th><th>Took</th><th>Status</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>${more}</section>`;
}

function probes(list: readonly ProbeResult[], title: string): string {
  if (list.length === 0) return `<div><h3>${title}</h3><p class="note">No probe.</p></div>`;
  const rows = list
    .map((p) => `<tr><td>${e(p.name)}</td><td><code>${e(json(p.value))}</code></td><td>${badge(p.ok, 'ok', 'out of tolerance')}</td><td>${p.detail !== undefined ? e(p.detail) : ''}</td></tr>`)
    .join('');
  return `<div><h3>${title}</h3><table><thead><tr><th>Probe</th><th>Value</th><th>Within tolerance</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function steadyState(j: ScenarioJournal, title: string): string {
  return `<section><h2>${title}</h2><div class="pair">${probes(j.steadyStateBefore, 'Before')}${probes(j.steadyStateAfter, 'After')}</div></section>`;
}

const STYLE = `
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1320px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:14px 0 8px}
.banner{display:flex;gap:24px;align-items:center;padding:16px 24px;color:#fff;flex-wrap:wrap}.banner.pass{background:var(--ok)}.banner.fail{background:var(--bad)}
.verdict{font-size:40px;font-weight:800;letter-spacing:2px}.headline{flex:1;min-width:260px}.reason{margin:6px 0 0}
.chip{display:inline-block;border:1px solid rgba(255,255,255,.6);border-radius:12px;padding:0 10px;font-size:12px;margin-right:4px}.chip.warn{background:rgba(0,0,0,.2)}
.kpis{display:flex;gap:20px;margin:0}.kpis div{text-align:center}.kpis dt{font-size:12px;opacity:.85}.kpis dd{margin:0;font-size:20px;font-weight:700}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:16px 0}.meta dt{color:var(--muted)}.meta dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}tr.total td{font-weight:600;background:var(--soft)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff}.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}
.err{color:var(--bad)}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}.note{color:var(--muted)}
figure{margin:10px 0 18px}figcaption{font-weight:600;margin-bottom:4px}
.columns{display:grid;grid-template-columns:1fr 1fr;gap:24px}.pair{display:grid;grid-template-columns:1fr 1fr;gap:24px}
@media (max-width:900px){.columns,.pair{grid-template-columns:1fr}}
svg.chart{width:100%;height:auto;display:block;font:11px system-ui,sans-serif}
.chart .plot{fill:#fff;stroke:var(--line)}.chart .grid{stroke:#eaeef2}.chart .axis,.chart .tick{stroke:#8c959f}.chart .tick-label,.chart .legend-label,.chart .lane-label{fill:var(--muted)}
.chart .line{fill:none;stroke-width:1.8;stroke-linejoin:round}.chart .fault{fill:rgba(207,34,46,.10);stroke:rgba(207,34,46,.35);stroke-dasharray:3 2}
.chart .fault-label{fill:var(--bad);font-weight:600;font-size:10px}.chart .hover{fill:transparent}.chart .hover:hover{fill:rgba(31,35,40,.06)}
.chart .segment{stroke:#fff;stroke-width:.5}.chart .segment-label{fill:#1f2328;font-size:10px}
footer{color:var(--muted);font-size:12px;margin-top:32px}
`;

/**
 * Renders a run's journal as ONE self-contained HTML page: inline CSS and inline SVG charts drawn here,
 * no script, font or network reference, so it opens from disk with no server and prints well. Shows the
 * verdict, scenario and target, the criteria (expected / observed / pass), phases with their load figures,
 * latency p50/p95/p99, success rate and throughput over time with fault windows shaded and labelled,
 * breaker and degradation timelines when recorded, the activities and the steady state before and after.
 * When `journal.baseline` is present, the protected and baseline runs are shown side by side on the same
 * scales, with a comparison table. Every string from the journal is escaped.
 *
 * @example
 * ```ts
 * await writeFile('report.html', renderHtmlReport(journal));
 * ```
 */
export function renderHtmlReport(journal: ScenarioJournal): string {
  const base = journal.baseline;
  const runs = base !== undefined ? [journal, base] : [journal];
  const scales = scalesOf(runs);
  let body = banner(journal);
  body += '<main>';
  body += meta(journal);
  if (base !== undefined) body += comparison(journal, base);
  body += criteria(journal);
  body += '<section><h2>Over time</h2>';
  if (base !== undefined) {
    body += `<div class="columns"><div><h3>Protected</h3>${chartsOf(journal, scales, 640)}</div><div><h3>Baseline (protection off)</h3>${chartsOf(base, scales, 640)}</div></div>`;
  } else {
    body += chartsOf(journal, scales, 1040);
  }
  body += '</section>';
  body += phases(journal, base !== undefined ? 'Phases (protected)' : 'Phases');
  if (base !== undefined) body += phases(base, 'Phases (baseline)');
  body += faults(journal, 'Fault windows');
  body += steadyState(journal, 'Steady state');
  body += activities(journal.activities, 'Activities');
  if (base !== undefined) body += activities(base.activities, 'Activities (baseline)');
  body += `<footer>antifragile scenario report · journal version ${e(journal.version)} · generated from the run's JSON journal</footer>`;
  body += '</main>';
  const title = `${journal.verdict === 'pass' ? 'PASS' : 'FAIL'} · ${journal.scenario.name} · antifragile`;
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${e(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>\n`;
}
