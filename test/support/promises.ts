/** How a promise settled so far, observed without ever leaving it unhandled. */
export interface Settlement<T> {
  state: 'pending' | 'resolved' | 'rejected';
  value?: T;
  error?: unknown;
}

/** Tracks how `promise` settles; read the returned object after letting time pass. */
export function track<T>(promise: Promise<T>): Settlement<T> {
  const t: Settlement<T> = { state: 'pending' };
  promise.then(
    (value) => Object.assign(t, { state: 'resolved', value }),
    (error: unknown) => Object.assign(t, { state: 'rejected', error }),
  );
  return t;
}

/** The error `promise` rejects with; fails if it resolves. */
export function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}
