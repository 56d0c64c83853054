import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';

/** A free TCP port on loopback (bound and released; redis-server binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A private `redis-server` for one test file: its own port, no persistence, killed at the end.
 * Outage tests use `kill()` (SIGKILL), `pause()` (SIGSTOP: a hung server that still holds its sockets),
 * `resume()` and `restart()` (a fresh empty server on the same port).
 */
export class PrivateRedisServer {
  private process: ChildProcess | undefined;
  private paused = false;

  private constructor(readonly port: number) {}

  /** Starts a server on a free port and waits until it accepts connections. */
  static async start(): Promise<PrivateRedisServer> {
    const server = new PrivateRedisServer(await freePort());
    await server.launch();
    return server;
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Connection options for ioredis: fast reconnects, so outage tests heal quickly. */
  get options(): { host: string; port: number; lazyConnect: boolean; retryStrategy: (times: number) => number } {
    return { host: '127.0.0.1', port: this.port, lazyConnect: false, retryStrategy: (times) => Math.min(times * 20, 200) };
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** SIGKILL: connections drop at once. */
  async kill(): Promise<void> {
    const child = this.process;
    if (child === undefined) return;
    this.process = undefined;
    if (this.paused) child.kill('SIGCONT');
    this.paused = false;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: the server keeps its sockets open and answers nothing. */
  pause(): void {
    if (this.process === undefined || this.paused) return;
    this.process.kill('SIGSTOP');
    this.paused = true;
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    if (this.process === undefined || !this.paused) return;
    this.process.kill('SIGCONT');
    this.paused = false;
  }

  /** Starts an empty server again on the same port (after {@link kill}). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Kills the server; safe to call twice. */
  async stop(): Promise<void> {
    await this.kill();
  }

  private launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = child;
    return new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (data: Buffer): void => {
        output += data.toString();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        if (this.process === child) this.process = undefined;
        reject(new Error(`redis-server on port ${this.port} exited with ${code}: ${output}`));
      });
      const started = Date.now();
      const probe = (): void => {
        const socket = new Socket();
        socket.once('connect', () => {
          socket.write('PING\r\n');
        });
        socket.once('data', (data: Buffer) => {
          socket.destroy();
          if (data.toString().startsWith('+PONG')) resolve();
          else retry();
        });
        socket.once('error', () => {
          socket.destroy();
          retry();
        });
        socket.connect(this.port, '127.0.0.1');
      };
      const retry = (): void => {
        if (Date.now() - started > 10_000) {
          reject(new Error(`redis-server on port ${this.port} did not start: ${output}`));
          return;
        }
        setTimeout(probe, 20);
      };
      probe();
    });
  }
}

