import type { VirtualClock } from '../../../src/core/virtual-clock.js';
import type { LoadRequest, LoadTransport } from '../../../src/scenario/load/load-transport.js';

/** What the fake target does with one request: answer after a delay, hang until aborted, or fail at once. */
export type FakeAnswer = { afterMs: number; status: number } | 'hang' | Error;

/** A {@link LoadTransport} on a VirtualClock whose target behaves as `respond` says. */
export class FakeTransport implements LoadTransport {
  readonly sent: { at: number; request: LoadRequest; signal: AbortSignal }[] = [];
  closed = false;

  constructor(
    private readonly clock: VirtualClock,
    private readonly respond: (request: LoadRequest, at: number) => FakeAnswer,
  ) {}

  send(request: LoadRequest, signal: AbortSignal): Promise<number> {
    const at = this.clock.now();
    this.sent.push({ at, request, signal });
    const answer = this.respond(request, at);
    return new Promise<number>((resolve, reject) => {
      if (answer instanceof Error) return reject(answer);
      const onAbort = (): void => {
        timer?.cancel();
        reject(signal.reason);
      };
      const timer =
        answer === 'hang'
          ? undefined
          : this.clock.schedule(() => {
              signal.removeEventListener('abort', onAbort);
              resolve(answer.status);
            }, answer.afterMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
