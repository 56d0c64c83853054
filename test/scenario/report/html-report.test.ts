import { describe, expect, it } from 'vitest';
import type { ScenarioJournal } from '../../../src/scenario/journal.js';
import { escapeHtml } from '../../../src/scenario/report/escape-html.js';
import { renderHtmlReport } from '../../../src/scenario/report/html-report.js';
import { sampleJournal } from './sample-journal.js';

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

/** Checks that every element opened is closed, in order; returns the first problem or undefined. */
function unbalanced(html: string): string | undefined {
  const stack: string[] = [];
  const body = html.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<!doctype html>/i, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)\b[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m as unknown as [string, string, string, string];
    const tag = name.toLowerCase();
    if (selfClosing === '/' || VOID.has(tag)) continue;
    if (closing === '') stack.push(tag);
    else if (stack.pop() !== tag) return `unexpected </${tag}> at ${m.index}`;
  }
  return stack.length > 0 ? `unclosed <${stack.join('> <')}>` : undefined;
}

/** Every string a journal carries (names, URLs, messages), however deep. */
function journalStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) journalStrings(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) journalStrings(v, out);
  return out;
}

function groups(html: string, className: string): string[] {
  return [...html.matchAll(new RegExp(`<g class="${className}">[\\s\\S]*?</g>`, 'g'))].map((m) => m[0]);
}

describe('renderHtmlReport', () => {
  const journal = sampleJournal();
  const html = renderHtmlReport(journal);

  it('is one well-formed, self-contained page with no script and no external reference', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(unbalanced(html)).toBeUndefined();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)=/i);
    expect(html).not.toMatch(/@import|url\(/i);
    let stripped = html;
    for (const s of journalStrings(journal)) stripped = stripped.split(escapeHtml(s)).join('');
    expect(stripped).not.toMatch(/https?:\/\//);
    expect(html).toContain('<code>http://localhost:3000</code>'); // the journal's own URL is shown, as text
  });

  it('escapes every string from the journal', () => {
    expect(html).not.toContain('<Friday>');
    expect(html).not.toContain('<b>payment</b>');
    expect(html).not.toContain('<down>');
    expect(html).toContain('<h1>Black &lt;Friday&gt; &amp; &quot;friends&quot;</h1>');
    expect(html).toContain('<title>PASS · Black &lt;Friday&gt; &amp; &quot;friends&quot; · antifragile</title>');
    expect(html).toContain('Traffic spike with &lt;b&gt;payment&lt;/b&gt; issues');
  });

  it('shows the verdict, the criteria, the phases, the steady state and the activities', () => {
    expect(html).toContain('<header class="banner pass"><div class="verdict">PASS</div>');
    expect(html).toContain('<td>availability</td><td><code>&gt; 99%</code></td><td>0.9867</td><td><span class="badge ok">pass</span></td>');
    expect(html).toContain('<td>p95_latency</td><td><code>&lt; 2000ms</code></td><td>80</td>');
    expect(html).toContain('p95 over the &lt;whole&gt; run');
    for (const phase of ['warm-up', 'outage', 'recovery']) expect(html).toContain(`<tr><td>${phase}</td>`);
    expect(html).toContain('<td>outage</td><td>0:20–0:40</td><td class="num">50/s</td><td class="num">1,000</td>');
    expect(html).toContain('503&nbsp;×40');
    expect(html).toContain('<h3>Before</h3>');
    expect(html).toContain('health &lt;ok&gt;');
    expect(html).toContain('inject redis &lt;down&gt;');
    expect(html).toContain('<td>service_failure</td><td>redis</td><td>0:20–0:40</td>');
  });

  it('draws latency, success and throughput charts with the fault window shaded and labelled, and the timelines', () => {
    expect(html.match(/<svg class="chart"/g)).toHaveLength(3);
    expect(html.match(/<svg class="chart timeline"/g)).toHaveLength(2);
    const faults = html.match(/<rect class="fault" [^>]*>/g) ?? [];
    expect(faults).toHaveLength(5); // one per chart and per timeline
    // 20 s to 40 s of 60 s on a 1040-wide drawing with a 64 + 16 margin: x = 64 + 960 / 3, width = 960 / 3
    expect(faults[0]).toBe('<rect class="fault" x="384" y="10" width="320" height="192">');
    expect(html.match(/<text class="fault-label"[^>]*>redis &lt;down&gt;<\/text>/g)).toHaveLength(3);
    expect(html).toContain('Latency p50 / p95 / p99');
    expect(html).toMatch(/<path class="line" d="M[^"]+" stroke="#e45756"><title>p99<\/title><\/path>/);
    expect(html).toContain('<figcaption>Circuit breakers</figcaption>');
    expect(html).toMatch(/<rect class="segment" [^>]*fill="#ff6b6b"><title>redis: open 0:21–0:41<\/title><\/rect>/);
    expect(html).toContain('<figcaption>Degradation level</figcaption>');
    expect(html).toMatch(/<title>level: degraded 0:22–0:45<\/title>/);
    expect(html).toMatch(/<rect class="hover" [^>]*><title>0:20–0:21 · outage\nsent 50, ok 48 \(96.00%\)\np50 40 ms · p95 80 ms · p99 96 ms\nfaults: redis &lt;down&gt;<\/title>/);
  });

  it('leaves out the timelines when the journal has none, and says when no load was recorded', () => {
    const empty: ScenarioJournal = { ...journal, series: [], timelines: { breakers: [], degradation: [] }, faultWindows: [], criteria: [] };
    const out = renderHtmlReport(empty);
    expect(unbalanced(out)).toBeUndefined();
    expect(out).not.toContain('Circuit breakers');
    expect(out).not.toContain('class="fault"');
    expect(out).toContain('No load was recorded in this run.');
    expect(out).toContain('The scenario has no success criteria.');
  });

  it('shows a failed run as such, with its reason', () => {
    const failed = renderHtmlReport({ ...sampleJournal({ bad: true }), status: 'aborted', reason: 'halt: error rate > 50% <for 5s>' });
    expect(failed).toContain('<header class="banner fail"><div class="verdict">FAIL</div>');
    expect(failed).toContain('<p class="reason">halt: error rate &gt; 50% &lt;for 5s&gt;</p>');
    expect(failed).toContain('<span class="chip warn">steady state deviated</span>');
    expect(failed).toContain('proxy said &lt;no&gt;');
  });
});

describe('renderHtmlReport with a baseline', () => {
  const journal = sampleJournal({ baseline: { ...sampleJournal({ bad: true, name: 'Black <Friday> & "friends"' }), durationMs: 50_000 } });
  const html = renderHtmlReport(journal);

  it('compares protected and baseline in a table', () => {
    expect(unbalanced(html)).toBeUndefined();
    expect(html).toContain('<h2>Protected vs baseline</h2>');
    expect(html).toContain('<tr><th>Availability</th><td>98.66%</td><td>80.00%</td><td>−18.67 pp</td></tr>');
    expect(html).toContain('<tr><th>p95</th><td>80 ms</td><td>2.1 s</td><td>+2.02 s</td></tr>');
    expect(html).toContain('<tr><th>p99</th><td>120 ms</td><td>3.15 s</td><td>+3.03 s</td></tr>');
    expect(html).toContain('<th>Baseline observed</th><th>Baseline result</th>');
    expect(html).toContain('<td>2100</td><td><span class="badge bad">fail</span></td>');
  });

  it('draws both runs side by side on the same scales', () => {
    expect(html).toContain('<h3>Protected</h3>');
    expect(html).toContain('<h3>Baseline (protection off)</h3>');
    expect(html.match(/<svg class="chart"/g)).toHaveLength(6);
    const y = groups(html, 'y-axis');
    expect(y).toHaveLength(6);
    expect(y[3]).toBe(y[0]); // latency
    expect(y[4]).toBe(y[1]); // success
    expect(y[5]).toBe(y[2]); // throughput
    expect(y[0]).toContain('>10 s</text>'); // the baseline's 3 s p99 sets the top for both
    const x = groups(html, 'x-axis');
    expect(x).toHaveLength(8); // the protected column also has the two timelines
    expect(x[5]).toBe(x[0]); // the shorter baseline run is drawn on the same time axis
    expect(x[6]).toBe(x[1]);
    expect(x[7]).toBe(x[2]);
    expect(x[0]).toContain('>1:00</text>');
    expect(html.match(/<rect class="fault" /g)).toHaveLength(8); // 3 + 2 timelines protected, 3 baseline
    expect(html).toContain('<h2>Phases (baseline)</h2>');
  });
});
