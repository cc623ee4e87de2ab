/** Facts about the machine a result came from, for RESULTS.md. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';

export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  nginx: string;
  loadAverage: [number, number, number];
}

export function machineFacts(nginxVersion: string | undefined): MachineFacts {
  const cpuinfo = safeRead('/proc/cpuinfo');
  const [l1 = 0, l5 = 0, l15 = 0] = loadavg();
  return {
    nproc: nproc(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    node: process.version,
    nginx: nginxVersion ?? 'not installed',
    loadAverage: [l1, l5, l15],
  };
}

function nproc(): number {
  const r = spawnSync('nproc', { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : availableParallelism();
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
