/** What /proc says about a process: CPU time used, peak resident memory, children, process group. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = clockTicks();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Fields of /proc/PID/stat after the `(comm)` one, which may itself hold spaces. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds the process has used so far, all threads (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  // stat fields 14 (utime) and 15 (stime), counted from 1; f[0] is field 3.
  return f ? (Number(f[11]) + Number(f[12])) / CLK_TCK : 0;
}

/** Peak resident set size (VmHWM) in MB. */
export function peakRssMb(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The process and its descendants (e.g. nginx's master and its worker). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        const kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(' ').map(Number));
      } catch {
        // The thread exited between the two reads.
      }
    }
  }
  return out;
}

/** Live processes (zombies excluded) whose process group is `pgid`. */
export function processesInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    // f[0] is the state (field 3), f[2] the process group (field 5).
    if (f && f[0] !== 'Z' && Number(f[2]) === pgid) out.push(Number(name));
  }
  return out;
}

/** The CPUs this process may run on (Cpus_allowed_list), e.g. [0, 1]. */
export function allowedCpus(): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) return [];
  return m[1]!.split(',').flatMap((range) => {
    const [a, b = a] = range.split('-').map(Number);
    return Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
  });
}

/**
 * CPU seconds the whole machine has spent running tasks (all CPUs: user, nice, system, steal). Interrupt and
 * softirq time is left out: loopback networking for the bench's own traffic is accounted there, to no process.
 */
export function machineBusySeconds(): number {
  const line = /^cpu\s+(.+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
  if (!line) return 0;
  const [user = 0, nice = 0, system = 0, , , , , steal = 0] = line.split(/\s+/).map(Number);
  return (user + nice + system + steal) / CLK_TCK;
}
