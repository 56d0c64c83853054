import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { PrivateRedisServer } from '../../support/redis-server.js';

failOnUnhandledRejections();

const fixture = fileURLToPath(new URL('../../fixtures/fleet-game-day.mjs', import.meta.url));
const built = fileURLToPath(new URL('../../../dist/adapters/redis/fleet-coordinator.js', import.meta.url));

let server: PrivateRedisServer;
beforeAll(async () => {
  server = await PrivateRedisServer.start();
});
afterAll(async () => {
  await server.stop();
});

/** Starts an instance; `lines()` resolves each line it prints, in order. */
function instance(id: string, mode: 'hold' | 'try') {
  const proc = spawn(process.execPath, [fixture, String(server.port), 'mp:', id, mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const next = waiting.shift();
    if (next !== undefined) next(line);
    else queue.push(line);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const line = (): Promise<string> => {
    const ready = queue.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return Promise.race([
      new Promise<string>((resolve) => waiting.push(resolve)),
      exited.then((code) => {
        throw new Error(`instance ${id} exited with ${code} before printing: ${stderr}`);
      }),
    ]);
  };
  return { proc, line, exited };
}

it('a second process is refused the game-day lock, naming the holder, until the first releases it', async () => {
  expect(existsSync(built), 'run `npm run build` first: the child imports the built package').toBe(true);
  const holder = instance('proc-1', 'hold');
  try {
    const held = JSON.parse(await holder.line()) as { held: { name: string; by: string } };
    expect(held.held).toMatchObject({ name: 'chaos-friday', by: 'proc-1' });

    const refused = instance('proc-2', 'try');
    const answer = JSON.parse(await refused.line()) as { ok: boolean; code: string; holder: unknown; message: string };
    expect(answer).toMatchObject({ ok: false, code: 'GAME_DAY_LOCKED', holder: held.held });
    expect(answer.message).toMatch(/game day "chaos-friday" is running on instance proc-1/);
    expect(await refused.exited).toBe(0);

    holder.proc.stdin.write('release\n');
    expect(await holder.line()).toBe('released');
    expect(await holder.exited).toBe(0);

    const after = instance('proc-3', 'try');
    expect(JSON.parse(await after.line())).toMatchObject({ ok: true, holder: { name: 'second-drill', by: 'proc-3' } });
    expect(await after.exited).toBe(0);
  } finally {
    holder.proc.kill('SIGKILL');
  }
});
