/**
 * A readiness switch the health endpoints consult: once {@link drain} is called, `/health/ready` fails
 * (503) so load balancers stop sending traffic while in-flight requests finish. {@link gracefulShutdown} flips it.
 */
export class Readiness {
  private reasonText: string | undefined;

  /** Whether the service has started draining. */
  get draining(): boolean {
    return this.reasonText !== undefined;
  }

  /** Why it is draining, when it is. */
  get reason(): string | undefined {
    return this.reasonText;
  }

  /** Marks the service as draining: readiness fails from now on. */
  drain(reason = 'shutting down'): void {
    this.reasonText ??= reason;
  }
}
