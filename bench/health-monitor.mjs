// The HealthMonitor's own cost with 1,000 registered checks: run as `node bench/health-monitor.mjs`.
// Each check resolves at once, so what is measured is the monitor: scheduling, timeouts, history, scores.
import { HealthMonitor } from 'antifragile';

const CHECKS = 1_000;
const INTERVAL_MS = 100;
const RUN_MS = 3_000;

const monitor = new HealthMonitor({ checkInterval: INTERVAL_MS });
let runs = 0;
for (let i = 0; i < CHECKS; i++) {
  monitor.registerCheck(`check-${i}`, async () => {
    runs++;
    return true;
  }, { component: `component-${i % 50}`, critical: i % 10 === 0 });
}
const cpuBefore = process.cpuUsage();
const start = performance.now();
monitor.start();
await new Promise((resolve) => setTimeout(resolve, RUN_MS));
monitor.stop();
const elapsedMs = performance.now() - start;
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000;
const t0 = performance.now();
const ROUNDS = 200;
for (let i = 0; i < ROUNDS; i++) monitor.getSystemHealth();
const systemHealthUs = ((performance.now() - t0) / ROUNDS) * 1000;

console.log(`${CHECKS} checks every ${INTERVAL_MS} ms for ${(elapsedMs / 1000).toFixed(1)} s: ${runs} check runs`);
console.log(`  CPU ${cpuMs.toFixed(0)} ms = ${((cpuMs / elapsedMs) * 100).toFixed(1)}% of one core`);
console.log(`  ${((cpuMs * 1000) / runs).toFixed(1)} µs of CPU per check run (monitor overhead, checks resolve at once)`);
console.log(`  at the default 5 s interval that is ${(((cpuMs / runs) * (CHECKS / 5)) / 10).toFixed(2)}% of one core`);
console.log(`  getSystemHealth() with ${CHECKS} checks: ${systemHealthUs.toFixed(0)} µs`);
