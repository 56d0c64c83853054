import { afterEach, describe, expect, it } from 'vitest';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { EventEmitter, setListenerErrorHandler } from '../../src/core/events.js';

interface Events {
  ping: { n: number };
  pong: string;
}

describe('EventEmitter', () => {
  afterEach(() => setListenerErrorHandler((error, event) => process.emitWarning(`${event}: ${String(error)}`)));

  it('delivers in subscription order and unsubscribes idempotently', () => {
    const e = new EventEmitter<Events>('test', 'one');
    const got: string[] = [];
    const off1 = e.on('ping', ({ n }) => got.push(`a${n}`));
    e.on('ping', ({ n }) => got.push(`b${n}`));
    e.emit('ping', { n: 1 });
    off1();
    off1();
    e.emit('ping', { n: 2 });
    expect(got).toEqual(['a1', 'b1', 'b2']);
    expect(e.listenerCount('ping')).toBe(1);
  });

  it('a listener unsubscribing during emit does not skip the others', () => {
    const e = new EventEmitter<Events>('test', 'one');
    const got: string[] = [];
    const off = e.on('pong', () => {
      got.push('first');
      off();
    });
    e.on('pong', () => got.push('second'));
    e.emit('pong', 'x');
    e.emit('pong', 'y');
    expect(got).toEqual(['first', 'second', 'second']);
  });

  it('regression: unsubscribing removes only the subscription it was returned for', () => {
    const e = new EventEmitter<Events>('test', 'one');
    const seen: string[] = [];
    const listener = (p: string): void => void seen.push(p);
    const offFirst = e.on('pong', listener);
    e.on('pong', listener);
    offFirst();
    e.emit('pong', 'x');
    expect(seen).toEqual(['x']);
  });

  it('once fires a single time', () => {
    const e = new EventEmitter<Events>('test', 'one');
    let n = 0;
    e.once('pong', () => n++);
    e.emit('pong', 'a');
    e.emit('pong', 'b');
    expect(n).toBe(1);
  });

  it('reports a throwing listener and still runs the rest', () => {
    const errors: unknown[] = [];
    setListenerErrorHandler((error) => errors.push(error));
    const e = new EventEmitter<Events>('test', 'one');
    let reached = false;
    e.on('pong', () => {
      throw new Error('bad listener');
    });
    e.on('pong', () => (reached = true));
    expect(() => e.emit('pong', 'x')).not.toThrow();
    expect(reached).toBe(true);
    expect(errors).toHaveLength(1);
  });

  it('publishes to diagnostics_channel only when subscribed, and wants() says so', () => {
    const e = new EventEmitter<Events>('test-dc', 'svc');
    expect(e.wants('ping')).toBe(false);
    const messages: unknown[] = [];
    const onMessage = (m: unknown): void => void messages.push(m);
    subscribe('antifragile:test-dc:ping', onMessage);
    expect(e.wants('ping')).toBe(true);
    e.emit('ping', { n: 7 });
    unsubscribe('antifragile:test-dc:ping', onMessage);
    e.emit('ping', { n: 8 });
    expect(messages).toEqual([{ name: 'svc', event: 'ping', payload: { n: 7 } }]);
  });
});
