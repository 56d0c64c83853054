export type { ProgressStatus, ProgressStream, ProgressViewOptions } from './progress-view.js';
export type { ChartBand, ChartHover, ChartPoint, ChartSeries, LineChartOptions, TimelineLane, TimelineOptions } from './svg-charts.js';
export { escapeHtml } from './escape-html.js';
export { renderHtmlReport } from './html-report.js';
export { formatProgressLine, ProgressView } from './progress-view.js';
export { formatClock, formatMs, renderLineChart, renderTimeline } from './svg-charts.js';
