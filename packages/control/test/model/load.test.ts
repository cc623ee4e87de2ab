import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigPaths } from '@trellis/control';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trellis-load-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

describe('loadConfigPaths', () => {
  it('reads folders recursively, .yaml/.yml/.json only, in sorted order, skipping dot entries', async () => {
    await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, 'b.yaml'), ns('b'));
    await writeFile(join(dir, 'a.yml'), ns('a'));
    await writeFile(join(dir, 'sub', 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' } }));
    await writeFile(join(dir, 'sub', 'deeper', 'd.YAML'), ns('d'));
    await writeFile(join(dir, 'sub', 'notes.txt'), ns('ignored'));
    await writeFile(join(dir, '.hidden.yaml'), ns('hidden'));
    await writeFile(join(dir, '.git', 'x.yaml'), ns('git'));
    const res = await loadConfigPaths([dir]);
    expect(res.issues).toEqual([]);
    expect(res.files).toEqual([join(dir, 'a.yml'), join(dir, 'b.yaml'), join(dir, 'sub', 'c.json'), join(dir, 'sub', 'deeper', 'd.YAML')]);
    expect(res.objects.map((o) => [o.metadata.name, o.origin.file])).toEqual([
      ['a', join(dir, 'a.yml')],
      ['b', join(dir, 'b.yaml')],
      ['c', join(dir, 'sub', 'c.json')],
      ['d', join(dir, 'sub', 'deeper', 'd.YAML')],
    ]);
  });

  it('reads a file named directly whatever its extension, and follows symlinked folders', async () => {
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real', 'x.yaml'), ns('x'));
    await symlink(join(dir, 'real'), join(dir, 'link'));
    await writeFile(join(dir, 'config.txt'), ns('txt'));
    const res = await loadConfigPaths([join(dir, 'config.txt'), join(dir, 'link')]);
    expect(res.objects.map((o) => o.metadata.name)).toEqual(['txt', 'x']);
  });

  it('reports missing paths and keeps going', async () => {
    await writeFile(join(dir, 'ok.yaml'), ns('ok'));
    const missing = join(dir, 'nope');
    const res = await loadConfigPaths([missing, join(dir, 'ok.yaml')]);
    expect(res.objects.map((o) => o.metadata.name)).toEqual(['ok']);
    expect(res.issues).toEqual([{ severity: 'error', file: missing, doc: 0, message: expect.stringMatching(/^cannot read: ENOENT/) }]);
  });

  it('keeps the issues of each file', async () => {
    await writeFile(join(dir, 'bad.yaml'), `${ns('a')}---\nkind: [\n`);
    const res = await loadConfigPaths([dir]);
    expect(res.objects).toHaveLength(1);
    expect(res.issues).toMatchObject([{ severity: 'error', file: join(dir, 'bad.yaml'), doc: 1, line: 7 }]); // the unclosed [ is noticed at the end of the text
  });
});
