import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { compileRe2, compileRe2Search } from '@trellis/envoy-api';

// The reference: real RE2 (the same WASM build compileRe2 validates with), full match as Envoy does it.
const require = createRequire(import.meta.url);
const { WrappedRE2 } = require('re2-wasm/build/wasm/re2.js') as {
  WrappedRE2: new (p: string, i: boolean, m: boolean, s: boolean) => { ok(): boolean; match(s: string, start: number, groups: boolean): { index: number }; delete(): void };
};

/** RE2's full-match answers for many inputs, compiling the pattern once (compiling dominates the cost). */
function re2FullMatches(pattern: string, inputs: readonly string[]): boolean[] {
  const re = new WrappedRE2(`^(?:${pattern})$`, false, false, false);
  try {
    if (!re.ok()) throw new Error(`RE2 rejected ${pattern}`);
    return inputs.map((input) => re.match(input, 0, false).index >= 0);
  } finally {
    re.delete();
  }
}


function compiled(pattern: string): RegExp {
  const r = compileRe2(pattern);
  if (!r.ok) throw new Error(`${pattern}: ${r.reason}`);
  return r.regexp;
}

const PROBES = ['', 'a', 'A', 'ab', 'abc', 'aaa', 'b', '\n', 'a\n', '\na', '\r', '\u2028', ' ', '\t', '\v', '\u00a0', '0', '9', '_', '-', '.', '/', '{', '}', ']', 'k', 'K', '\u212a', 's', '\u017f', 'é', 'Ω', '😀', 'a😀', '/api/v1/users', '/api/v1/', 'GET', 'get', 'x{2}'];

describe('compileRe2: valid RE2 matches like RE2, as a full match', () => {
  it.each([
    'a', 'abc', 'a*', 'a+b?', 'a{2}', 'a{2,}', 'a{1,3}', 'a{,3}', 'a{', 'x{2}', '(a|b)+', 'a||b', '(|a)', '(?:ab)*', '(a)(b)?',
    '.', '.*', '(?s).', '(?s:.)a', '[^a]', '[a-c]+', '[]a]', '[^]a]', '[a-b-c]', '[--/]', '[\\d_]', '[\\w-]+', '\\d+', '\\D', '\\w+', '\\W',
    '\\s', '\\S', '[\\s\\S]', '[^\\s]', '\\bab\\b', '\\Ba', '\\Aa\\z', '^a$', '(?m)^a$', '(?m)a$\\n?', '(?m:^)a', '\\b+a',
    '[[:alpha:]]+', '[[:^alpha:]]', '[[:digit:][:upper:]]', '[[:word:]]', '[[:space:]]', '[[:punct:]]',
    '\\pL', '\\p{Lu}', '\\PL', '\\p{Greek}', '\\P{Greek}', '\\p{^Greek}', '[\\p{Lu}\\d]', '\\pN+', '\\pC', '\\p{Any}',
    '\\x41', '\\x{1F600}', '\\101', '\\0', '\\12', '\\a\\f\\t\\n\\r\\v', '\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\', '\\_\\!\\@\\#\\%\\-\\/\\ ',
    '\\Qa.b*\\E', 'x\\Q{}\\E+', '(?U)a+', '(?U)a+?', '(?U:a*)a', '(?P<name>a)b', '(?i)abc', '(?i)k', '(?i)[a-z]+', '(?i)\\w', '(?i)\\W', '(?i)[^k]', '(?is)a.',
    '/api/v[0-9]+/.*', 'GET|POST', '.*chrome.*', '(?i).*CHROME.*', 'a(?s)b.c|d.',
  ])('%s', (pattern) => {
    const re = compiled(pattern);
    const expected = re2FullMatches(pattern, PROBES);
    PROBES.forEach((input, k) => expect([input, re.test(input)]).toEqual([input, expected[k]]));
  });

  it('quotes to the end of the pattern when \\E is missing', () => {
    const re = compiled('\\Qa.b)');
    expect(['a.b)', 'axb)', 'a.b'].map((s) => re.test(s))).toEqual([true, false, false]);
  });

  it('is anchored at both ends, unlike RegExp.test', () => {
    const re = compiled('/api');
    expect(re.test('/api')).toBe(true);
    expect(re.test('/api/v1')).toBe(false);
    expect(re.test('x/api')).toBe(false);
  });

  it('keeps capture group numbering (named groups included) for rewrites', () => {
    const m = compiled('/v(?P<major>[0-9]+)/(.*)').exec('/v2/users');
    expect(m?.slice(1)).toEqual(['2', 'users']);
  });

  it('agrees with RE2 on randomly generated patterns', () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const atoms = ['a', 'b', 'k', 's', '.', '\\d', '\\s', '\\S', '\\w', '\\W', '[ab]', '[^a]', '[^k]', '(a|b)', '(?:ab)', '\\n', 'K', '[[:alpha:]]', '[[:lower:]]', '\\pL', '\\p{Lu}', '$', '^'];
    const ops = ['', '', '*', '+', '?', '{1,2}', '*?', '??'];
    const inputs = ['', 'a', 'b', 'ab', 'ba', 'aab', '1', 'a1', ' ', '\n', 'a\nb', 'K', 'k', 'S', '\u212a', '\u017f', 'ab ab', '\r'];
    for (let i = 0; i < 400; i++) {
      const parts = Array.from({ length: 1 + rand(4) }, () => atoms[rand(atoms.length)]! + ops[rand(ops.length)]!);
      let pattern = parts.join(rand(5) === 0 ? '|' : '');
      if (rand(6) === 0) pattern = `(?s)${pattern}`;
      if (rand(6) === 0) pattern = `(?m)${pattern}`;
      if (rand(8) === 0) pattern = `(?U)${pattern}`;
      if (rand(5) === 0) pattern = `(?i)${pattern}`;
      const re = compiled(pattern);
      const expected = re2FullMatches(pattern, inputs);
      inputs.forEach((input, k) => expect([pattern, input, re.test(input)]).toEqual([pattern, input, expected[k]]));
    }
  });
});

describe('compileRe2: rejections', () => {
  it.each([
    ['(', 'invalid RE2 syntax: missing ): ('],
    ['a**', 'invalid RE2 syntax: bad repetition operator: **'],
    ['(?=a)', 'invalid RE2 syntax: invalid perl operator: (?='],
    ['(a)\\1', 'invalid RE2 syntax: invalid escape sequence: \\1'],
    ['a{1001}', 'invalid RE2 syntax: invalid repetition size: {1001}'],
    ['[[:foo:]]', 'invalid RE2 syntax: invalid character class range: [:foo:]'],
    ['\\e', 'invalid RE2 syntax: invalid escape sequence: \\e'],
    ['(?<name>a)', 'invalid RE2 syntax: invalid perl operator: (?<'],
  ])('RE2 syntax error %s', (pattern, reason) => {
    expect(compileRe2(pattern)).toEqual({ ok: false, reason });
  });

  it.each([
    ['\\C', '\\C (any single byte) has no JavaScript equivalent'],
    ['a(?i)b', 'case-insensitive matching (?i) is only supported for the whole pattern, as a leading "(?i)"'],
    ['(?i:a)b', 'case-insensitive matching (?i) is only supported for the whole pattern, as a leading "(?i)"'],
    ['(?i)a(?-i)b', 'case-insensitive matching (?i) is only supported for the whole pattern, as a leading "(?i)"'],
    ['(?i)\\P{Lu}', 'negated Unicode class \\P{Lu} is not supported with (?i)'],
    ['(?i)[[:^alpha:]]', 'negated POSIX class [:^alpha:] is not supported with (?i)'],
    ['[\\PC]', 'this class can only be used outside [...]'],
    ['(?i)\\bfoo\\b', 'word boundary \\b is not supported with (?i)'],
  ])('no exact JavaScript equivalent: %s', (pattern, reason) => {
    expect(compileRe2(pattern)).toEqual({ ok: false, reason });
  });
});

describe('compileRe2Search (regex_rewrite)', () => {
  it('finds every match anywhere, with the same translation as full match', () => {
    const re = compileRe2Search('(?i)/v[0-9]+/');
    expect(re.ok).toBe(true);
    if (re.ok) expect('/V1/a/v22/b'.replace(re.regexp, '/')).toBe('/a/b');
    expect(compileRe2Search('a\\C')).toMatchObject({ ok: false });
  });
});
