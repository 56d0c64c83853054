import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/adapters/sqlite/sqlite-store.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const dir = mkdtempSync(join(tmpdir(), 'antifragile-sqlite-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const child = fileURLToPath(new URL('../../fixtures/sqlite-crash-child.mjs', import.meta.url));

/** Rows committed so far, as a separate read-only connection sees them (0 before the schema exists). */
function committedRows(path: string): number {
  let reader: Database.Database | undefined;
  try {
    reader = new Database(path, { readonly: true, fileMustExist: true });
    return (reader.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    reader?.close();
  }
}

const poll = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

it('kill -9 mid-stream loses at most the unflushed batch and never corrupts the file', async () => {
  const path = join(dir, 'crash.db');
  const proc = spawn(process.execPath, [child, path, '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const flushedCounts: number[] = [];
  let appended = 0;
  let ready = false;
  const lines = createInterface({ input: proc.stdout });
  lines.on('line', (line) => {
    const [kind, a, b] = line.split(' ');
    if (kind === 'ready') ready = true;
    else if (kind === 'appended') appended = Number(a);
    else if (kind === 'flushed') flushedCounts.push(Number(b));
  });
  const stdoutClosed = new Promise<void>((resolve) => lines.once('close', resolve));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));

  // Wait until another connection has seen three different committed sizes: three flushes landed.
  const seen = new Set<number>();
  for (let i = 0; i < 3_000 && seen.size < 3; i++) {
    await poll();
    if (!ready) continue;
    const rows = committedRows(path);
    if (rows > 0) seen.add(rows);
  }
  expect(seen.size, `child stderr: ${stderr}`).toBe(3);
  proc.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  await stdoutClosed; // everything the child wrote before dying is still in the pipe

  const db = new Database(path);
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  const { n, max } = db.prepare('SELECT COUNT(*) AS n, MAX(at) AS max FROM audit_log').get() as { n: number; max: number };
  const distinct = (db.prepare('SELECT COUNT(DISTINCT at) AS d FROM audit_log').get() as { d: number }).d;
  db.close();

  const lastAcknowledged = flushedCounts.at(-1) ?? 0;
  expect(flushedCounts.length).toBeGreaterThanOrEqual(3);
  // The file holds exactly the rows 0..n-1: whole batches, no gap, nothing twice.
  expect(distinct).toBe(n);
  expect(max).toBe(n - 1);
  // Every batch the child saw committed is there ...
  expect(n).toBeGreaterThanOrEqual(lastAcknowledged);
  // ... and what is missing is only what was appended after the last commit: the file ends on a batch
  // boundary, the last acknowledged one or one the child committed but had no time to report.
  expect(n).toBeLessThanOrEqual(appended);
  expect(flushedCounts.includes(n) || n > lastAcknowledged).toBe(true);
  expect(n % 20).toBe(0); // a batch ends between two ticks of 20 appends, never inside one

  // Reopening through the store works and sees the same rows.
  const store = new SqliteStore({ path });
  expect((await store.getAuditLog({ limit: 1 }))[0]?.at).toBe(n - 1);
  await store.close();
}, 60_000);
