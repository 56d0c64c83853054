import { afterAll, beforeAll, expect } from 'vitest';

/**
 * Makes the calling test file fail if any promise rejection went unhandled while its tests ran: every
 * policy must leave a handler on each promise it abandons.
 */
export function failOnUnhandledRejections(): void {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  beforeAll(() => void process.on('unhandledRejection', onUnhandled));
  afterAll(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });
}
