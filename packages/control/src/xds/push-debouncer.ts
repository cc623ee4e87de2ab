/**
 * Coalesces push triggers like istiod's debounce: a push runs once no trigger has arrived for `quietMs`,
 * but never later than `maxMs` after the first trigger, so a steady trickle of changes can't starve it.
 */
export class PushDebouncer<R> {
  private timer?: NodeJS.Timeout;
  private reasons: string[] = [];
  /** hrtime of the first trigger in the current window: convergence time is measured from it. */
  private since?: bigint;

  constructor(
    private readonly quietMs: number,
    private readonly maxMs: number,
    private readonly run: (reasons: string[], since: bigint) => R,
  ) {}

  get pending(): boolean {
    return this.since !== undefined;
  }

  trigger(reason: string): void {
    this.since ??= process.hrtime.bigint();
    this.reasons.push(reason);
    if (this.timer) clearTimeout(this.timer);
    const waited = Number(process.hrtime.bigint() - this.since) / 1e6;
    const delay = Math.max(0, Math.min(this.quietMs, this.maxMs - waited));
    this.timer = setTimeout(() => this.flushNow(), delay);
    // A pending push must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  /** Runs now with every pending reason (plus `reason`, if given). */
  flushNow(reason?: string): R {
    if (reason !== undefined) this.reasons.push(reason);
    const since = this.since ?? process.hrtime.bigint();
    const reasons = this.reasons;
    this.cancel();
    return this.run(reasons, since);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.reasons = [];
    this.since = undefined;
  }
}
