import { describe, expect, test } from 'vitest';
import { createServer } from 'node:net';
import { LoopbackIpAllocator } from '../../src/local/ip-allocator.js';
import { commandLine, containerEnv, expandVars, fieldValue, type PodFacts } from '../../src/local/container-env.js';
import { LogBuffer } from '../../src/local/log-buffer.js';
import { podName, templateHash } from '../../src/local/pod-names.js';

describe('LoopbackIpAllocator', () => {
  test('hands out 127.0.x.y from 127.0.1.2, skipping .0, .1 and .255', () => {
    const a = new LoopbackIpAllocator();
    const ips = Array.from({ length: 256 }, () => a.allocate());
    expect(ips.slice(0, 3)).toEqual(['127.0.1.2', '127.0.1.3', '127.0.1.4']);
    expect(ips[252]).toBe('127.0.1.254');
    expect(ips[253]).toBe('127.0.2.2');
    expect(new Set(ips).size).toBe(256);
    expect(ips.every((ip) => !/\.(0|1|255)$/.test(ip))).toBe(true);
  });

  test('does not reuse a released address until the range wraps', () => {
    const a = new LoopbackIpAllocator('127.0.9.2');
    const first = a.allocate();
    a.release(first);
    expect(a.allocate()).toBe('127.0.9.3');
    expect(a.size).toBe(1);
    expect(() => new LoopbackIpAllocator('127.0.0.1')).toThrow(/not a pod address/);
  });

  test('the last slot is 127.0.255.254, then it wraps to free ones', () => {
    const a = new LoopbackIpAllocator('127.0.255.254');
    expect(a.allocate()).toBe('127.0.255.254');
    expect(a.allocate()).toBe('127.0.1.2');
  });

  test('Linux routes all of 127/8 to lo: a pod address can be bound without setup', async () => {
    const ip = new LoopbackIpAllocator('127.0.200.77').allocate();
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, ip, resolve));
    expect((srv.address() as { address: string }).address).toBe('127.0.200.77');
    await new Promise((r) => srv.close(r));
  });
});

describe('container environment', () => {
  const pod: PodFacts = {
    name: 'web-abcde-fghjk',
    namespace: 'shop',
    uid: 'u-1',
    podIP: '127.0.1.9',
    labels: { app: 'web' },
    annotations: { owner: 'team-a' },
    serviceAccountName: 'default',
  };

  test('$(VAR) expansion follows Kubernetes: $$ escapes, unknown names stay', () => {
    expect(expandVars('$(A)-$(B)-$$(A)-$(MISSING)-$-$(', { A: '1', B: '2' })).toBe('1-2-$(A)-$(MISSING)-$-$(');
  });

  test('downward API fields', () => {
    expect(fieldValue("metadata.labels['app']", pod)).toBe('web');
    expect(fieldValue("metadata.annotations['owner']", pod)).toBe('team-a');
    expect(fieldValue("metadata.labels['none']", pod)).toBe('');
    expect(fieldValue('status.podIP', pod)).toBe('127.0.1.9');
    expect(fieldValue('spec.nodeName', pod)).toBe('local');
    expect(() => fieldValue('status.phase', pod)).toThrow(/not supported/);
  });

  test("pod identity first, then the container's env in order; only a few host variables", () => {
    const env = containerEnv(
      {
        name: 'app',
        ports: [{ containerPort: 9080 }, { containerPort: 9090 }],
        env: [
          { name: 'URL', value: 'http://$(POD_IP):$(PORT)/$(LATER)' },
          { name: 'LATER', value: 'x' },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        ],
      },
      pod,
      { PATH: '/bin', HOME: '/root', SECRET_TOKEN: 'nope', HTTP_PROXY: 'http://corp:3128' },
    );
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/root',
      HOSTNAME: 'web-abcde-fghjk',
      POD_NAME: 'web-abcde-fghjk',
      POD_NAMESPACE: 'shop',
      POD_IP: '127.0.1.9',
      PORT: '9080',
      URL: 'http://127.0.1.9:9080/$(LATER)',
      LATER: 'x',
      NS: 'shop',
    });
  });

  test('command then args, expanded; neither is an error', () => {
    expect(commandLine({ name: 'a', command: ['node'], args: ['app.mjs', '--port=$(PORT)'] }, { PORT: '80' })).toEqual(['node', 'app.mjs', '--port=80']);
    expect(commandLine({ name: 'a', args: ['./run.sh'] }, {})).toEqual(['./run.sh']);
    expect(() => commandLine({ name: 'a', image: 'nginx' }, {})).toThrow(/container a has no command/);
  });
});

describe('LogBuffer', () => {
  test('splits chunks into lines per stream and keeps the last `capacity`', () => {
    const b = new LogBuffer(3);
    expect(b.write('stdout', 'one\ntw').map((e) => e.line)).toEqual(['one']);
    b.write('stderr', 'err\r\n');
    b.write('stdout', 'o\nthree\nfour\n');
    expect(b.lines().map((e) => `${e.stream}:${e.line}`)).toEqual(['stdout:two', 'stdout:three', 'stdout:four']);
    expect(b.lines(1).map((e) => e.line)).toEqual(['four']);
    b.write('stdout', 'no newline');
    expect(b.flush().map((e) => e.line)).toEqual(['no newline']);
  });
});

describe('pod names', () => {
  test('template hash changes with the template only; names are stable per index', () => {
    const t = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', command: ['x'] }] } };
    const reordered = { spec: { containers: [{ command: ['x'], name: 'c' }] }, metadata: { labels: { app: 'a' } } };
    expect(templateHash(t)).toBe(templateHash(reordered));
    expect(templateHash(t)).not.toBe(templateHash({ ...t, spec: { containers: [{ name: 'c', command: ['y'] }] } }));
    expect(podName('web', 'h2345', 'k', 0)).toBe(podName('web', 'h2345', 'k', 0));
    expect(podName('web', 'h2345', 'k', 0)).not.toBe(podName('web', 'h2345', 'k', 1));
    expect(podName('web', 'h2345', 'k', 0)).not.toBe(podName('web', 'h2345', 'k', 0, 1));
  });
});
