// A small curl for pods in the mesh (the `sleep` pod of Istio's tasks runs curl): one HTTP request through the
// pod's sidecar (TRELLIS_OUTBOUND / HTTP_PROXY), the body to stdout.
//
//   curl [-s] [-S] [-i] [-v] [-f] [-X METHOD] [-H 'Name: value']... [-d DATA] [-o FILE] [-w '%{http_code}\n'] [-m SECONDS] URL
//
// Exit codes as curl's: 0 done, 2 bad option, 3 bad URL, 7 could not connect, 22 HTTP >= 400 with -f, 28 timeout.
import { writeFileSync } from 'node:fs';
import { send } from './lib/outbound.mjs';

const USAGE = "usage: curl [-s] [-S] [-i] [-v] [-f] [-X METHOD] [-H 'Name: value']... [-d DATA] [-o FILE] [-w FORMAT] [-m SECONDS] URL";

class CurlError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** Short flags may be bundled (`-sS`); a flag with a value takes the rest of its word or the next one. */
function parse(argv) {
  const o = { silent: false, showError: false, include: false, verbose: false, fail: false, method: undefined, headers: [], data: undefined, output: undefined, writeOut: undefined, maxTimeMs: undefined, url: undefined };
  const valued = { X: 'method', H: 'headers', d: 'data', o: 'output', w: 'writeOut', m: 'maxTime' };
  const long = { '--silent': 's', '--show-error': 'S', '--include': 'i', '--verbose': 'v', '--fail': 'f', '--request': 'X', '--header': 'H', '--data': 'd', '--output': 'o', '--write-out': 'w', '--max-time': 'm' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-') {
      if (o.url) throw new CurlError(2, `only one URL is supported (got ${o.url} and ${arg})`);
      o.url = arg;
      continue;
    }
    const letters = arg.startsWith('--') ? [long[arg] ?? arg] : [...arg.slice(1)];
    for (let j = 0; j < letters.length; j++) {
      const f = letters[j];
      if (valued[f]) {
        const inline = letters.slice(j + 1).join('');
        const value = inline || argv[++i];
        if (value === undefined) throw new CurlError(2, `option -${f}: requires parameter`);
        setValue(o, valued[f], value);
        break;
      }
      if (f === 's') o.silent = true;
      else if (f === 'S') o.showError = true;
      else if (f === 'i') o.include = true;
      else if (f === 'v') o.verbose = true;
      else if (f === 'f') o.fail = true;
      else throw new CurlError(2, `option ${arg}: is unknown`);
    }
  }
  if (!o.url) throw new CurlError(2, 'no URL specified');
  return o;
}

function setValue(o, key, value) {
  if (key === 'headers') o.headers.push(value);
  else if (key === 'maxTime') {
    const s = Number(value);
    if (!(s > 0)) throw new CurlError(2, `option -m: expected a positive number of seconds`);
    o.maxTimeMs = s * 1000;
  } else o[key] = value;
}

/** The parsed options, for the error report (-s hides errors unless -S). */
let parsed;

async function main(argv) {
  const o = (parsed = parse(argv));
  let url;
  try {
    url = new URL(o.url.includes('://') ? o.url : `http://${o.url}`);
  } catch {
    throw new CurlError(3, `URL rejected: Malformed input to a URL function`);
  }
  if (url.protocol !== 'http:') throw new CurlError(1, `Protocol "${url.protocol.slice(0, -1)}" not supported`);
  const headers = { 'user-agent': 'curl/8.5.0 (trellis example)', accept: '*/*' };
  for (const h of o.headers) {
    const at = h.indexOf(':');
    if (at <= 0) throw new CurlError(2, `bad header "${h}"`);
    headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
  }
  if (o.data !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(o.data));
  }
  const method = o.method ?? (o.data !== undefined ? 'POST' : 'GET');
  if (o.verbose) process.stderr.write(`> ${method} ${url.pathname}${url.search} HTTP/1.1\n> Host: ${url.host}\n${Object.entries(headers).map(([k, v]) => `> ${k}: ${v}\n`).join('')}>\n`);

  let res;
  try {
    res = await send(url, { method, headers, timeoutMs: o.maxTimeMs ?? 30_000 }, o.data);
  } catch (e) {
    const code = /no answer within/.test(e.message) ? 28 : 7;
    throw new CurlError(code, code === 28 ? `Operation timed out after ${o.maxTimeMs ?? 30_000} milliseconds` : `Failed to connect to ${url.host}: ${e.code ?? e.message}`);
  }
  let head = `HTTP/${res.httpVersion} ${res.status} ${res.statusText}\r\n`;
  for (let i = 0; i < res.rawHeaders.length; i += 2) head += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  if (o.verbose) process.stderr.write(head.split('\r\n').filter(Boolean).map((l) => `< ${l}\n`).join('') + '<\n');
  if (o.fail && res.status >= 400) throw new CurlError(22, `The requested URL returned error: ${res.status}`);
  const output = Buffer.concat([Buffer.from(o.include ? `${head}\r\n` : ''), res.body]);
  if (o.output && o.output !== '-') writeFileSync(o.output, output);
  else process.stdout.write(output);
  if (o.writeOut) process.stdout.write(o.writeOut.replace(/%\{http_code\}/g, String(res.status)).replace(/\\n/g, '\n'));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    const code = err instanceof CurlError ? err.code : 1;
    if (!parsed?.silent || parsed.showError) process.stderr.write(`curl: (${code}) ${err.message}\n${code === 2 ? `${USAGE}\n` : ''}`);
    process.exitCode = code;
  },
);
