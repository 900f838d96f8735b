/** What `promise` rejects with, or null when it fulfils: the test then asserts on the error itself. */
export function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (error: unknown) => error,
  );
}
