import { describe, expect, test } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { up } from '../src/commands/up.js';
import { get } from '../src/commands/get.js';
import { APP, deploymentYaml, eventually } from '../../control/test/local/helpers.js';

class Sink extends Writable {
  text = '';
  isTTY?: boolean;
  columns?: number;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

// No ingress gateway here: these tests count the folder's own pods (gateway-up.test.ts covers the gateway).
const EPHEMERAL = ['--xds-port', '0', '--debug-port', '0', '--api-port', '0', '--collector-port', '0', '--no-gateway'];

async function meshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-up-'));
  await writeFile(join(dir, 'app.mjs'), APP);
  await writeFile(join(dir, 'web.yaml'), deploymentYaml({ name: 'web', namespace: 'default' }));
  return dir;
}

describe('trellis up', () => {
  test('runs the folder, reports pods and their output as plain lines, serves the API, and stops cleanly', async () => {
    const dir = await meshDir();
    const out = new Sink();
    const stop = new AbortController();
    try {
      const running = up([dir, ...EPHEMERAL], out, { signal: stop.signal, firstPodIp: '127.0.106.2' });
      const [, api] = await eventually('the API address', () => /API (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text));
      const [, pod] = await eventually('a ready pod line', () => /pod default\/(web-\w+-\w+) 127\.0\.106\.2 ready 1\/1 Running restarts 0\n/.exec(out.text));
      await eventually('the app output, prefixed', () => out.text.includes(`[${pod}/app] listening on 127.0.106.2:8080\n`));
      // Progress while the pods start, then all of them ready.
      expect(out.text).toMatch(/^0\/1 pods ready\n[^]*^1\/1 pods ready\n/m);
      expect(out.text).toMatch(/^\[control\] control plane: config /);
      expect(out.text).toContain(`loaded 1 objects from ${dir} (0 errors, 0 warnings)\n`);

      const listed = new Sink();
      expect(await get(['pods', '--api', api!], listed, new Sink())).toBe(0);
      expect(listed.text).toMatch(new RegExp(`^${pod}\\s+1/1\\s+Running\\s+0\\s+\\d+s$`, 'm'));
      const one = (await (await fetch(`${api}/api/v1/namespaces/default/pods/${pod}`)).json()) as { metadata: { uid: string } };
      expect(one.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);

      stop.abort();
      expect(await running).toBe(0);
      expect(out.text).toContain('stopping: terminating pods...\n');
      expect(out.text).toContain(`pod default/${pod} deleted\n`);
      expect(out.text.endsWith('stopped\n')).toBe(true);
      // Nothing is left listening on the pod's address.
      await expect(fetch('http://127.0.106.2:8080/')).rejects.toThrow();
    } finally {
      stop.abort();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('on a terminal, redraws a pod table in place and restores the cursor', async () => {
    const dir = await meshDir();
    const out = Object.assign(new Sink(), { isTTY: true, columns: 100 });
    const stop = new AbortController();
    try {
      const running = up([dir, ...EPHEMERAL, '--quiet'], out, { signal: stop.signal, firstPodIp: '127.0.106.30' });
      // No sidecar here (the namespace isn't labelled for injection): SIDECAR is `-`.
      await eventually('a table with the ready pod', () => /web-\w+-\w+\s+1\/1\s+Running\s+0\s+127\.0\.106\.30\s+-\n/.test(out.text));
      expect(out.text.startsWith('\x1b[?25l')).toBe(true);
      expect(out.text).toMatch(/NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+IP\s+SIDECAR\n/);
      expect(out.text).toContain('── 1/1 pods ready ── Ctrl-C stops the mesh ──');
      // Each redraw moves up over the previous table and clears below it.
      expect(out.text).toMatch(/\x1b\[\d+A\r\x1b\[J/);
      // --quiet: no app output.
      expect(out.text).not.toContain('listening on');
      stop.abort();
      expect(await running).toBe(0);
      expect(out.text).toMatch(/\x1b\[\?25h\n?stopped\n$/);
    } finally {
      stop.abort();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('usage errors', async () => {
    const out = new Sink();
    expect(await up([], out)).toBe(2);
    expect(out.text).toMatch(/^usage: trellis up DIR/);
    expect(await up(['/nonexistent/trellis'], out)).toBe(1);
    expect(out.text).toContain('/nonexistent/trellis is not a folder');
    expect(await up(['.', '--api-port', 'x'], out)).toBe(2);
  });
});
