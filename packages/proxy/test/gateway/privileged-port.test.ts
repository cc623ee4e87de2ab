import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

// A gateway that may not bind a port below 1024 (no root, no CAP_NET_BIND_SERVICE: EACCES) serves it at
// PORT + 8000 instead and reports where. Needs a real unprivileged process: when the tests run as root (CI), the
// child drops to `nobody`; as an ordinary user it already is one.
const CHILD = fileURLToPath(new URL('./fixtures/privileged-port-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

function runChild(podIp: string, port: number): Promise<{ uid: number; listeners: any; logs: string[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CHILD, podIp, String(port)],
      { cwd: ROOT, timeout: 15_000, ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}), env: { PATH: process.env.PATH ?? '', TMPDIR: '/tmp' } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))),
    );
  });
}

describe.skipIf(process.platform !== 'linux')('privileged gateway ports', () => {
  test('port 81 cannot be bound unprivileged: the listener serves on 8081, /listeners says so, the log explains once across pushes', async () => {
    const r = await runChild('127.0.190.20', 81);
    expect(r.uid).not.toBe(0);
    expect(r.listeners.listener_statuses).toEqual([
      { name: '0.0.0.0_81', local_address: { socket_address: { address: '127.0.190.20', port_value: 8081 } }, trellis_tls: false },
    ]);
    const moved = r.logs.filter((l) => /listener 0\.0\.0\.0_81: port 81 needs privileges \(.*EACCES.*\); listening on 127\.0\.190\.20:8081 instead/.test(l));
    // Once, though the config was applied twice.
    expect(moved).toHaveLength(1);
  }, 20_000);
});
