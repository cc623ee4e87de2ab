import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { LogBuffer, type LogEntry } from './log-buffer.js';
import { signalGroup, waitForGroupExit } from './process-group.js';
import type { ContainerState, LocalContainerStatus, TerminatedState } from './types.js';

/** Crash-restart delays: doubling from `initialMs`, capped at `maxMs` (the kubelet: 10 s to 5 min). */
export interface RestartBackoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Readonly<RestartBackoff> = Object.freeze({ initialMs: 1000, maxMs: 10_000 });

/** What to run for one container, resolved from its spec. */
export interface ContainerRunSpec {
  name: string;
  sidecar: boolean;
  /** The command line, or why there is none (the container then waits with CreateContainerConfigError). */
  argv: string[] | { error: string };
  cwd: string;
  env: Record<string, string>;
}

/** One run of the process: its pid (also its process group) and when it ended. */
interface Run {
  child: ChildProcess;
  startedAt: Date;
  ended: boolean;
  exited: Promise<void>;
  markExited: () => void;
}

/**
 * A container as a local process, restarted whenever it exits (a Deployment's restartPolicy is Always). Each run
 * leads its own process group, so a stop or a crash takes the app's children with it, as a container's end does.
 */
export class ContainerProcess extends EventEmitter<{ change: []; output: [LogEntry] }> {
  readonly logs: LogBuffer;
  private run: Run | undefined;
  private state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  private lastState: TerminatedState | undefined;
  private restartCount = 0;
  /** Crashes since the last run that lasted, for the backoff. */
  private crashes = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    readonly spec: ContainerRunSpec,
    private readonly backoff: RestartBackoff = DEFAULT_BACKOFF,
    logLines = 1000,
  ) {
    super();
    this.logs = new LogBuffer(logLines);
  }

  get running(): boolean {
    return 'running' in this.state;
  }

  get pid(): number | undefined {
    return this.run && !this.run.ended ? this.run.child.pid : undefined;
  }

  start(): void {
    if ('error' in this.spec.argv) {
      this.setState({ waiting: { reason: 'CreateContainerConfigError', message: this.spec.argv.error } });
      return;
    }
    this.launch(this.spec.argv);
  }

  /** Before start(): shows why the container hasn't started yet. */
  hold(reason: string, message: string): void {
    if (!this.run) this.setState({ waiting: { reason, message } });
  }

  status(ready: boolean): LocalContainerStatus {
    const s: LocalContainerStatus = {
      name: this.spec.name,
      sidecar: this.spec.sidecar,
      ready: ready && this.running,
      restartCount: this.restartCount,
      state: this.state,
      command: 'error' in this.spec.argv ? [] : this.spec.argv,
    };
    if (this.lastState) s.lastState = { terminated: this.lastState };
    if (this.pid !== undefined) s.pid = this.pid;
    return s;
  }

  /**
   * SIGTERM to the process group; SIGKILL to what is left of it once the main process has exited or `graceMs`
   * has passed. Resolves when the main process has exited. No restart follows.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const run = this.run;
    if (!run || run.ended || run.child.pid === undefined) return;
    const pgid = run.child.pid;
    signalGroup(pgid, 'SIGTERM');
    const grace = cancellableSleep(graceMs);
    await Promise.race([run.exited, grace.done]);
    grace.cancel();
    // As when a container's main process ends, whatever else is left of it is killed outright.
    signalGroup(pgid, 'SIGKILL');
    await run.exited;
    // SIGKILL is delivered asynchronously: stop() promises that nothing of the container runs any more.
    await waitForGroupExit(pgid, 2000);
  }

  /** Synchronous last resort (the host process is exiting): SIGKILL the group now. */
  killNow(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const pid = this.pid;
    if (pid !== undefined) signalGroup(pid, 'SIGKILL');
  }

  private launch(argv: string[]): void {
    const [file, ...args] = argv as [string, ...string[]];
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    let child: ChildProcess;
    try {
      // detached: the child leads a new process group (setsid), which stop() signals as a whole.
      child = spawn(file, args, { cwd: this.spec.cwd, env: this.spec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.run = undefined;
      this.ended(undefined, startError(err, new Date()));
      return;
    }
    const run: Run = { child, startedAt: new Date(), ended: false, exited, markExited };
    this.run = run;
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]!.setEncoding('utf8');
      child[stream]!.on('data', (chunk: string) => this.output(this.logs.write(stream, chunk)));
    }
    child.once('error', (err) => {
      // Only a failed spawn ends the run here; other errors (e.g. a failed kill) come with an 'exit' anyway.
      if (child.pid === undefined) this.ended(run, startError(err, run.startedAt));
    });
    child.once('exit', (code, signal) => {
      const term: TerminatedState = {
        exitCode: code ?? 128 + signalNumber(signal),
        reason: code === 0 ? 'Completed' : 'Error',
        startedAt: run.startedAt,
        finishedAt: new Date(),
      };
      if (signal) term.signal = signal;
      this.ended(run, term);
    });
    if (child.pid !== undefined) this.setState({ running: { startedAt: run.startedAt } });
  }

  private ended(run: Run | undefined, term: TerminatedState): void {
    if (run) {
      if (run.ended) return;
      run.ended = true;
      // The container is gone when its main process is: leftover children go with it.
      if (run.child.pid !== undefined && !this.stopping) signalGroup(run.child.pid, 'SIGKILL');
      run.markExited();
    }
    this.output(this.logs.flush());
    this.lastState = term;
    if (this.stopping) {
      this.setState({ terminated: term });
      return;
    }
    const ranMs = term.finishedAt.getTime() - (term.startedAt ?? term.finishedAt).getTime();
    if (ranMs >= this.backoff.maxMs) this.crashes = 0;
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.crashes);
    this.crashes++;
    // Like the kubelet: the first exit shows as terminated, repeated ones as CrashLoopBackOff.
    this.setState(
      this.restartCount > 0
        ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${formatSeconds(delay)} restarting failed container=${this.spec.name}` } }
        : { terminated: term },
    );
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.restartCount++;
      this.launch(this.spec.argv as string[]);
    }, delay);
  }

  private output(entries: LogEntry[]): void {
    for (const e of entries) this.emit('output', e);
  }

  private setState(state: ContainerState): void {
    this.state = state;
    this.emit('change');
  }
}

function startError(err: unknown, startedAt: Date): TerminatedState {
  return { exitCode: 128, reason: 'StartError', message: (err as Error).message, startedAt, finishedAt: new Date() };
}

function cancellableSleep(ms: number): { done: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  return { done, cancel: () => clearTimeout(timer) };
}

/** Exit codes of killed containers are 128 + the signal number (SIGKILL -> 137, SIGTERM -> 143). */
function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
