import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The `trellis` command as users run it: the compiled bin in child processes (npm test builds first).

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = join(ROOT, 'bin/trellis.js');
const run = promisify(execFile);

async function trellis(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 20_000 });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

/** Waits for a line matching `re` on the child's stdout. */
function waitFor(child: ChildProcess, re: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} in: ${seen}`)), ms);
    child.stdout!.on('data', (d) => {
      seen += d;
      const m = seen.match(re);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}

describe('trellis (compiled bin)', () => {
  let control: ChildProcess;
  let debugPort: number;

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'packages/cli/dist/main.js')), 'run `npm run build` first').toBe(true);
    control = spawn(process.execPath, [BIN, 'control', '--config', 'examples/canary', '--host', '127.0.0.1', '--xds-port', '0', '--debug-port', '0', '--api-port', '0', '--collector-port', '0'], { cwd: ROOT });
    const m = await waitFor(control, /xDS :(\d+), debug :(\d+)/);
    debugPort = Number(m[2]);
  });

  afterAll(() => {
    if (control.exitCode === null) control.kill('SIGKILL');
  });

  test('control serves the example: no config errors, metrics on the debug port', async () => {
    const status = (await (await fetch(`http://127.0.0.1:${debugPort}/debug/config_status`)).json()) as { errors: number; objects: number };
    expect(status.errors).toBe(0);
    expect(status.objects).toBeGreaterThanOrEqual(6);
    expect(await (await fetch(`http://127.0.0.1:${debugPort}/metrics`)).text()).toMatch(/^pilot_xds 0$/m);
  });

  test('proxy-status talks to it; exit 1 when nothing listens', async () => {
    const ok = await trellis(['proxy-status', '--control', `http://127.0.0.1:${debugPort}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`no proxies connected to http://127.0.0.1:${debugPort}`);
    const down = await trellis(['proxy-status', '--control', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
  });

  test('analyze: 0 on the examples, 1 with an error naming file, object and field', async () => {
    // One mesh per folder (httpbin's two tasks both define Service default/httpbin, as bookinfo defines Namespace default).
    for (const mesh of ['bookinfo', 'canary', 'httpbin/circuit-breaking', 'httpbin/mirroring']) {
      expect({ mesh, code: (await trellis(['analyze', `examples/${mesh}`])).code }).toEqual({ mesh, code: 0 });
    }
    const dir = await mkdtemp(join(tmpdir(), 'trellis-analyze-'));
    try {
      await writeFile(join(dir, 'vs.yaml'), 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [r]\n  http:\n  - timeout: 3 seconds\n    route: [{destination: {host: r}}]\n');
      const bad = await trellis(['analyze', dir]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('vs.yaml');
      expect(bad.stdout).toContain('VirtualService/default/r');
      expect(bad.stdout).toContain('spec.http[0].timeout');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('unknown command: usage and exit 2', async () => {
    const res = await trellis(['frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stdout).toContain('usage: trellis');
  });

  test('SIGINT stops the control plane cleanly', async () => {
    const exited = new Promise<number | null>((r) => control.once('exit', (code) => r(code)));
    control.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
