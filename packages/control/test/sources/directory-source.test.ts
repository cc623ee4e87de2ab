import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mkdir, mkdtemp, open, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectorySource, MeshConfig, parseConfigText, analyzeObjects } from '@trellis/control';

const vs = (name: string, weight = 100) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${name}]
  http: [{ route: [{ destination: { host: ${name} }, weight: ${weight} }] }]
`;

/** Resolves with the next config the source publishes, or rejects after `ms`. */
function nextChange(source: DirectorySource, ms = 2000): Promise<MeshConfig> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no change published')), ms);
    source.once('change', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
}

const names = (c: MeshConfig) => c.virtualServices.map((v) => v.metadata.name).sort();

describe('DirectorySource', () => {
  let dir: string;
  let source: DirectorySource;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-src-'));
    await mkdir(join(dir, 'nested'));
    await writeFile(join(dir, 'a.yaml'), vs('a'));
    await writeFile(join(dir, 'nested', 'b.yml'), vs('b'));
    await writeFile(join(dir, 'notes.txt'), 'not config');
    source = new DirectorySource(dir, { parse: parseConfigText, analyze: analyzeObjects, debounceMs: 50 });
  });

  afterEach(async () => {
    source.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('loads YAML recursively and ignores other files', async () => {
    const config = await source.start();
    expect(names(config)).toEqual(['a', 'b']);
    expect(config.issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  test('a changed file is picked up, debounced into one swap', async () => {
    await source.start();
    let swaps = 0;
    source.on('change', () => swaps++);
    const changed = nextChange(source);
    await writeFile(join(dir, 'c.yaml'), vs('c'));
    await writeFile(join(dir, 'd.yaml'), vs('d'));
    expect(names(await changed)).toEqual(['a', 'b', 'c', 'd']);
    await new Promise((r) => setTimeout(r, 200));
    expect(swaps).toBe(1);
  });

  test('every save of a file replaced by rename (as vim saves) is picked up, not only the first', async () => {
    await source.start();
    for (const name of ['x', 'y', 'z']) {
      const changed = nextChange(source);
      await writeFile(join(dir, '.a.yaml.swp'), vs(name));
      await rename(join(dir, '.a.yaml.swp'), join(dir, 'a.yaml'));
      expect(names(await changed)).toEqual(['b', name]);
    }
  });

  test("a save caught between its truncate and its write keeps the file's objects serving", async () => {
    await source.start();
    const published: string[][] = [];
    source.on('change', (c) => published.push(names(c)));
    const changed = nextChange(source);
    const file = await open(join(dir, 'a.yaml'), 'w'); // truncated, as writeFile and `trellis apply` do first
    await source.reload(); // the poller may look just then
    await new Promise((r) => setTimeout(r, 20));
    await file.writeFile(vs('a', 40));
    await file.close();
    const config = await changed;
    expect(config.virtualServices.find((v) => v.metadata.name === 'a')?.spec.http?.[0]?.route?.[0]?.weight).toBe(40);
    expect(published).toEqual([['a', 'b']]);
  });

  test('a bad edit is rejected with its error and the last good version keeps serving', async () => {
    await source.start();
    const before = source.current().virtualServices.find((v) => v.metadata.name === 'a')!;
    const changed = nextChange(source);
    await writeFile(join(dir, 'a.yaml'), vs('a', -1));
    const config = await changed;
    const a = config.virtualServices.find((v) => v.metadata.name === 'a');
    expect(a).toBe(before);
    const error = config.issues.find((i) => i.severity === 'error');
    expect(error).toMatchObject({ file: join(dir, 'a.yaml'), doc: 0, object: 'VirtualService/default/a', path: 'spec.http[0].route[0].weight' });
    const status = source.status().find((f) => f.file.endsWith('a.yaml'))!;
    expect(status).toMatchObject({ state: 'rejected', servingLastGood: true, objects: 1 });

    const fixed = nextChange(source);
    await writeFile(join(dir, 'a.yaml'), vs('a', 100));
    const after = await fixed;
    expect(after.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(after.virtualServices.find((v) => v.metadata.name === 'a')).not.toBe(before);
  });

  test('a new file that is bad from the start contributes nothing; others keep working', async () => {
    await source.start();
    const changed = nextChange(source);
    await writeFile(join(dir, 'broken.yaml'), 'kind: VirtualService\nmetadata: {name: x\n  oops');
    const config = await changed;
    expect(names(config)).toEqual(['a', 'b']);
    expect(config.issues.some((i) => i.severity === 'error' && i.file.endsWith('broken.yaml'))).toBe(true);
  });

  test('a deleted file takes its objects with it', async () => {
    await source.start();
    const changed = nextChange(source);
    await unlink(join(dir, 'nested', 'b.yml'));
    expect(names(await changed)).toEqual(['a']);
  });

  test('the same object in two files: the later file loses, with an error naming it', async () => {
    await source.start();
    const changed = nextChange(source);
    await writeFile(join(dir, 'z-dup.yaml'), vs('a'));
    const config = await changed;
    expect(config.virtualServices.filter((v) => v.metadata.name === 'a')).toHaveLength(1);
    expect(config.virtualServices.find((v) => v.metadata.name === 'a')!.origin.file).toBe(join(dir, 'a.yaml'));
    expect(config.issues.find((i) => i.severity === 'error')).toMatchObject({ file: join(dir, 'z-dup.yaml'), object: 'VirtualService/default/a' });
  });
});
