import type { CriterionResult, ScenarioJournal } from '../scenario/journal.js';

/**
 * The text the CLI prints after a run: scenario, status, load totals, each criterion with PASS/FAIL, the
 * observed value and its detail, the baseline's figures when there is one, the verdict, and where the
 * journal and report were written.
 */
export function formatJournalSummary(journal: ScenarioJournal, files: { journal?: string; report?: string } = {}): string {
  const lines: string[] = [];
  const t = journal.totals;
  lines.push(`Scenario "${journal.scenario.name}" (${journal.scenario.format}) against ${journal.target.url ?? journal.target.kind}${journal.timeScale !== 1 ? `, time scale ${journal.timeScale}` : ''}`);
  lines.push(`  status ${journal.status}${journal.reason === undefined ? '' : `: ${journal.reason}`}`);
  lines.push(`  load: ${t.sent} requests, availability ${percent(t.availability)}, p95 ${ms(t.latency.p95)}, p99 ${ms(t.latency.p99)}${errorsText(t.errors)}`);
  if (journal.deviated) lines.push('  steady state deviated after the run');
  for (const probe of journal.steadyStateAfter.filter((p) => !p.ok)) lines.push(`    steady state after: ${probe.name}: ${probe.detail ?? String(probe.value)}`);
  for (const c of journal.criteria) lines.push(`  ${c.passed ? 'PASS' : 'FAIL'} ${c.name} ${c.expected}: ${observed(c)}${c.detail === undefined ? '' : ` (${c.detail})`}`);
  if (journal.criteria.length === 0) lines.push('  (no criterion evaluated)');
  const b = journal.baseline;
  if (b !== undefined) {
    lines.push(`  baseline (protection off): status ${b.status}, ${b.totals.sent} requests, availability ${percent(b.totals.availability)}, p95 ${ms(b.totals.latency.p95)}`);
    for (const c of b.criteria) lines.push(`    baseline ${c.passed ? 'PASS' : 'FAIL'} ${c.name} ${c.expected}: ${observed(c)}`);
  }
  lines.push(`  verdict: ${journal.verdict.toUpperCase()}`);
  if (files.journal !== undefined) lines.push(`  journal: ${files.journal}`);
  if (files.report !== undefined) lines.push(`  report: ${files.report}`);
  return `${lines.join('\n')}\n`;
}

function observed(c: CriterionResult): string {
  if (c.observed === null) return 'no value';
  if (typeof c.observed === 'number') {
    if (/%/.test(c.expected) || (c.observed > 0 && c.observed < 1 && !/ms|\ds/.test(c.expected))) return `${c.observed} (${percent(c.observed)})`;
    return String(Math.round(c.observed * 1000) / 1000);
  }
  return String(c.observed);
}

function percent(ratio: number): string {
  return `${(Math.floor(ratio * 10_000) / 100).toFixed(2)}%`;
}

function ms(value: number): string {
  return `${Math.round(value * 10) / 10} ms`;
}

function errorsText(errors: Record<string, number>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? '' : `, failures: ${entries.slice(0, 5).map(([k, v]) => `${k} ×${v}`).join(', ')}`;
}
