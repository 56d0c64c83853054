import { connect, type Socket } from 'node:net';

/** A raw TCP client that records every read, the end and errors, for measuring what a proxy does to a stream. */
export class RawClient {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  ended = false;
  closed = false;
  error: NodeJS.ErrnoException | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.bytes += chunk.length;
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects to 127.0.0.1:`port`; rejects with the socket error (e.g. ECONNREFUSED). */
  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until `condition` holds, at most `timeoutMs` (real time); returns whether it held. */
  until(condition: (client: this) => boolean, timeoutMs = 3_000): Promise<boolean> {
    if (condition(this)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(condition(this));
      }, timeoutMs);
      const check = (): void => {
        if (!condition(this)) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(true);
      };
      this.waiters.push(check);
    });
  }

  /** Sends `request` and returns the milliseconds until `bytes` more bytes were read (rejects after 3 s). */
  async roundTrip(request: string, bytes: number): Promise<number> {
    const target = this.bytes + bytes;
    const started = performance.now();
    this.write(request);
    if (!(await this.until((c) => c.bytes >= target))) throw new Error(`no reply to ${JSON.stringify(request)} within 3 s`);
    return performance.now() - started;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const waiter of this.waiters.slice()) waiter();
  }
}

/** Milliseconds since `start` (a `performance.now()` reading). */
export function since(start: number): number {
  return performance.now() - start;
}

/** A random source that returns `values` in order, then `rest` forever. */
export function scriptedRandom(values: number[], rest = 0.999): () => number {
  let i = 0;
  return () => (i < values.length ? (values[i++] as number) : rest);
}

/** Resolves after `ms` of real time (only to let a real network event not happen). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 5 ms until it holds, at most `timeoutMs` of real time; returns whether it held. */
export async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<boolean> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) return false;
    await pause(5);
  }
  return true;
}
