/** The driver's side of the load generator: hand it a job, hear when warm-up is over, get the result. */
import type { DriverMessage, FixedRateJob, FixedRateResult, LoadgenMessage, SaturateJob, SaturateResult } from './jobs.js';
import type { Child } from './processes.js';

type JobSpec<J> = Omit<J, 'id'>;

export class LoadgenClient {
  private nextId = 1;
  private readonly pending = new Map<number, { onWarm: () => void; resolve: (r: never) => void; reject: (e: Error) => void }>();

  constructor(private readonly child: Child) {
    child.proc.on('message', (m: LoadgenMessage) => this.onMessage(m));
    void child.exited.then((how) => {
      for (const p of this.pending.values()) p.reject(new Error(`load generator exited (${how})`));
      this.pending.clear();
    });
  }

  saturate(job: JobSpec<SaturateJob>, onWarm: () => void): Promise<SaturateResult> {
    return this.run({ ...job, id: this.nextId++ } as SaturateJob, onWarm);
  }

  fixedRate(job: JobSpec<FixedRateJob>, onWarm: () => void): Promise<FixedRateResult> {
    return this.run({ ...job, id: this.nextId++ } as FixedRateJob, onWarm);
  }

  private run<R>(job: SaturateJob | FixedRateJob, onWarm: () => void): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.set(job.id, { onWarm, resolve: resolve as (r: never) => void, reject });
      this.send(job);
    });
  }

  private onMessage(m: LoadgenMessage): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'warm') {
      // Counters are read before `go`, so the measured window starts after the read.
      p.onWarm();
      this.send({ kind: 'go', id: m.id });
      return;
    }
    this.pending.delete(m.id);
    if (m.type === 'done') p.resolve(m.result as never);
    else p.reject(new Error(`load generator: ${m.error}`));
  }

  private send(m: DriverMessage): void {
    this.child.proc.send(m);
  }
}
