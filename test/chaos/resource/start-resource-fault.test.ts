import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { startResourceFault } from '../../../src/chaos/resource/start-resource-fault.js';

describe('startResourceFault (JSON resource faults for the admin endpoint)', () => {
  it('starts CPU and memory pressure and stops them', async () => {
    const cpu = await startResourceFault({ kind: 'cpu', percent: 50, durationMs: 5_000 });
    expect(cpu.kind).toBe('cpu-pressure');
    expect(cpu.id).toMatch(/^[0-9a-f-]{36}$/);
    await cpu.stop();
    expect(cpu.stopped).toBe(true);
    const memory = await startResourceFault({ kind: 'memory', percent: 10, durationMs: 5_000 }, { memoryBudgetMb: 80 });
    expect(memory.kind).toBe('memory-pressure');
    await memory.stop();
    await memory.stop();
    expect(memory.stopped).toBe(true);
  });

  it('lists every bad field of a spec', async () => {
    const error = (await startResourceFault({ kind: 'memory', mb: 10, percent: 200, durationMs: -1 }).catch((e: unknown) => e)) as InvalidOptionsError;
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error.issues.map((i) => i.path)).toEqual(['durationMs', 'percent', 'percent']);
    await expect(startResourceFault({ kind: 'disk' })).rejects.toThrow(/kind: expected one of "cpu", "memory", "event-loop"/);
    await expect(startResourceFault({ kind: 'event-loop' })).rejects.toThrow(/blockMs: expected a duration in ms/);
  });
});
