import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP server on an ephemeral port, counting what it receives. */
export interface TestServer {
  url: string;
  server: Server;
  /** Requests received, by path. */
  received: Map<string, number>;
  /** Arrival and response times (performance.now()) of every request. */
  arrivals: number[];
  responses: number[];
  /** Requests whose connection closed before an answer (aborted by the client). */
  aborted: number;
  close(): Promise<void>;
}

/** Starts a server; `handle` may answer, delay or never answer (return without calling `res.end`). */
export async function startTestServer(handle: (req: IncomingMessage, res: ServerResponse, server: TestServer) => void): Promise<TestServer> {
  const state = { received: new Map<string, number>(), arrivals: [] as number[], responses: [] as number[], aborted: 0 } as TestServer;
  const server = createServer((req, res) => {
    state.arrivals.push(performance.now());
    const path = req.url ?? '';
    state.received.set(path, (state.received.get(path) ?? 0) + 1);
    res.on('finish', () => state.responses.push(performance.now()));
    res.on('close', () => {
      if (!res.writableFinished) state.aborted++;
    });
    req.resume();
    handle(req, res, state);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.server = server;
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** Waits `ms` of real time (the duration of a real load run). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 10 ms until it holds or `timeoutMs` passed; returns its last answer. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 2_000): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > end) return false;
    await sleep(10);
  }
}

/** Open connections of `server`. */
export function connectionsOf(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}
