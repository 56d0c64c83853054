import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../src/scenario/report/escape-html.js';
import { formatClock, formatMs, niceCeil, renderLineChart, renderTimeline } from '../../../src/scenario/report/svg-charts.js';

describe('chart helpers', () => {
  it('format times, latencies and nice axis tops', () => {
    expect([0, 59_400, 61_000, 3_661_000].map(formatClock)).toEqual(['0:00', '0:59', '1:01', '1:01:01']);
    expect([0.5, 12.34, 250.4, 1_500, 12_345, Number.NaN].map(formatMs)).toEqual(['500 µs', '12.3 ms', '250 ms', '1.5 s', '12.35 s', '—']);
    expect([0, 0.3, 2.1, 7, 120, 1_000].map(niceCeil)).toEqual([1, 0.5, 2.5, 10, 200, 1_000]);
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('renderLineChart', () => {
  const base = { title: 'T <1>', width: 1064, height: 234, xMaxMs: 10_000, formatY: (v: number) => `${v}` };

  it('maps values onto the plot and breaks the line where there is no value', () => {
    const svg = renderLineChart({ ...base, yMax: 100, series: [{ name: 's', color: 'red', points: [[0, 0], [5_000, 50], [6_000, null], [10_000, 100]] }] });
    // plot: x 64..1048 (984 wide), y from 26 (top, below the label room) to 200 (bottom)
    expect(svg).toContain('<path class="line" d="M64 200L556 113M1048 26" stroke="red"><title>s</title></path>');
    expect(svg).toContain('aria-label="T &lt;1&gt;"');
    expect(svg.match(/<text class="tick-label" [^>]*text-anchor="end">/g)).toHaveLength(5); // 0, 25, 50, 75, 100
    expect(svg).not.toContain('xmlns');
  });

  it('draws a log scale from a power of ten below the smallest value, clamping zeros to the bottom', () => {
    const svg = renderLineChart({ ...base, yScale: 'log', yMax: 900, yMinLog: 3, series: [{ name: 'p', color: 'blue', points: [[0, 0], [10_000, 1_000]] }] });
    const labels = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1]);
    expect(labels).toEqual(['1', '10', '100', '1000']);
    expect(svg).toContain('d="M64 200L1048 26"');
  });

  it('shades bands, stacks the labels of overlapping ones, and escapes them', () => {
    const svg = renderLineChart({
      ...base,
      yMax: 1,
      series: [],
      bands: [
        { startMs: 1_000, endMs: 4_000, label: 'a longer label <b>' },
        { startMs: 2_000, endMs: 3_000, label: 'c', detail: 'c on db' },
        { startMs: 9_000, endMs: 9_500, label: 'd' },
      ],
      hovers: [{ startMs: 0, endMs: 1_000, text: 'x & y' }],
    });
    expect(svg.match(/<rect class="fault" /g)).toHaveLength(3);
    const labels = [...svg.matchAll(/<text class="fault-label" x="([\d.]+)" y="([\d.]+)">([^<]*)</g)].map((m) => [m[3], m[2]]);
    expect(labels).toEqual([['a longer label &lt;b&gt;', '21'], ['c', '33'], ['d', '21']]);
    expect(svg).toContain('<title>c on db</title>');
    expect(svg).toContain('<rect class="hover" x="64" y="10" width="98.4" height="190"><title>x &amp; y</title></rect>');
  });
});

describe('renderTimeline', () => {
  it('draws one lane per name with a colored segment per state, labelled when wide enough', () => {
    const svg = renderTimeline({
      title: 'breakers',
      width: 1064,
      xMaxMs: 10_000,
      colorOf: (s) => (s === 'open' ? 'red' : 'green'),
      lanes: [
        { name: 'payments-gateway', segments: [{ startMs: 0, endMs: 5_000, state: 'closed' }, { startMs: 5_000, endMs: 5_100, state: 'open' }, { startMs: 5_100, endMs: 10_000, state: 'closed' }] },
        { name: 'db', segments: [{ startMs: 0, endMs: 10_000, state: '<odd>' }] },
      ],
    });
    expect(svg.match(/<g class="lane">/g)).toHaveLength(2);
    expect(svg).toContain('<rect class="segment" x="556" y="12" width="9.8" height="18" fill="red"><title>payments-gateway: open 0:05–0:05</title></rect>');
    expect(svg).not.toContain('<text class="segment-label" x="560"'); // 'open' does not fit in 9.8 units
    expect(svg).toContain('>payments-…</text>'); // long lane names are cut, the full name is in the tooltip
    expect(svg).toContain('&lt;odd&gt;');
    expect(svg).toContain('viewBox="0 0 1064 76"');
  });
});
