/**
 * Every process the bench starts, so that all of them end with it, error or not. Each child leads its own
 * process group (so nginx's worker goes with its master) and may be pinned to one CPU with taskset.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processesInGroup } from './procfs.js';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  /** Pin to this CPU (when taskset works here). */
  cpu?: number;
  env?: NodeJS.ProcessEnv;
  /** Open a Node IPC channel (for our own Node children). */
  ipc?: boolean;
}

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<string>;
  /** Set once the process has ended: how (exit code or signal). */
  exitStatus?: string;
}

/** Whether `taskset` exists and may pin to these CPUs (a container's cpuset may forbid it). */
export function tasksetWorks(cpus: number[]): boolean {
  return cpus.every((cpu) => spawnSync('taskset', ['-c', String(cpu), 'true']).status === 0);
}

export class ProcessSet {
  private readonly children: Child[] = [];
  private stopping = false;

  constructor(
    private readonly logDir: string,
    private readonly pin: boolean,
  ) {}

  start(spec: ChildSpec): Child {
    const pinned = this.pin && spec.cpu !== undefined;
    const command = pinned ? 'taskset' : spec.command;
    const args = pinned ? ['-c', String(spec.cpu), spec.command, ...spec.args] : spec.args;
    const logFile = join(this.logDir, `${spec.name}.log`);
    const fd = openSync(logFile, 'a');
    // taskset execs the command, so the pid we get is the pinned process itself.
    const proc = spawn(command, args, {
      env: spec.env ?? process.env,
      stdio: spec.ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    if (proc.pid === undefined) throw new Error(`could not start ${spec.name} (${command})`);
    const exited = new Promise<string>((resolve) => {
      proc.once('exit', (code, signal) => resolve(signal ?? String(code)));
      proc.once('error', (err) => resolve(err.message));
    });
    const child: Child = { name: spec.name, pid: proc.pid, proc, logFile, exited };
    void exited.then((how) => (child.exitStatus = how));
    this.children.push(child);
    return child;
  }

  /** Children that ended on their own while the bench still needed them (before stopAll). */
  casualties(): Child[] {
    return this.stopping ? [] : this.children.filter((c) => c.exitStatus !== undefined);
  }

  /** Moves a running child, all its threads, to another CPU; false when pinning is off or taskset failed. */
  repin(child: Child, cpu: number): boolean {
    if (!this.pin) return false;
    return spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(child.pid)], { stdio: 'ignore' }).status === 0;
  }

  /** The last lines a child wrote, for error messages. */
  logTail(child: Child, lines = 15): string {
    try {
      return readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** SIGTERM each group, SIGKILL what's left after a grace period; returns pids that survived even that. */
  async stopAll(graceMs = 3000): Promise<number[]> {
    this.stopping = true;
    for (const c of this.children) signalGroup(c.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && this.alive().length > 0) await new Promise((r) => setTimeout(r, 50));
    for (const c of this.children) if (processesInGroup(c.pid).length > 0) signalGroup(c.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    return this.alive();
  }

  /** Last resort on exit: synchronous, no waiting. */
  killAllNow(): void {
    for (const c of this.children) signalGroup(c.pid, 'SIGKILL');
  }

  /** Pids still alive in any of our children's process groups. */
  alive(): number[] {
    return this.children.flatMap((c) => processesInGroup(c.pid));
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}
