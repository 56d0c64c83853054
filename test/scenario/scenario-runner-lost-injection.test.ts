import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createChaosAdminHandler } from '../../src/adapters/http/chaos-admin-handler.js';
import { ChaosControl } from '../../src/chaos/chaos-control.js';
import { ChaosRegistry, type ActiveFaultInfo } from '../../src/chaos/chaos-registry.js';
import { ChaosAdminClient } from '../../src/scenario/chaos-admin-client.js';
import type { Scenario } from '../../src/scenario/scenario.js';
import { parseScenarioFile } from '../../src/scenario/scenario-loader.js';
import { RUN_TAG_PREFIX, ScenarioRunner } from '../../src/scenario/scenario-runner.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const TOKEN = 'lost-injection-token-0123456789';
const CLIENT_TIMEOUT_MS = 200;
const LATE_ANSWER_MS = 700;

const SCENARIO = `
name: lost injection
load: { rate: 5, timeout: 1s }
phases:
  - name: outage
    duration: 1s
    faults:
      - dependency: payment
        fault: { kind: error }
      - dependency: database
        fault: { kind: latency, latencyMs: 5 }
`;

interface SlowTarget {
  base: string;
  registry: ChaosRegistry;
  added: (ActiveFaultInfo & { tag?: string })[];
  lateAnswers: Promise<void>[];
  /** Set: `GET <admin>/` (the fault listing) answers 503. */
  listingDown: boolean;
  close(): Promise<void>;
}

/**
 * A real node:http service with the chaos admin endpoint whose answer to `POST /faults` for `slowDependency`
 * is sent only after LATE_ANSWER_MS: the fault is in place at once, but the client has given up by then.
 */
async function startSlowTarget(slowDependency: string): Promise<SlowTarget> {
  const registry = new ChaosRegistry({ control: new ChaosControl({ environment: 'test' }) });
  for (const dependency of ['payment', 'database']) registry.injector(dependency);
  const handler = createChaosAdminHandler({ registry, token: TOKEN });
  const added: SlowTarget['added'] = [];
  const lateAnswers: Promise<void>[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/admin/chaos/' && target.listingDown) return void res.writeHead(503).end();
    if (req.method === 'POST' && req.url === '/admin/chaos/faults') {
      const end = res.end.bind(res) as (...args: unknown[]) => unknown;
      res.end = ((...args: unknown[]) => {
        const body = typeof args[0] === 'string' ? (JSON.parse(args[0]) as ActiveFaultInfo & { tag?: string }) : undefined;
        if (body !== undefined) added.push(body);
        if (body?.dependency !== slowDependency) return end(...args);
        lateAnswers.push(
          new Promise<void>((resolve) =>
            setTimeout(() => {
              if (!res.destroyed) end(...args);
              resolve();
            }, LATE_ANSWER_MS),
          ),
        );
        return res;
      }) as typeof res.end;
    }
    void handler(req, res).then((handled) => {
      if (!handled) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target: SlowTarget = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    registry,
    added,
    lateAnswers,
    listingDown: false,
    close: () =>
      new Promise<void>((resolve) => {
        registry.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return target;
}

const targets: SlowTarget[] = [];
afterEach(async () => {
  for (const target of targets.splice(0)) {
    await Promise.all(target.lateAnswers);
    await target.close();
  }
});

describe('ScenarioRunner: a fault whose injection answer was lost (regression: it stayed until its expiry)', () => {
  it('tags every fault with the run id and removes the one injected after the client timed out when the run ends', async () => {
    const target = await startSlowTarget('database');
    targets.push(target);
    const scenario = parseScenarioFile(SCENARIO, 'inline.yaml').scenarios[0] as Scenario;
    const admin = new ChaosAdminClient({ url: `${target.base}/admin/chaos`, token: TOKEN, timeoutMs: CLIENT_TIMEOUT_MS });
    const runner = new ScenarioRunner(scenario, { url: `${target.base}/quote`, admin, runId: 'lost-1' });
    expect(runner.faultTag).toBe(`${RUN_TAG_PREFIX}lost-1`);

    const journal = await runner.run();

    // the target did accept both injections, each tagged with the run
    expect(target.added.map((f) => [f.dependency, f.tag])).toEqual([
      ['payment', 'antifragile-run:lost-1'],
      ['database', 'antifragile-run:lost-1'],
    ]);
    // ...the client gave up on the second one...
    expect(journal.runId).toBe('lost-1');
    expect(journal.status).toBe('failed');
    expect(journal.reason).toMatch(/could not inject latency\(database\): .*no answer within 200 ms/);
    // ...and yet nothing is left at the target: the known fault by id, the lost one by tag
    expect(target.registry.active()).toEqual([]);
    const lostId = (target.added[1] as ActiveFaultInfo).id;
    const removals = journal.activities.filter((a) => a.name.startsWith('remove ')).map((a) => [a.name, a.status, a.output]);
    expect(removals).toEqual([
      ['remove error(payment)', 'succeeded', undefined],
      ['remove faults tagged antifragile-run:lost-1 (end of phase outage)', 'succeeded', { removed: [`fault ${lostId} on database`] }],
    ]);
  });

  it('journals each failed sweep, naming the tag, when the faults cannot be listed after an injection went unanswered', async () => {
    const target = await startSlowTarget('database');
    targets.push(target);
    target.registry.on('faultAdded', (f) => {
      if (f.dependency === 'database') target.listingDown = true;
    });
    const scenario = parseScenarioFile(SCENARIO, 'inline.yaml').scenarios[0] as Scenario;
    const admin = new ChaosAdminClient({ url: `${target.base}/admin/chaos`, token: TOKEN, timeoutMs: CLIENT_TIMEOUT_MS });
    const journal = await new ScenarioRunner(scenario, { url: `${target.base}/quote`, admin, runId: 'lost-2' }).run();
    expect(journal.status).toBe('failed');
    // the first reason (the injection) stays the run's reason; the listing failures are journaled
    expect(journal.reason).toMatch(/could not inject latency\(database\)/);
    const sweeps = journal.activities.filter((a) => a.name.startsWith('remove faults tagged antifragile-run:lost-2'));
    expect(sweeps.map((a) => [a.name, a.status])).toEqual([
      ['remove faults tagged antifragile-run:lost-2 (end of phase outage)', 'failed'],
      ['remove faults tagged antifragile-run:lost-2 (rollback)', 'failed'],
    ]);
    expect(sweeps[1]?.error).toMatch(/^list the faults tagged antifragile-run:lost-2: GET .* answered 503/);
    expect(target.registry.active().map((f) => f.dependency)).toEqual(['database']);
  });

  it('leaves faults of other runs alone', async () => {
    const target = await startSlowTarget('none');
    targets.push(target);
    const other = target.registry.inject('payment', { kind: 'latency', latencyMs: 1 });
    const scenario = parseScenarioFile(SCENARIO.replace('duration: 1s', 'duration: 200ms'), 'inline.yaml').scenarios[0] as Scenario;
    const admin = new ChaosAdminClient({ url: `${target.base}/admin/chaos`, token: TOKEN, timeoutMs: 2_000 });
    const journal = await new ScenarioRunner(scenario, { url: `${target.base}/quote`, admin }).run();
    expect(journal.status).toBe('completed');
    expect(target.added).toHaveLength(2);
    expect(target.added.every((f) => f.tag?.startsWith(RUN_TAG_PREFIX) === true)).toBe(true);
    expect(target.registry.active().map((f) => f.id)).toEqual([other.id]);
    expect(journal.activities.some((a) => a.name.startsWith('remove faults tagged'))).toBe(false);
  });
});
