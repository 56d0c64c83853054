import { escapeHtml } from './escape-html.js';

/** A point of a chart series: `[x in ms, y]`; a `null` y breaks the line. */
export type ChartPoint = readonly [x: number, y: number | null];

/** One line of a {@link renderLineChart} chart. */
export interface ChartSeries {
  name: string;
  /** CSS color of the line. */
  color: string;
  points: readonly ChartPoint[];
  /** Draw the line dashed. @default false */
  dashed?: boolean;
}

/** A shaded time window (a fault), labelled at the top of the plot. */
export interface ChartBand {
  startMs: number;
  endMs: number;
  label: string;
  /** Tooltip text. @default label */
  detail?: string;
}

/** A time span with a native tooltip (`<title>`), for hovering over a chart. */
export interface ChartHover {
  startMs: number;
  endMs: number;
  text: string;
}

/** Options of {@link renderLineChart}. */
export interface LineChartOptions {
  /** Accessible title of the chart. */
  title: string;
  /** Width of the drawing in SVG units (it scales to its container). @default 960 */
  width?: number;
  /** Height of the drawing in SVG units, axis and legend included. @default 236 */
  height?: number;
  /** End of the time axis, ms (charts meant to be compared pass the same value). */
  xMaxMs: number;
  /** @default 'linear' */
  yScale?: 'linear' | 'log';
  /** Top of the y axis; rounded up to a nice value. */
  yMax: number;
  /** Bottom of a log y axis (> 0); rounded down to a power of ten. @default 1 */
  yMinLog?: number;
  /** Formats a y tick label. */
  formatY: (value: number) => string;
  series: readonly ChartSeries[];
  bands?: readonly ChartBand[];
  hovers?: readonly ChartHover[];
}

/** One lane of a {@link renderTimeline} chart: a name and its successive states. */
export interface TimelineLane {
  name: string;
  segments: readonly { startMs: number; endMs: number; state: string }[];
}

/** Options of {@link renderTimeline}. */
export interface TimelineOptions {
  title: string;
  /** @default 960 */
  width?: number;
  xMaxMs: number;
  lanes: readonly TimelineLane[];
  /** CSS color of a state. */
  colorOf: (state: string) => string;
  bands?: readonly ChartBand[];
}

const MARGIN = { left: 64, right: 16, top: 10, bottom: 34 };
const LANE_HEIGHT = 22;
const LABEL_ROWS = 3;

const num = (x: number): string => (Math.round(x * 10) / 10).toString();

/** `ms` as `m:ss` (or `h:mm:ss`) for a time axis. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A latency for people: `850 µs`, `12.3 ms`, `1.25 s`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 100) return `${Number(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Number((ms / 1000).toFixed(2))} s`;
}

/** The smallest of 1, 2, 2.5, 5 times a power of ten that is >= `x` (1 for x <= 0). */
export function niceCeil(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * (1 - 1e-9)) return m * p;
  return 10 * p;
}

function timeTicks(xMaxMs: number): number[] {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400];
  const max = Math.max(1000, xMaxMs);
  const step = (steps.find((s) => max / (s * 1000) <= 8) ?? 86_400 * Math.ceil(max / 8 / 86_400_000)) * 1000;
  const ticks: number[] = [];
  for (let t = 0; t <= max + 1e-6; t += step) ticks.push(t);
  return ticks;
}

interface Frame {
  width: number;
  height: number;
  plotTop: number;
  plotBottom: number;
  x: (ms: number) => number;
  xMaxMs: number;
}

function frame(width: number, height: number, xMaxMs: number, bottom = MARGIN.bottom): Frame {
  const xMax = Math.max(1000, xMaxMs);
  const plotWidth = width - MARGIN.left - MARGIN.right;
  return {
    width,
    height,
    plotTop: MARGIN.top,
    plotBottom: height - bottom,
    x: (ms) => MARGIN.left + (Math.min(Math.max(ms, 0), xMax) / xMax) * plotWidth,
    xMaxMs: xMax,
  };
}

function timeAxis(f: Frame): string {
  const ticks = timeTicks(f.xMaxMs);
  let out = `<g class="x-axis"><line class="axis" x1="${MARGIN.left}" x2="${num(f.width - MARGIN.right)}" y1="${num(f.plotBottom)}" y2="${num(f.plotBottom)}"/>`;
  for (const t of ticks) {
    const x = num(f.x(t));
    out += `<line class="tick" x1="${x}" x2="${x}" y1="${num(f.plotBottom)}" y2="${num(f.plotBottom + 4)}"/>`;
    out += `<text class="tick-label" x="${x}" y="${num(f.plotBottom + 16)}" text-anchor="middle">${formatClock(t)}</text>`;
  }
  return `${out}</g>`;
}

function bandsOf(f: Frame, bands: readonly ChartBand[] | undefined, labels: boolean): string {
  if (bands === undefined || bands.length === 0) return '';
  const rowEnds: number[] = new Array<number>(LABEL_ROWS).fill(-Infinity);
  const sorted = [...bands].sort((a, b) => a.startMs - b.startMs);
  let out = '<g class="faults">';
  sorted.forEach((band, i) => {
    const x0 = f.x(band.startMs);
    const x1 = Math.max(f.x(band.endMs), x0 + 1);
    out += `<rect class="fault" x="${num(x0)}" y="${num(f.plotTop)}" width="${num(x1 - x0)}" height="${num(f.plotBottom - f.plotTop)}"><title>${escapeHtml(band.detail ?? band.label)}</title></rect>`;
    if (!labels) return;
    let row = rowEnds.findIndex((end) => end <= x0);
    if (row < 0) row = i % LABEL_ROWS;
    rowEnds[row] = x0 + 8 + band.label.length * 6.2;
    out += `<text class="fault-label" x="${num(x0 + 3)}" y="${num(f.plotTop + 11 + row * 12)}">${escapeHtml(band.label)}</text>`;
  });
  return `${out}</g>`;
}

function hoversOf(f: Frame, hovers: readonly ChartHover[] | undefined): string {
  if (hovers === undefined || hovers.length === 0) return '';
  let out = '<g class="hovers">';
  for (const h of hovers) {
    const x0 = f.x(h.startMs);
    const x1 = Math.max(f.x(h.endMs), x0 + 0.5);
    out += `<rect class="hover" x="${num(x0)}" y="${num(f.plotTop)}" width="${num(x1 - x0)}" height="${num(f.plotBottom - f.plotTop)}"><title>${escapeHtml(h.text)}</title></rect>`;
  }
  return `${out}</g>`;
}

function legendOf(f: Frame, series: readonly ChartSeries[]): string {
  let out = '<g class="legend">';
  let x = MARGIN.left;
  const y = f.height - 6;
  for (const s of series) {
    out += `<line x1="${num(x)}" x2="${num(x + 16)}" y1="${num(y - 4)}" y2="${num(y - 4)}" stroke="${escapeHtml(s.color)}" stroke-width="2.5"${s.dashed === true ? ' stroke-dasharray="4 3"' : ''}/>`;
    out += `<text class="legend-label" x="${num(x + 20)}" y="${num(y)}">${escapeHtml(s.name)}</text>`;
    x += 32 + s.name.length * 6.5;
  }
  return `${out}</g>`;
}

/**
 * A time-series line chart as an inline `<svg>` string (no script, no external reference): y grid and
 * labels, a time axis in `m:ss`, shaded labelled bands (fault windows), one path per series with gaps
 * where y is null, a legend, and optional hover spans with native tooltips.
 */
export function renderLineChart(o: LineChartOptions): string {
  const f = frame(o.width ?? 960, o.height ?? 236, o.xMaxMs);
  const log = o.yScale === 'log';
  const top = log ? 10 ** Math.ceil(Math.log10(Math.max(o.yMax, 1e-3))) : niceCeil(o.yMax);
  const bottom = log ? 10 ** Math.floor(Math.log10(Math.max(Math.min(o.yMinLog ?? 1, top / 10), 1e-3))) : 0;
  const plotHeight = f.plotBottom - f.plotTop - 16;
  const yTop = f.plotTop + 16; // room for fault labels above the highest value
  const y = (v: number): number => {
    const frac = log ? (Math.log10(Math.max(v, bottom)) - Math.log10(bottom)) / (Math.log10(top) - Math.log10(bottom)) : v / top;
    return yTop + (1 - Math.min(Math.max(frac, 0), 1)) * plotHeight;
  };
  const ticks: number[] = [];
  if (log) for (let v = bottom; v <= top * 1.0001; v *= 10) ticks.push(v);
  else for (let i = 0; i <= 4; i++) ticks.push((top * i) / 4);

  let out = `<svg class="chart" viewBox="0 0 ${f.width} ${f.height}" role="img" aria-label="${escapeHtml(o.title)}"><title>${escapeHtml(o.title)}</title>`;
  out += `<rect class="plot" x="${MARGIN.left}" y="${num(f.plotTop)}" width="${num(f.width - MARGIN.left - MARGIN.right)}" height="${num(f.plotBottom - f.plotTop)}"/>`;
  out += bandsOf(f, o.bands, true);
  out += '<g class="y-axis">';
  for (const v of ticks) {
    const yy = num(y(v));
    out += `<line class="grid" x1="${MARGIN.left}" x2="${num(f.width - MARGIN.right)}" y1="${yy}" y2="${yy}"/>`;
    out += `<text class="tick-label" x="${MARGIN.left - 6}" y="${num(y(v) + 4)}" text-anchor="end">${escapeHtml(o.formatY(v))}</text>`;
  }
  out += '</g><g class="lines">';
  for (const s of o.series) {
    let d = '';
    let pen = false;
    for (const [px, py] of s.points) {
      if (py === null || !Number.isFinite(py)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${num(f.x(px))} ${num(y(py))}`;
      pen = true;
    }
    if (d === '') continue;
    out += `<path class="line" d="${d}" stroke="${escapeHtml(s.color)}"${s.dashed === true ? ' stroke-dasharray="4 3"' : ''}><title>${escapeHtml(s.name)}</title></path>`;
  }
  out += '</g>';
  out += timeAxis(f);
  out += legendOf(f, o.series);
  out += hoversOf(f, o.hovers);
  return `${out}</svg>`;
}

/**
 * State lanes over time (circuit breakers, the degradation level) as an inline `<svg>` string: one row
 * per lane, each state a colored segment labelled when wide enough, with a tooltip; fault bands shaded
 * behind.
 */
export function renderTimeline(o: TimelineOptions): string {
  const height = MARGIN.top + o.lanes.length * LANE_HEIGHT + 22;
  const f = frame(o.width ?? 960, height, o.xMaxMs, 22);
  let out = `<svg class="chart timeline" viewBox="0 0 ${f.width} ${height}" role="img" aria-label="${escapeHtml(o.title)}"><title>${escapeHtml(o.title)}</title>`;
  out += bandsOf(f, o.bands, false);
  o.lanes.forEach((lane, i) => {
    const y0 = f.plotTop + i * LANE_HEIGHT + 2;
    const h = LANE_HEIGHT - 4;
    const name = lane.name.length > 10 ? `${lane.name.slice(0, 9)}…` : lane.name;
    out += `<g class="lane"><text class="lane-label" x="${MARGIN.left - 6}" y="${num(y0 + h / 2 + 4)}" text-anchor="end"><title>${escapeHtml(lane.name)}</title>${escapeHtml(name)}</text>`;
    for (const seg of lane.segments) {
      const x0 = f.x(seg.startMs);
      const w = Math.max(f.x(seg.endMs) - x0, 0.8);
      out += `<rect class="segment" x="${num(x0)}" y="${num(y0)}" width="${num(w)}" height="${h}" fill="${escapeHtml(o.colorOf(seg.state))}"><title>${escapeHtml(`${lane.name}: ${seg.state} ${formatClock(seg.startMs)}–${formatClock(seg.endMs)}`)}</title></rect>`;
      if (w > seg.state.length * 6.2 + 6) {
        out += `<text class="segment-label" x="${num(x0 + 4)}" y="${num(y0 + h / 2 + 4)}">${escapeHtml(seg.state)}</text>`;
      }
    }
    out += '</g>';
  });
  out += timeAxis(f);
  return `${out}</svg>`;
}
