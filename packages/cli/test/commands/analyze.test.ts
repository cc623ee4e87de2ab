import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { analyze } from '../../src/commands/analyze.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trellis-analyze-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ code: number; lines: string[] }> {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  const code = await analyze(args, out);
  return { code, lines: text.split('\n').filter(Boolean) };
}

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  ports:
  - port: 9080
    name: http
  selector:
    app: reviews
`;
const RULE = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
`;
const ROUTE = (weight: number, subset = 'v1') => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: ${subset}}
      weight: ${weight}
    - destination: {host: reviews, subset: v1}
      weight: 10
`;

describe('trellis analyze', () => {
  it('exits 0 with a summary when the config is clean', async () => {
    await writeFile(join(dir, 'svc.yaml'), `${SERVICE}---\n${RULE}`);
    await writeFile(join(dir, 'vs.yaml'), ROUTE(90));
    expect(await run(dir)).toEqual({ code: 0, lines: ['0 errors, 0 warnings in 2 files'] });
  });

  it('prints errors, then warnings, then the summary, and exits 1 on errors', async () => {
    const vs = join(dir, 'vs.yaml');
    const extra = join(dir, 'sub', 'extra.yaml');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'svc.yaml'), `${SERVICE}---\n${RULE}`);
    await writeFile(vs, `${ROUTE(90, 'v2')}---\n${ROUTE(-5).replace('name: reviews', 'name: broken')}`);
    await writeFile(extra, 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: bookinfo\n');
    const { code, lines } = await run(dir);
    expect(code).toBe(1);
    expect(lines).toEqual([
      `error: ${vs}:23#1 VirtualService/default/broken spec.http[0].route[0].weight: weight -5 < 0`,
      `warning: ${extra}:1#0 ServiceAccount/bookinfo: unsupported kind v1/ServiceAccount, ignored`,
      `warning: ${vs}#0 VirtualService/default/reviews spec.http[0].route[0].destination.subset: referenced host+subset in destinationrule not found: "reviews+v2"`,
      '1 error, 2 warnings in 3 files',
    ]);
  });

  it('reports duplicates across files on the later file', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE);
    await writeFile(join(dir, 'b.yaml'), SERVICE);
    const { code, lines } = await run(join(dir, 'a.yaml'), join(dir, 'b.yaml'));
    expect(code).toBe(1);
    expect(lines).toEqual([
      `error: ${join(dir, 'b.yaml')}#0 Service/default/reviews metadata.name: duplicate Service/default/reviews: already defined in ${join(dir, 'a.yaml')}#0`,
      '1 error, 0 warnings in 2 files',
    ]);
  });

  it('exits 2 on usage errors', async () => {
    const none = await run();
    expect(none.code).toBe(2);
    expect(none.lines[0]).toBe('trellis analyze: no paths given');
    const missing = await run(join(dir, 'missing.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.lines[0]).toBe(`trellis analyze: ${join(dir, 'missing.yaml')}: no such file or directory`);
    expect((await run('--frobnicate', dir)).code).toBe(2);
  });

  it('prints help', async () => {
    const { code, lines } = await run('--help');
    expect(code).toBe(0);
    expect(lines[0]).toBe('usage: trellis analyze PATH...');
  });
});
