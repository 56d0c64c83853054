import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

// The supervisor runs as the cluster primary of a child process (vitest's worker is not a good primary); the
// fixture imports the built package, which `npm test` builds first.
const PRIMARY = fileURLToPath(new URL('../fixtures/supervisor-primary.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/healing/supervisor.js', import.meta.url));

type Message = { event: string; [key: string]: unknown };
type Child = ChildProcessByStdio<Writable, Readable, null>;

class Primary {
  readonly messages: Message[] = [];
  private readonly waiters: { predicate: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  readonly exited: Promise<number | null>;
  constructor(readonly child: Child) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as Message;
      this.messages.push(message);
      for (const waiter of [...this.waiters]) {
        if (!waiter.predicate(message)) continue;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }
  /** The first message (already received or future) matching; fails the test after `ms` (a hang guard, not a timing assertion). */
  waitFor(predicate: (m: Message) => boolean, what: string, after = 0, ms = 8_000): Promise<Message> {
    const seen = this.messages.slice(after).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(this.messages)}`)), ms);
      this.waiters.push({ predicate, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }
  send(cmd: string): void {
    this.child.stdin.write(`${JSON.stringify({ cmd })}\n`);
  }
}

function get(port: number, path = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(body) as { pid: number }).pid) : reject(new Error(`status ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

/** One sequential loop and three concurrent ones, until stopped or 400 requests each. */
function load(port: number) {
  let stopped = false;
  const result = { ok: 0, failed: [] as string[], pids: new Set<number>() };
  const loop = async (): Promise<void> => {
    for (let i = 0; i < 400 && !stopped; i++) {
      try {
        result.pids.add(await get(port));
        result.ok++;
      } catch (error) {
        result.failed.push(String(error));
      }
    }
  };
  const loops = Promise.all([loop(), loop(), loop(), loop()]);
  return {
    result,
    stop: async () => {
      stopped = true;
      await loops;
      return result;
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const pid = (m: Message): number => m['pid'] as number;
const spawned: Child[] = [];
afterAll(() => {
  for (const child of spawned) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('Supervisor with real processes', () => {
  it('rolls, honours a graceful request and replaces a crashed worker without dropping requests, then stops cleanly', { timeout: 30_000 }, async () => {
    expect(existsSync(BUILT), 'build the package first (npm run build)').toBe(true);
    const child = spawn(process.execPath, [PRIMARY], { stdio: ['pipe', 'pipe', 'inherit'] });
    spawned.push(child);
    const primary = new Primary(child);
    const started = await primary.waitFor((m) => m.event === 'started', 'start');
    const port = started['port'] as number;
    const initial = (started['workers'] as { pid: number }[]).map((w) => w.pid);
    expect(initial).toHaveLength(2);
    const allPids = new Set(initial);

    // 1. Rolling restart under load: every request answered, including one in flight on an old worker.
    let traffic = load(port);
    await new Promise((r) => setTimeout(r, 200));
    const slow = get(port, '/slow');
    const mark = primary.messages.length;
    primary.send('rolling');
    await primary.waitFor((m) => m.event === 'rollingRestartCompleted', 'rolling restart', mark);
    await new Promise((r) => setTimeout(r, 200));
    let result = await traffic.stop();
    expect(result.failed).toEqual([]);
    expect(result.ok).toBeGreaterThan(20);
    expect(initial).toContain(await slow);
    const rolled = primary.messages.slice(mark);
    expect(rolled.filter((m) => m.event === 'workerExited').map((m) => [pid(m), m['planned'], m['code']])).toEqual(
      initial.map((p) => [p, true, 0]),
    );
    // The replacement was ready before its predecessor exited, slot by slot.
    expect(rolled.map((m) => `${m.event}:${String(m['slot'])}`).filter((e) => !e.startsWith('rolling'))).toEqual([
      'workerStarted:0', 'workerReady:0', 'workerExited:0', 'workerStarted:1', 'workerReady:1', 'workerExited:1',
    ]);
    const rolledPids = rolled.filter((m) => m.event === 'workerReady').map(pid);
    rolledPids.forEach((p) => allPids.add(p));
    expect(initial.some(alive)).toBe(false);
    expect(result.pids.has(rolledPids[0]!) || result.pids.has(rolledPids[1]!)).toBe(true);

    // 2. A worker asks for its own graceful replacement: still no failed request.
    traffic = load(port);
    const graceMark = primary.messages.length;
    const asking = await get(port, '/graceful');
    const exit = await primary.waitFor((m) => m.event === 'workerExited' && pid(m) === asking, 'graceful exit', graceMark);
    expect(exit['planned']).toBe(true);
    result = await traffic.stop();
    expect(result.failed).toEqual([]);
    const graceful = primary.messages.slice(graceMark);
    expect(graceful.find((m) => m.event === 'workerStarted')?.['reason']).toBe('graceful-request');
    graceful.filter((m) => m.event === 'workerReady').forEach((m) => allPids.add(pid(m)));

    // 3. A crash (SIGKILL): replaced after the 300 ms backoff; a second quick crash waits 600 ms.
    primary.send('workers');
    const workers = (await primary.waitFor((m) => m.event === 'workers', 'workers', graceMark))['workers'] as { slot: number; pid: number }[];
    const victim = workers[0]!;
    const crashMark = primary.messages.length;
    process.kill(victim.pid, 'SIGKILL');
    const crashed = await primary.waitFor((m) => m.event === 'workerExited' && pid(m) === victim.pid, 'crash exit', crashMark);
    expect(crashed).toMatchObject({ planned: false, signal: 'SIGKILL', slot: victim.slot });
    expect(await primary.waitFor((m) => m.event === 'restartScheduled', 'restart', crashMark)).toMatchObject({ slot: victim.slot, delayMs: 300, attempt: 1 });
    const replacement = await primary.waitFor((m) => m.event === 'workerReady' && m['slot'] === victim.slot, 'replacement', crashMark);
    expect(primary.messages.slice(crashMark).find((m) => m.event === 'workerStarted')?.['reason']).toBe('crash');
    allPids.add(pid(replacement));
    expect(await get(port)).toBeGreaterThan(0);
    const secondMark = primary.messages.length;
    process.kill(pid(replacement), 'SIGKILL');
    expect(await primary.waitFor((m) => m.event === 'restartScheduled', 'second restart', secondMark)).toMatchObject({ delayMs: 600, attempt: 2 });
    allPids.add(pid(await primary.waitFor((m) => m.event === 'workerReady', 'second replacement', secondMark)));

    // 4. stop(): every worker drained, and the primary exits by itself (nothing left running).
    primary.send('stop');
    expect(await primary.waitFor((m) => m.event === 'stopped', 'stop')).toMatchObject({ workers: [] });
    expect(await primary.exited).toBe(0);
    expect([...allPids].filter(alive)).toEqual([]);
    expect(primary.messages.filter((m) => m.event === 'workerError' || m.event === 'error' || m.event === 'rollingRestartFailed')).toEqual([]);
  });
});
