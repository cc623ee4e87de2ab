import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { apply } from '../../src/commands/apply.js';
import { del } from '../../src/commands/delete.js';
import { Sink } from '../istio-tasks/helpers.js';

const ISTIO = (file: string) => fileURLToPath(new URL(`../../../../../shared/conformance/istio-bookinfo/${file}`, import.meta.url));

async function run(command: typeof apply, args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const out = new Sink();
  const err = new Sink();
  const code = await command(args, out, { err, stdin: Readable.from([stdin]) });
  return { code, out: out.text, err: err.text };
}

const vs = (name: string, subset: string, extra = '') => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}${extra}
spec:
  hosts: [${name}]
  http:
  - route:
    - destination: {host: ${name}, subset: ${subset}}
`;

const USER_FILE = `# my routing, hand-written
apiVersion: v1
kind: Service
metadata:
  name: reviews   # the service
spec:
  ports: [{port: 9080, name: http}]
  selector: {app: reviews}
---
# reviews goes to v2 for now
${vs('reviews', 'v2')}---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: reviews}
spec: {host: reviews}
`;

describe('trellis apply / delete on a folder', () => {
  let dir: string;
  const files = async () => (await readdir(dir)).sort();
  const read = (f: string) => readFile(join(dir, f), 'utf8');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-apply-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test("new objects get a file each; kubectl's created / configured / unchanged", async () => {
    const first = await run(apply, ['-f', ISTIO('virtual-service-all-v1.yaml'), '--dir', dir]);
    expect(first).toEqual({
      code: 0,
      out: ['productpage', 'reviews', 'ratings', 'details'].map((n) => `virtualservice.networking.istio.io/${n} created\n`).join(''),
      err: '',
    });
    expect(await files()).toEqual(['details', 'productpage', 'ratings', 'reviews'].map((n) => `virtualservice-default-${n}.yaml`));
    expect(await read('virtualservice-default-reviews.yaml')).toBe(
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts:\n    - reviews\n  http:\n    - route:\n        - destination:\n            host: reviews\n            subset: v1\n',
    );
    const again = await run(apply, ['-f', ISTIO('virtual-service-all-v1.yaml'), '--dir', dir]);
    expect(again.out).toMatch(/^(virtualservice\.networking\.istio\.io\/\w+ unchanged\n){4}$/);
    const v3 = await run(apply, ['-f', ISTIO('virtual-service-reviews-v3.yaml'), '--dir', dir]);
    expect(v3.out).toBe('virtualservice.networking.istio.io/reviews configured\n');
    expect(await read('virtualservice-default-reviews.yaml')).toContain('subset: v3');
    expect(await files()).toHaveLength(4);
  });

  test("an object already in a user's file is rewritten in place; the file's other documents and comments stay", async () => {
    await writeFile(join(dir, 'mine.yaml'), USER_FILE);
    const r = await run(apply, ['-f', ISTIO('virtual-service-reviews-v3.yaml'), '--dir', dir]);
    expect(r.out).toBe('virtualservice.networking.istio.io/reviews configured\n');
    expect(await files()).toEqual(['mine.yaml']);
    const text = await read('mine.yaml');
    const [svc, route, rule] = text.split(/^---\n/m);
    expect(svc).toBe(USER_FILE.split(/^---\n/m)[0]);
    expect(route).toMatch(/^# reviews goes to v2 for now\napiVersion: networking\.istio\.io\/v1\n[^]*subset: v3\n$/);
    expect(rule).toBe(USER_FILE.split(/^---\n/m)[2]);

    // A namespace written or defaulted is the same object; a namespace-less DestinationRule is found by -n default.
    const dr = await run(apply, ['-f', '-', '--dir', dir, '-n', 'default'], 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews}\nspec:\n  host: reviews\n  subsets: [{name: v1, labels: {version: v1}}]\n');
    expect(dr.out).toBe('destinationrule.networking.istio.io/reviews configured\n');
    expect(await files()).toEqual(['mine.yaml']);
    expect((await read('mine.yaml')).split(/^---\n/m)[2]).toContain('namespace: default');

    const gone = await run(del, ['-f', ISTIO('virtual-service-reviews-v3.yaml'), '--dir', dir]);
    expect(gone).toEqual({ code: 0, out: 'virtualservice.networking.istio.io "reviews" deleted\n', err: '' });
    const left = await read('mine.yaml');
    expect(left.startsWith(USER_FILE.split(/^---\n/m)[0]!)).toBe(true);
    expect(left).not.toContain('VirtualService');
    expect(left).toContain('kind: DestinationRule');
  });

  test('invalid input: every error with file, document, object and field; exit 1; nothing written', async () => {
    await writeFile(join(dir, 'mine.yaml'), USER_FILE);
    const bad = `${vs('ratings', 'v1')}---\n${vs('reviews', 'v1')}      weight: -1\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: x}\nspec: {}\n`;
    const r = await run(apply, ['-f', '-', '--dir', dir], bad);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('error: STDIN:20#1 VirtualService/default/reviews spec.http[0].route[0].weight: ');
    expect(r.err).toMatch(/^error: STDIN:\d+#2 DestinationRule\/default\/x spec\.host: /m);
    expect(r.err).toMatch(/nothing written \(2 errors\)\n$/);
    expect(await files()).toEqual(['mine.yaml']);
    expect(await read('mine.yaml')).toBe(USER_FILE);

    const syntax = await run(apply, ['-f', '-', '--dir', dir], 'kind: [\n');
    expect(syntax.code).toBe(1);
    expect(syntax.err).toMatch(/^error: STDIN(:\d+)?#0: YAML syntax error/m);
  });

  test('multi-document stdin, Lists, kinds Trellis does not use, -n and its conflicts', async () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n- ${vs('a', 'v1').replace(/\n(?=.)/g, '\n  ')}- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: sa}\n`;
    const r = await run(apply, ['-f', '-', '--dir', dir, '-n', 'shop'], `${list}---\n${vs('b', 'v2')}`);
    expect(r.code).toBe(0);
    expect(r.out).toBe('virtualservice.networking.istio.io/a created\nvirtualservice.networking.istio.io/b created\n');
    expect(r.err).toMatch(/^Warning: STDIN:\d+#0 ServiceAccount\/sa items\[1\]: unsupported kind v1\/ServiceAccount, ignored\n$/);
    expect(await files()).toEqual(['virtualservice-shop-a.yaml', 'virtualservice-shop-b.yaml']);
    expect(await read('virtualservice-shop-a.yaml')).toContain('  namespace: shop\n');

    const conflict = await run(apply, ['-f', '-', '--dir', dir, '-n', 'other'], vs('c', 'v1', '\n  namespace: shop'));
    expect(conflict.code).toBe(1);
    expect(conflict.err).toContain(`the namespace from the provided object "shop" does not match the namespace "other"`);

    const deleted = await run(del, ['-f', '-', '--dir', dir, '-n', 'shop'], `${vs('a', 'x')}---\n${vs('zzz', 'x')}`);
    expect(deleted.code).toBe(1);
    expect(deleted.out).toBe('virtualservice.networking.istio.io "a" deleted\n');
    expect(deleted.err).toBe('Error from server (NotFound): error when deleting "STDIN": virtualservices.networking.istio.io "zzz" not found\n');
    expect(await files()).toEqual(['virtualservice-shop-b.yaml']);
    expect((await run(del, ['-f', '-', '--dir', dir, '-n', 'shop', '--ignore-not-found'], vs('zzz', 'x'))).code).toBe(0);
  });

  test('objects inside a List in a user file, files in subfolders, --dry-run', async () => {
    await mkdir(join(dir, 'routing'));
    await writeFile(join(dir, 'routing', 'list.yaml'), `apiVersion: v1\nkind: List\nitems:\n- ${vs('a', 'v1').replace(/\n(?=.)/g, '\n  ')}- ${vs('b', 'v1').replace(/\n(?=.)/g, '\n  ')}`);
    const dry = await run(apply, ['-f', '-', '--dir', dir, '--dry-run=client'], vs('b', 'v2'));
    expect(dry.out).toBe('virtualservice.networking.istio.io/b configured (dry run)\n');
    expect(await read('routing/list.yaml')).not.toContain('v2');
    expect((await run(apply, ['-f', '-', '--dir', dir], vs('b', 'v2'))).out).toBe('virtualservice.networking.istio.io/b configured\n');
    expect(await read('routing/list.yaml')).toMatch(/subset: v1[^]*subset: v2/);
    expect((await run(del, ['-f', '-', '--dir', dir], `${vs('a', 'v1')}---\n${vs('b', 'v1')}`)).code).toBe(0);
    expect(await readdir(join(dir, 'routing'))).toEqual([]);
  });

  test('usage', async () => {
    expect((await run(apply, [])).code).toBe(2);
    expect((await run(apply, ['-f', join(dir, 'nope.yaml'), '--dir', dir])).err).toContain(`the path "${join(dir, 'nope.yaml')}" does not exist`);
    expect((await run(apply, ['-f', '-', '--dir', join(dir, 'missing')], vs('a', 'v1'))).err).toContain('no such folder');
  });
});
