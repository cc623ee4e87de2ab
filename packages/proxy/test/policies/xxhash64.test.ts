import { describe, expect, it } from 'vitest';
import { xxhash64, xxhash64Bytes } from '../../src/cluster/hash/xxhash64.js';

// Reference values from the reference C library (libxxhash 0.8.1, XXH64) for seeds 0 and 1, covering
// every code path: empty, < 4, 4-7, 8-byte lanes, the 32-byte stripe loop, multi-stripe with tail, UTF-8.
const BYTES = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
const VECTORS: [string, Uint8Array, bigint, bigint][] = [
  ['empty', new Uint8Array(0), 0xef46db3751d8e999n, 0xd5afba1336a3be4bn],
  ['a', Buffer.from('a'), 0xd24ec4f1a98c6e5bn, 0xdec2bc81c3cd46c6n],
  ['abc', Buffer.from('abc'), 0x44bc2cf5ad770999n, 0xbea9ca8199328908n],
  ['message digest', Buffer.from('message digest'), 0x066ed728fceeb3ben, 0xcba434b6417dd0fdn],
  ['39 bytes', Buffer.from('Nobody inspects the spammish repetition'), 0xfbcea83c8a378bf1n, 0x43f425448d954db6n],
  ['ring key', Buffer.from('127.0.0.1:8080_0'), 0xf673a43b9624fa24n, 0xb435c554178c1df2n],
  ['address', Buffer.from('10.0.0.1:80'), 0x011facba8043b217n, 0xa456919bcbffaa92n],
  ['33 bytes', BYTES(33), 0x0c535d1acafb8eadn, 0xa371825f4210fe99n],
  ['64 bytes', BYTES(64), 0xf7c67301db6713f0n, 0x3ce5bdf7575926c0n],
  ['256 bytes', BYTES(256), 0x1facbe8406cd904bn, 0xbeec1eb06d6a56f7n],
];

describe('xxhash64', () => {
  for (const [name, data, seed0, seed1] of VECTORS) {
    it(`matches the reference for ${name} (seeds 0 and 1)`, () => {
      expect(xxhash64Bytes(data)).toBe(seed0);
      expect(xxhash64Bytes(data, 1n)).toBe(seed1);
    });
  }

  it('hashes strings as UTF-8', () => {
    expect(xxhash64('héllo wörld ✓')).toBe(0x34d9919c86f55ac4n);
    expect(xxhash64('héllo wörld ✓', 1n)).toBe(0xd3f83ca43137a825n);
  });

  it('reads lanes at any byte offset (a subarray)', () => {
    const buf = Buffer.concat([Buffer.from('xyz'), Buffer.from('Nobody inspects the spammish repetition')]);
    expect(xxhash64Bytes(buf.subarray(3))).toBe(0xfbcea83c8a378bf1n);
  });
});
