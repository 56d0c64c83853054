import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedisServer } from '../../support/redis-server.js';

// Two real processes share one circuit: each runs test/fixtures/shared-breaker-instance.mjs against the
// built package (dist/, made by `npm run build`) with the same breaker name and the same Redis.

const fixture = fileURLToPath(new URL('../../fixtures/shared-breaker-instance.mjs', import.meta.url));
const built = fileURLToPath(new URL('../../../dist/adapters/redis/shared-circuit-breaker.js', import.meta.url));

/** One child process driven line by line. */
class Instance {
  private readonly lines: Interface;
  private readonly queue: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  private stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    this.lines.on('line', (line) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting !== undefined) waiting(line);
      else this.queue.push(line);
    });
    child.stderr?.on('data', (data: Buffer) => {
      this.stderr += data.toString();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** The next line the child writes (fails after 10 s, with what it wrote on stderr). */
  next(): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from the child; stderr: ${this.stderr}`)), 10_000);
      this.waiting = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  async ask(command: string): Promise<string> {
    this.child.stdin?.write(`${command}\n`);
    return this.next();
  }

  /** Asks `call n` and parses the answer. */
  async call(n: number): Promise<{ failures: number; refused: number; state: string; retryAfterMs: number; mode: string }> {
    const answer = await this.ask(`call ${n}`);
    const [word, failures, refused, state, retryAfterMs, mode] = answer.split(' ');
    expect(word).toBe('done');
    return { failures: Number(failures), refused: Number(refused), state: String(state), retryAfterMs: Number(retryAfterMs), mode: String(mode) };
  }
}

let server: PrivateRedisServer;
const instances: Instance[] = [];

function launch(name: string): Instance {
  const child = spawn(process.execPath, [fixture, String(server.port), name], { stdio: ['pipe', 'pipe', 'pipe'] });
  const instance = new Instance(child);
  instances.push(instance);
  return instance;
}

beforeAll(async () => {
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
  server = await PrivateRedisServer.start();
});

afterAll(async () => {
  for (const instance of instances) if (instance.child.exitCode === null) instance.child.kill('SIGKILL');
  await server.stop();
});

describe('SharedCircuitBreaker: two processes share one circuit', () => {
  it('failures seen by process A open the circuit for process B, which never saw enough failures itself', async () => {
    const name = `pricing-${process.pid}`;
    const a = launch(name);
    const b = launch(name);
    expect(await a.next()).toBe('ready shared');
    expect(await b.next()).toBe('ready shared');

    // B sees 2 failures: far below minimumCalls (10), it could never open a circuit on its own.
    const before = await b.call(2);
    expect(before).toMatchObject({ failures: 2, refused: 0, state: 'closed', mode: 'shared' });

    // A keeps calling the failing dependency until the fleet window opens the circuit.
    const fromA = await a.call(12);
    expect(fromA.failures).toBeGreaterThanOrEqual(8); // with B's 2: the 10 calls minimumCalls needs
    expect(await a.ask('wait-open')).toBe('open');

    // B learns it at its next sync and refuses locally, with the time left until the fleet probes again.
    expect(await b.ask('wait-open')).toBe('open');
    const after = await b.call(3);
    expect(after).toMatchObject({ failures: 2, refused: 3, state: 'open', mode: 'shared' });
    expect(after.retryAfterMs).toBeGreaterThan(50_000);
    expect(after.retryAfterMs).toBeLessThanOrEqual(60_000);

    // Both end by themselves once told to: no timer or connection of the breaker keeps them alive.
    for (const instance of [a, b]) {
      instance.child.stdin?.end('exit\n');
      expect(await instance.exited).toBe(0);
    }
  });
});
