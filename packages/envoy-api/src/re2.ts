/**
 * RE2 regexes, as Istio and Envoy use them (`safe_regex`, matched against the whole value).
 *
 * A pattern is first checked by real RE2 (re2-wasm), so syntax errors carry RE2's own message. It is
 * then translated token by token into a JavaScript RegExp with the same meaning, anchored for a full
 * match. Where JavaScript (Node 20) has no exact equivalent, the pattern is rejected with a reason
 * rather than approximated: a sidecar that matched differently from Envoy would route differently.
 *
 * The control plane validates with it and the sidecar matches with it: one translation, one meaning.
 */
import { createRequire } from 'node:module';

interface WrappedRE2 {
  ok(): boolean;
  error(): string;
  delete?(): void;
}
type WrappedRE2Constructor = new (pattern: string, ignoreCase: boolean, multiline: boolean, dotAll: boolean) => WrappedRE2;

// The low-level binding takes RE2 syntax verbatim; the package's `RE2` class first rewrites JS syntax.
// Loaded on first use: its WASM heap costs ~11 MB of RSS, which a sidecar without regex routes never pays.
const require = createRequire(import.meta.url);
let wrappedRe2: WrappedRE2Constructor | undefined;
function loadRe2(): WrappedRE2Constructor {
  wrappedRe2 ??= (require('re2-wasm/build/wasm/re2.js') as { WrappedRE2: WrappedRE2Constructor }).WrappedRE2;
  return wrappedRe2;
}

export type Re2Compiled = { ok: true; regexp: RegExp } | { ok: false; reason: string };

/** A full-match RegExp for an RE2 pattern (Envoy's route, header and query matchers), or why there is none. */
export function compileRe2(pattern: string): Re2Compiled {
  return compileTranslated(pattern, (t) => new RegExp(`^(?:${t.source})$`, t.flags));
}

/** An unanchored, global RegExp for an RE2 pattern (Envoy's regex_rewrite substitutes every match). */
export function compileRe2Search(pattern: string): Re2Compiled {
  return compileTranslated(pattern, (t) => new RegExp(t.source, `${t.flags}g`));
}

function compileTranslated(pattern: string, build: (t: { source: string; flags: string }) => RegExp): Re2Compiled {
  const syntaxError = re2SyntaxError(pattern);
  if (syntaxError !== undefined) return { ok: false, reason: `invalid RE2 syntax: ${syntaxError}` };
  let translated: { source: string; flags: string };
  try {
    translated = new Translator(pattern).translate();
  } catch (e) {
    if (e instanceof Unsupported) return { ok: false, reason: e.message };
    throw e;
  }
  try {
    return { ok: true, regexp: build(translated) };
  } catch (e) {
    return { ok: false, reason: `RE2 pattern has no JavaScript equivalent: ${(e as Error).message}` };
  }
}

/** RE2's error message for a pattern (default RE2 options, as Envoy uses), or undefined when it compiles. */
export function re2SyntaxError(pattern: string): string | undefined {
  const WrappedRE2 = loadRe2();
  const re = new WrappedRE2(pattern, false, false, false);
  try {
    return re.ok() ? undefined : re.error();
  } finally {
    re.delete?.(); // embind objects live on the WASM heap until deleted
  }
}

class Unsupported extends Error {}

interface Flags {
  /** (?m): ^ and $ also match at line boundaries. */
  m: boolean;
  /** (?s): . also matches \n. */
  s: boolean;
  /** (?U): ungreedy — the meaning of x* and x*? swaps. */
  U: boolean;
}

interface Atom {
  src: string;
  /** Zero-width; JS (with the u flag) only lets these repeat inside a group. */
  assertion?: boolean;
}

type Range = readonly [number, number];
const MAX_CP = 0x10ffff;

// RE2's Perl and POSIX classes are ASCII-only; JS's \s is Unicode, so classes are spelled out as ranges.
const SPACE: Range[] = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];
const POSIX: Record<string, Range[]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};
const GENERAL_CATEGORIES = new Set(
  'L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs Cc Cf Co Cs'.split(' '),
);
// RE2's \pC has no Cn (unassigned) table, unlike JS's \p{C}.
const RE2_C = '\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}';

/** A class as it can be written inside [...] and on its own; `inClass` undefined when JS can't nest it. */
interface ClassPiece {
  inClass?: string;
  standalone: string;
}

class Translator {
  private readonly cps: string[];
  private pos = 0;
  /** A leading (?i) becomes the JS `i` flag; case folding can't be scoped on Node 20. */
  private readonly ignoreCase: boolean;
  private readonly leadingGroupEnd: number;

  constructor(pattern: string) {
    this.cps = Array.from(pattern);
    const lead = /^\(\?([a-zA-Z]*)(?:-[a-zA-Z]*)?\)/.exec(pattern);
    this.ignoreCase = lead !== null && lead[1]!.includes('i');
    this.leadingGroupEnd = lead ? lead[0].length : 0;
  }

  translate(): { source: string; flags: string } {
    const source = this.alternation({ m: false, s: false, U: false });
    if (this.pos < this.cps.length) throw new Unsupported(`unexpected "${this.peek()}" at offset ${this.pos}`);
    return { source, flags: this.ignoreCase ? 'iu' : 'u' };
  }

  private peek(ahead = 0): string | undefined {
    return this.cps[this.pos + ahead];
  }

  private next(): string {
    const c = this.cps[this.pos++];
    if (c === undefined) throw new Unsupported('unexpected end of pattern');
    return c;
  }

  private expect(c: string): void {
    if (this.next() !== c) throw new Unsupported(`expected "${c}" at offset ${this.pos - 1}`);
  }

  /** Flags are shared by reference within a group: RE2's (?m) holds until the group closes, across `|`. */
  private alternation(flags: Flags): string {
    const branches = [this.concat(flags)];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.concat(flags));
    }
    return branches.join('|');
  }

  private concat(flags: Flags): string {
    let out = '';
    while (this.pos < this.cps.length && this.peek() !== '|' && this.peek() !== ')') {
      const atom = this.atom(flags);
      if (atom) out += this.repeat(atom, flags);
    }
    return out;
  }

  private repeat(atom: Atom, flags: Flags): string {
    const op = this.repeatOp();
    if (op === undefined) return atom.src;
    let lazy = false;
    if (this.peek() === '?') {
      this.pos++;
      lazy = true;
    }
    if (flags.U) lazy = !lazy;
    const base = atom.assertion ? `(?:${atom.src})` : atom.src;
    return base + op + (lazy ? '?' : '');
  }

  /** `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`; anything else after `{` is a literal brace in RE2. */
  private repeatOp(): string | undefined {
    const c = this.peek();
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      return c;
    }
    if (c === '{') {
      const m = /^\{[0-9]+(?:,[0-9]*)?\}/.exec(this.cps.slice(this.pos, this.pos + 16).join(''));
      if (m) {
        this.pos += m[0].length;
        return m[0];
      }
    }
    return undefined;
  }

  private atom(flags: Flags): Atom | undefined {
    const c = this.next();
    switch (c) {
      case '(':
        return this.group(flags);
      case '[':
        return { src: this.charClass() };
      case '.':
        return { src: flags.s ? '[^]' : '[^\\n]' }; // RE2's . excludes only \n; JS's also \r, \u2028, \u2029
      case '^':
        return { src: flags.m ? '(?:^|(?<=\\n))' : '^', assertion: true };
      case '$':
        return { src: flags.m ? '(?:$|(?=\\n))' : '$', assertion: true };
      case '\\':
        return this.escapeAtom();
      case '*':
      case '+':
      case '?':
        throw new Unsupported(`missing argument to repetition operator "${c}"`);
      default:
        return { src: literal(c.codePointAt(0)!) };
    }
  }

  private group(outer: Flags): Atom | undefined {
    const start = this.pos - 1;
    if (this.peek() !== '?') return { src: `(${this.closeGroup({ ...outer })})` };
    this.pos++;
    if (this.peek() === ':') {
      this.pos++;
      return { src: `(?:${this.closeGroup({ ...outer })})` };
    }
    if ((this.peek() === 'P' && this.peek(1) === '<') || this.peek() === '<') {
      // Named groups are numbered like plain ones in both engines; a plain group keeps the numbering and
      // avoids JS's stricter rules for group names.
      while (this.next() !== '>');
      return { src: `(${this.closeGroup({ ...outer })})` };
    }
    return this.flagGroup(start, outer);
  }

  /** `(?flags)` changes the enclosing group from here on; `(?flags:re)` only re. */
  private flagGroup(start: number, outer: Flags): Atom | undefined {
    let negate = false;
    const changes: [keyof Flags, boolean][] = [];
    for (;;) {
      const c = this.next();
      if (c === ')' || c === ':') {
        const scoped = c === ':';
        const target = scoped ? { ...outer } : outer;
        for (const [flag, value] of changes) target[flag] = value;
        if (!scoped) return undefined;
        return { src: `(?:${this.closeGroup(target)})` };
      }
      if (c === '-') negate = true;
      else if (c === 'i') {
        const leading = start === 0 && !negate && this.pos <= this.leadingGroupEnd;
        if (!leading) {
          throw new Unsupported(
            'case-insensitive matching (?i) is only supported for the whole pattern, as a leading "(?i)"',
          );
        }
      } else if (c === 'm' || c === 's' || c === 'U') changes.push([c, !negate]);
      else throw new Unsupported(`unsupported flag "${c}"`);
    }
  }

  private closeGroup(flags: Flags): string {
    const inner = this.alternation(flags);
    this.expect(')');
    return inner;
  }

  private escapeAtom(): Atom {
    const c = this.peek();
    switch (c) {
      case 'A':
        this.pos++;
        return { src: '^', assertion: true }; // the JS RegExp never has the m flag, so ^ is start of text
      case 'z':
        this.pos++;
        return { src: '$', assertion: true };
      case 'b':
      case 'B':
        if (this.ignoreCase) {
          // Under /iu, JS counts K (U+212A) and ſ (U+017F) as word characters for \b; RE2 does not.
          throw new Unsupported(`word boundary \\${c} is not supported with (?i)`);
        }
        this.pos++;
        return { src: `\\${c}`, assertion: true };
      case 'C':
        throw new Unsupported('\\C (any single byte) has no JavaScript equivalent');
      case 'Q':
        this.pos++;
        return { src: this.quoted() };
    }
    const piece = this.classEscape();
    if (piece) return { src: piece.standalone };
    return { src: literal(this.charEscape()) };
  }

  /** \Q...\E: everything up to \E (or the end) is literal. */
  private quoted(): string {
    let out = '';
    while (this.pos < this.cps.length) {
      if (this.peek() === '\\' && this.peek(1) === 'E') {
        this.pos += 2;
        break;
      }
      out += literal(this.next().codePointAt(0)!);
    }
    return out;
  }

  /** \d \D \s \S \w \W \pX \p{X} \PX \P{X} (the backslash already consumed), or undefined. */
  private classEscape(): ClassPiece | undefined {
    const c = this.peek();
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        // JS's \d \w are ASCII too; under i+u JS folds \w like RE2 does (K, ſ), so keep them native.
        this.pos++;
        return { inClass: `\\${c}`, standalone: `\\${c}` };
      case 's':
        this.pos++;
        return rangesPiece(SPACE, false);
      case 'S':
        this.pos++;
        return rangesPiece(SPACE, true);
      case 'p':
      case 'P':
        this.pos++;
        return this.unicodeClass(c === 'P');
    }
    return undefined;
  }

  private unicodeClass(negated: boolean): ClassPiece {
    let name: string;
    if (this.peek() === '{') {
      this.pos++;
      name = '';
      for (let c = this.next(); c !== '}'; c = this.next()) name += c;
    } else {
      name = this.next();
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    if (negated && this.ignoreCase) {
      throw new Unsupported(`negated Unicode class \\P{${name}} is not supported with (?i)`);
    }
    if (name === 'C') {
      return negated ? { standalone: `[^${RE2_C}]` } : { inClass: RE2_C, standalone: `[${RE2_C}]` };
    }
    const property = name === 'Any' || GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
    const src = `\\${negated ? 'P' : 'p'}{${property}}`;
    return { inClass: src, standalone: src };
  }

  /** A single character written with a backslash (the backslash already consumed). */
  private charEscape(): number {
    const c = this.next();
    switch (c) {
      case 'a':
        return 0x07;
      case 'f':
        return 0x0c;
      case 't':
        return 0x09;
      case 'n':
        return 0x0a;
      case 'r':
        return 0x0d;
      case 'v':
        return 0x0b;
      case 'x':
        return this.hexEscape();
    }
    if (c >= '0' && c <= '7') {
      // RE2: \0 or \1-\7 followed by another octal digit; up to three digits in all.
      let digits = c;
      while (digits.length < 3 && /[0-7]/.test(this.peek() ?? '')) digits += this.next();
      if (digits.length === 1 && c !== '0') throw new Unsupported(`backreference \\${c} is not RE2`);
      return parseInt(digits, 8);
    }
    const cp = c.codePointAt(0)!;
    if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) return cp; // escaped punctuation
    throw new Unsupported(`unsupported escape \\${c}`);
  }

  private hexEscape(): number {
    let hex = '';
    if (this.peek() === '{') {
      this.pos++;
      for (let c = this.next(); c !== '}'; c = this.next()) hex += c;
    } else {
      hex = this.next() + this.next();
    }
    const cp = /^[0-9A-Fa-f]+$/.test(hex) ? parseInt(hex, 16) : NaN;
    if (!(cp <= MAX_CP)) throw new Unsupported(`bad hex escape \\x${hex}`);
    return cp;
  }

  /** [...] after the `[`; RE2 (Perl mode): a leading ] is literal, `-` is literal where it can't form a range. */
  private charClass(): string {
    const negated = this.peek() === '^';
    if (negated) this.pos++;
    let body = '';
    for (let first = true; ; first = false) {
      const c = this.peek();
      if (c === undefined) throw new Unsupported('missing ] in character class');
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      body += this.classItem();
    }
    return negated ? `[^${body}]` : `[${body}]`;
  }

  private classItem(): string {
    if (this.peek() === '[' && this.peek(1) === ':') {
      const posix = this.posixClass();
      if (posix !== undefined) return posix;
    }
    if (this.peek() === '\\') {
      this.pos++;
      const piece = this.classEscape();
      if (piece) {
        if (piece.inClass === undefined) throw new Unsupported('this class can only be used outside [...]');
        return piece.inClass;
      }
      this.pos--;
    }
    const lo = this.classChar();
    if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
      this.pos++;
      const hi = this.classChar();
      return `${classLiteral(lo)}-${classLiteral(hi)}`;
    }
    return classLiteral(lo);
  }

  private classChar(): number {
    const c = this.next();
    if (c !== '\\') return c.codePointAt(0)!;
    return this.charEscape();
  }

  /** [:name:] or [:^name:] inside a class; undefined (and nothing consumed) when it isn't one. */
  private posixClass(): string | undefined {
    const rest = this.cps.slice(this.pos).join('');
    const m = /^\[:(\^?)([a-z]+):\]/.exec(rest);
    if (!m) return undefined;
    const ranges = POSIX[m[2]!];
    if (!ranges) throw new Unsupported(`unknown POSIX class [:${m[2]}:]`);
    const negated = m[1] === '^';
    if (negated && this.ignoreCase) throw new Unsupported(`negated POSIX class [:^${m[2]}:] is not supported with (?i)`);
    this.pos += Array.from(m[0]).length;
    return rangesPiece(ranges, negated).inClass;
  }
}

function rangesPiece(ranges: readonly Range[], negated: boolean): ClassPiece {
  const body = (negated ? complement(ranges) : ranges)
    .map(([lo, hi]) => (lo === hi ? classLiteral(lo) : `${classLiteral(lo)}-${classLiteral(hi)}`))
    .join('');
  return { inClass: body, standalone: `[${body}]` };
}

function complement(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

/** A code point as a JS (u-mode) pattern literal outside a class. */
function literal(cp: number): string {
  if (cp >= 0x20 && cp <= 0x7e) {
    const c = String.fromCodePoint(cp);
    return '^$\\.*+?()[]{}|/'.includes(c) ? `\\${c}` : c;
  }
  return `\\u{${cp.toString(16)}}`;
}

/** A code point as a JS (u-mode) literal inside [...]. */
function classLiteral(cp: number): string {
  if (cp >= 0x20 && cp <= 0x7e) {
    const c = String.fromCodePoint(cp);
    return '\\]^-['.includes(c) ? `\\${c}` : c;
  }
  return `\\u{${cp.toString(16)}}`;
}
