import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import type { StageSink, ToxicContext } from '../../../src/chaos/proxy/toxic-stage.js';
import { BandwidthStage } from '../../../src/chaos/proxy/toxics/bandwidth.js';
import { LatencyStage } from '../../../src/chaos/proxy/toxics/latency.js';
import { LimitDataStage } from '../../../src/chaos/proxy/toxics/limit-data.js';
import { PacketLossStage } from '../../../src/chaos/proxy/toxics/packet-loss.js';
import { ResetPeerStage } from '../../../src/chaos/proxy/toxics/reset-peer.js';
import { SlicerStage } from '../../../src/chaos/proxy/toxics/slicer.js';
import { SlowCloseStage } from '../../../src/chaos/proxy/toxics/slow-close.js';
import { TimeoutStage } from '../../../src/chaos/proxy/toxics/timeout.js';
import { scriptedRandom } from './proxy-test-kit.js';

// Each stage on a VirtualClock with a recording sink: exact release times, no real time.

interface Harness {
  clock: VirtualClock;
  context: ToxicContext & { resets: number; closes: number; discarded: number; replies: Buffer[] };
  /** What reached the sink: `[time, bytes]` per write, `[time, 'end']` for the end. */
  out: [number, string][];
  attach<S extends { next: StageSink }>(stage: S): S;
}

function harness(random: () => number = () => 0.5): Harness {
  const clock = new VirtualClock(1_000);
  const out: [number, string][] = [];
  const context = {
    clock,
    random,
    stream: 'downstream' as const,
    sourceBytes: 0,
    resets: 0,
    closes: 0,
    discarded: 0,
    replies: [] as Buffer[],
    closeAfterEnd() {
      context.closes++;
    },
    reset() {
      context.resets++;
    },
    reply(data: Buffer) {
      context.replies.push(data);
    },
    discard(bytes: number) {
      context.discarded += bytes;
    },
  };
  return {
    clock,
    context,
    out,
    attach(stage) {
      stage.next = {
        write: (chunk) => void out.push([clock.now() - 1_000, chunk.toString('latin1')]),
        end: () => void out.push([clock.now() - 1_000, 'end']),
      };
      return stage;
    },
  };
}

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('LatencyStage', () => {
  it('releases each chunk latency ms after it arrived, in order, the end after the data', () => {
    const h = harness();
    const stage = h.attach(new LatencyStage({ latency: 100, jitter: 0 }, h.context));
    stage.write(bytes('a'));
    h.clock.advance(30);
    stage.write(bytes('b'));
    stage.end();
    h.clock.advance(99 - 30);
    expect(h.out).toEqual([]);
    h.clock.advance(1);
    expect(h.out).toEqual([[100, 'a']]);
    h.clock.advance(30);
    expect(h.out).toEqual([
      [100, 'a'],
      [130, 'b'],
      [130, 'end'],
    ]);
  });

  it('never lets a chunk with a shorter jittered delay overtake', () => {
    // delays: 100 + (2r - 1) * 50 -> r = 1: 150, r = 0: 50
    const h = harness(scriptedRandom([1, 0]));
    const stage = h.attach(new LatencyStage({ latency: 100, jitter: 50 }, h.context));
    stage.write(bytes('a'));
    stage.write(bytes('b'));
    h.clock.advance(150);
    expect(h.out).toEqual([
      [150, 'a'],
      [150, 'b'],
    ]);
  });

  it('flush hands everything on at once', () => {
    const h = harness();
    const stage = h.attach(new LatencyStage({ latency: 1_000, jitter: 0 }, h.context));
    stage.write(bytes('a'));
    stage.write(bytes('b'));
    h.clock.advance(10);
    stage.flush();
    expect(h.out).toEqual([
      [10, 'a'],
      [10, 'b'],
    ]);
    expect(h.clock.pendingTimers).toBe(0);
  });
});

describe('BandwidthStage', () => {
  it('paces bytes at rate KB/s in slices of at most 100 ms', () => {
    const h = harness();
    const stage = h.attach(new BandwidthStage({ rate: 10 }, h.context)); // 10 bytes per ms
    stage.write(Buffer.alloc(2_500, 120));
    stage.end();
    h.clock.advance(1_000);
    expect(h.out.map(([at, data]) => [at, data === 'end' ? 'end' : data.length])).toEqual([
      [100, 1_000],
      [200, 1_000],
      [250, 500],
      [250, 'end'],
    ]);
  });

  it('does not bank idle time: a chunk after a pause still takes size / rate', () => {
    const h = harness();
    const stage = h.attach(new BandwidthStage({ rate: 1 }, h.context));
    h.clock.advance(500);
    stage.write(Buffer.alloc(50));
    h.clock.advance(49);
    expect(h.out).toEqual([]);
    h.clock.advance(1);
    expect(h.out.map(([at]) => at)).toEqual([550]);
  });
});

describe('SlicerStage', () => {
  it('cuts chunks into slices of average_size +/- size_variation, delay microseconds apart', () => {
    const h = harness(scriptedRandom([0, 0.999, 0.5], 0.5));
    const stage = h.attach(new SlicerStage({ average_size: 10, size_variation: 3, delay: 2_000 }, h.context));
    stage.write(Buffer.from('x'.repeat(40)));
    expect(h.out).toEqual([[0, 'x'.repeat(7)]]); // 10 - 3
    h.clock.advance(2);
    expect(h.out.map(([at, d]) => [at, d.length])).toEqual([
      [0, 7],
      [2, 13], // 10 + 3
    ]);
    h.clock.advance(10);
    expect(h.out.map(([at, d]) => [at, d.length])).toEqual([
      [0, 7],
      [2, 13],
      [4, 10],
      [6, 10],
    ]);
  });
});

describe('SlowCloseStage', () => {
  it('passes data and holds the end back for delay ms; flush lets it go', () => {
    const h = harness();
    const stage = h.attach(new SlowCloseStage({ delay: 300 }, h.context));
    stage.write(bytes('bye'));
    stage.end();
    h.clock.advance(299);
    expect(h.out).toEqual([[0, 'bye']]);
    h.clock.advance(1);
    expect(h.out).toEqual([
      [0, 'bye'],
      [300, 'end'],
    ]);
    const other = harness();
    const held = other.attach(new SlowCloseStage({ delay: 300 }, other.context));
    held.end();
    held.flush();
    expect(other.out).toEqual([[0, 'end']]);
  });
});

describe('TimeoutStage', () => {
  it('holds everything and closes after timeout ms, dropping what it held', () => {
    const h = harness();
    const stage = h.attach(new TimeoutStage({ timeout: 200 }, h.context));
    stage.write(bytes('held'));
    h.clock.advance(199);
    expect(h.out).toEqual([]);
    h.clock.advance(1);
    expect(h.out).toEqual([[200, 'end']]);
    expect(h.context.closes).toBe(1);
    expect(h.context.discarded).toBe(4);
  });

  it('with timeout 0 holds forever; flush releases data and end in order; an update restarts the countdown', () => {
    const h = harness();
    const stage = h.attach(new TimeoutStage({ timeout: 0 }, h.context));
    stage.write(bytes('a'));
    stage.end();
    h.clock.advance(60_000);
    expect(h.out).toEqual([]);
    stage.reconfigure({ timeout: 100 });
    h.clock.advance(99);
    expect(h.context.closes).toBe(0);
    stage.flush();
    expect(h.out).toEqual([
      [60_099, 'a'],
      [60_099, 'end'],
    ]);
    h.clock.advance(10);
    expect(h.context.closes).toBe(0);
  });
});

describe('ResetPeerStage', () => {
  it('resets timeout ms after the first chunk', () => {
    const h = harness();
    const stage = h.attach(new ResetPeerStage({ timeout: 150 }, h.context));
    h.clock.advance(1_000);
    expect(h.context.resets).toBe(0);
    stage.write(bytes('x'));
    h.clock.advance(149);
    expect(h.context.resets).toBe(0);
    h.clock.advance(1);
    expect(h.context.resets).toBe(1);
    expect(h.out).toEqual([]);
  });
});

describe('LimitDataStage', () => {
  it('lets exactly `bytes` through, then ends the stream and closes the connection', () => {
    const h = harness();
    const stage = h.attach(new LimitDataStage({ bytes: 5 }, h.context));
    stage.write(bytes('abc'));
    stage.write(bytes('defgh'));
    stage.write(bytes('ijk'));
    expect(h.out).toEqual([
      [0, 'abc'],
      [0, 'de'],
      [0, 'end'],
    ]);
    expect(h.context.closes).toBe(1);
    expect(h.context.discarded).toBe(3 + 3);
  });
});

describe('PacketLossStage', () => {
  it('stalls the stream at a lost segment for retransmit_ms, doubling per repeated loss', () => {
    // segments of 4 bytes; draws: seg1 ok, seg2 lost, lost again, then ok, seg3 ok
    const h = harness(scriptedRandom([0.9, 0.1, 0.1, 0.9, 0.9]));
    const stage = h.attach(new PacketLossStage({ probability: 0.5, retransmit_ms: 100, segment_size: 4, max_retransmits: 15 }, h.context));
    stage.write(bytes('aaaabbbbcc'));
    expect(h.out).toEqual([[0, 'aaaa']]);
    h.clock.advance(100);
    expect(h.out).toEqual([[0, 'aaaa']]);
    h.clock.advance(200);
    expect(h.out).toEqual([
      [0, 'aaaa'],
      [300, 'bbbbcc'],
    ]);
  });

  it('resets the connection after max_retransmits losses in a row', () => {
    const h = harness();
    const stage = h.attach(new PacketLossStage({ probability: 1, retransmit_ms: 10, segment_size: 1460, max_retransmits: 3 }, h.context));
    stage.write(bytes('lost'));
    h.clock.advance(10 + 20 + 40 - 1);
    expect(h.context.resets).toBe(0);
    h.clock.advance(1);
    expect(h.context.resets).toBe(1);
    expect(h.out).toEqual([]);
  });
});
