/** Reconnect delays: exponential with jitter, as gRPC's connection backoff (multiplier 1.6, jitter ±20%). */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 100, maxMs: 10_000 });

const MULTIPLIER = 1.6;
const JITTER = 0.2;

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
      throw new Error(`backoff: need 0 < initialMs <= maxMs, got ${options.initialMs} and ${options.maxMs}`);
    }
  }

  /** The delay before the next attempt; each call grows the base, up to maxMs. */
  next(): number {
    const base = Math.min(this.options.maxMs, this.options.initialMs * MULTIPLIER ** this.attempt);
    this.attempt += 1;
    const jittered = base * (1 + JITTER * (2 * this.random() - 1));
    return Math.round(Math.min(this.options.maxMs, jittered));
  }

  /** After a success: the next failure starts from initialMs again. */
  reset(): void {
    this.attempt = 0;
  }
}
