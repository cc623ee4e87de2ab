// A small fortio (fortio.org, the load client of Istio's circuit-breaking task) in Node:
//
//   fortio load [-c 4] [-qps 8] [-n CALLS | -t 5s] [-loglevel Info] [-H 'Name: value']... URL
//   fortio curl [-quiet] [-H 'Name: value']... URL
//   fortio server [-http-port 8080]
//
// `load` runs -c connections (kept alive, one request at a time on each) making -n calls in all (-n wins over -t,
// as in fortio), or calling for -t, at -qps in total (0 = as fast as each connection goes), through the pod's sidecar, and prints fortio's
// summary: the time percentiles and a `Code 200 : 17 (85.0 %)` line per status (`Code -1` for a failed
// connection). `curl` prints one response, headers then body (exit 1 unless it is 2xx). `server` answers any
// request with 200 and the request body (fortio's echo), on $POD_IP:$PORT: it is what the fortio pod runs, so the
// pod stays up for `trellis exec`.
import { availableParallelism } from 'node:os';
import { Agent, createServer, request } from 'node:http';
import { requestOptions, send } from './lib/outbound.mjs';

const VERSION = '1.x-trellis-example';
const LEVELS = ['Debug', 'Verbose', 'Info', 'Warning', 'Error', 'Critical', 'Fatal'];

const USAGE = `usage: fortio load [-c 4] [-qps 8] [-n CALLS | -t 5s] [-loglevel Info] [-H 'Name: value']... URL
       fortio curl [-quiet] [-H 'Name: value']... URL
       fortio server [-http-port 8080]`;

/** The flags each command takes: the kind of value (Go's flag package syntax: -name value, -name=value). */
const FLAGS = {
  load: { c: 'int', qps: 'number', n: 'int', t: 'duration', loglevel: 'level', H: 'list', timeout: 'duration' },
  curl: { quiet: 'bool', loglevel: 'level', H: 'list', timeout: 'duration' },
  server: { 'http-port': 'int', loglevel: 'level' },
};

class UsageError extends Error {}

/** Parses `-name value` flags up to the first argument that isn't one; returns [flags, positionals]. */
function parseFlags(command, argv) {
  const spec = FLAGS[command];
  const flags = { H: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const [rawName, inline] = arg.replace(/^--?/, '').split(/=(.*)/s, 2);
    const kind = spec[rawName];
    if (!kind) throw new UsageError(`flag provided but not defined: -${rawName}`);
    if (kind === 'bool') {
      flags[rawName] = inline === undefined ? true : inline === 'true';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`flag needs an argument: -${rawName}`);
    flags[rawName] = flagValue(rawName, kind, value, flags[rawName]);
  }
  return [flags, argv.slice(i)];
}

function flagValue(name, kind, text, previous) {
  if (kind === 'list') return [...(previous ?? []), text];
  if (kind === 'level') {
    const level = LEVELS.find((l) => l.toLowerCase() === text.toLowerCase());
    if (!level) throw new UsageError(`invalid value "${text}" for flag -${name}: one of ${LEVELS.join(', ')}`);
    return LEVELS.indexOf(level);
  }
  if (kind === 'duration') {
    const ms = durationMs(text);
    if (ms === undefined) throw new UsageError(`invalid value "${text}" for flag -${name}: parse error (a duration such as 5s, 1m30s, 250ms)`);
    return ms;
  }
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || (kind === 'int' && !Number.isInteger(n))) {
    throw new UsageError(`invalid value "${text}" for flag -${name}: parse error`);
  }
  return n;
}

/** Go's time.ParseDuration for h, m, s, ms, us, ns (a bare 0 is allowed). */
function durationMs(text) {
  if (text === '0') return 0;
  const unit = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]], 0);
}

function headerList(flags) {
  const out = { 'user-agent': `fortio.org/fortio-${VERSION}` };
  for (const h of flags.H) {
    const at = h.indexOf(':');
    if (at <= 0) throw new UsageError(`invalid -H "${h}": expected "Name: value"`);
    out[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
  }
  return out;
}

function targetUrl(positionals) {
  if (positionals.length !== 1) throw new UsageError('exactly one URL is required');
  let url;
  try {
    url = new URL(positionals[0].includes('://') ? positionals[0] : `http://${positionals[0]}`);
  } catch {
    throw new UsageError(`invalid URL ${positionals[0]}`);
  }
  if (url.protocol !== 'http:') throw new UsageError(`${url.href}: only http:// URLs are supported`);
  return url;
}

/** fortio's log line: `10:00:03 W http_client.go> message`, shown from `minLevel` up. */
function logger(minLevel) {
  return (level, message) => {
    if (level < minLevel) return;
    const t = new Date().toISOString().slice(11, 19);
    process.stderr.write(`${t} ${LEVELS[level][0]} ${message}\n`);
  };
}

// ---- load ----

/** One call's outcome: status (-1 when the connection failed), seconds, and bytes of the body. */
async function load(flags, positionals) {
  const url = targetUrl(positionals);
  const conns = Math.max(1, flags.c ?? 4);
  const qps = flags.qps ?? 8;
  const calls = flags.n;
  const durationMs = calls === undefined ? (flags.t ?? 5000) : undefined;
  const log = logger(flags.loglevel ?? 2);
  const headers = headerList(flags);
  const timeoutMs = flags.timeout ?? 3000;
  const procs = availableParallelism();

  const plan = calls !== undefined ? `for ${calls} calls` : durationMs > 0 ? `for ${formatDuration(durationMs)}` : 'until interrupted';
  console.log(`Fortio ${VERSION} running at ${qps} queries per second, ${procs}->${procs} procs, ${plan}: ${url.href}`);
  const perThread = calls !== undefined ? Math.floor(calls / conns) : undefined;
  const extra = calls !== undefined ? calls % conns : 0;
  const pace = qps > 0 ? `${qps} qps` : 'max qps';
  const exactly = calls !== undefined ? `for exactly ${calls} calls (${perThread} per thread + ${extra})` : plan;
  console.log(`Starting at ${pace} with ${conns} thread(s) [gomax ${procs}] ${exactly}`);

  const results = [];
  const sockets = new Set();
  const started = performance.now();
  const deadline = durationMs > 0 ? started + durationMs : Infinity;
  let interrupted = false;
  process.once('SIGINT', () => (interrupted = true));
  const worker = async (index) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const mine = calls !== undefined ? perThread + (index < extra ? 1 : 0) : Infinity;
    const gapMs = qps > 0 ? (1000 * conns) / qps : 0;
    for (let i = 0; i < mine && !interrupted; i++) {
      // A call is made only if its slot (its start time at -qps) comes before the end of -t.
      const slot = started + i * gapMs;
      if (Math.max(slot, performance.now()) >= deadline) break;
      if (gapMs) await sleepUntil(slot);
      const result = await call(url, { agent, headers, timeoutMs }, sockets);
      if (result.status !== 200) log(3, result.status < 0 ? `http_client.go> ${result.error}` : `http_client.go> Parsed non ok code ${result.status} (HTTP/1.1 ${result.status})`);
      results.push(result);
    }
    agent.destroy();
  };
  await Promise.all(Array.from({ length: conns }, (_, i) => worker(i)));
  const elapsedMs = performance.now() - started;
  printSummary(results, elapsedMs, conns, sockets.size);
}

function call(url, { agent, headers, timeoutMs }, sockets) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const done = (status, bytes, error) => resolve({ status, seconds: (performance.now() - t0) / 1000, bytes, error });
    const req = request(requestOptions(url, { headers, agent }), (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => done(res.statusCode, bytes));
      res.on('error', (e) => done(-1, bytes, e.message));
    });
    req.on('socket', (s) => sockets.add(s));
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (e) => done(-1, 0, `${e.code ?? ''} ${e.message}`.trim()));
    req.end();
  });
}

function printSummary(results, elapsedMs, conns, socketsUsed) {
  const n = results.length;
  const secs = results.map((r) => r.seconds).sort((a, b) => a - b);
  const sum = secs.reduce((s, v) => s + v, 0);
  const avg = n ? sum / n : 0;
  const sd = n ? Math.sqrt(secs.reduce((s, v) => s + (v - avg) ** 2, 0) / n) : 0;
  const qps = n / (elapsedMs / 1000);
  console.log(`Ended after ${formatDuration(elapsedMs)} : ${n} calls. qps=${round(qps, 5)}`);
  console.log(`Aggregated Function Time : count ${n} avg ${round(avg, 7)} +/- ${round(sd, 4)} min ${round(secs[0] ?? 0, 7)} max ${round(secs.at(-1) ?? 0, 7)} sum ${round(sum, 6)}`);
  for (const p of [50, 75, 90, 99, 99.9]) console.log(`# target ${p}% ${round(percentile(secs, p), 6)}`);
  console.log(`Sockets used: ${socketsUsed} (for perfect keepalive, would be ${conns})`);
  const codes = new Map();
  for (const r of results) codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
  for (const [code, count] of [...codes].sort((a, b) => a[0] - b[0])) {
    console.log(`Code ${code} : ${count} (${((100 * count) / n).toFixed(1)} %)`);
  }
  const bytes = results.map((r) => r.bytes);
  const bytesSum = bytes.reduce((s, v) => s + v, 0);
  console.log(`Response Body Sizes : count ${n} avg ${round(n ? bytesSum / n : 0, 4)} min ${n ? Math.min(...bytes) : 0} max ${n ? Math.max(...bytes) : 0} sum ${bytesSum}`);
  console.log(`All done ${n} calls (plus 0 warmup) ${(avg * 1000).toFixed(3)} ms avg, ${qps.toFixed(1)} qps`);
}

/** The value below which p% of the sorted samples fall (linear between neighbours). */
function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

const round = (v, digits) => Number(v.toPrecision(Math.max(1, digits)));

function formatDuration(ms) {
  return ms >= 1000 ? `${round(ms / 1000, 6)}s` : `${round(ms, 6)}ms`;
}

function sleepUntil(t) {
  const wait = t - performance.now();
  return wait > 0 ? new Promise((r) => setTimeout(r, wait)) : Promise.resolve();
}

// ---- curl ----

async function curl(flags, positionals) {
  const url = targetUrl(positionals);
  const res = await send(url, { headers: headerList(flags), timeoutMs: flags.timeout ?? 3000 });
  if (!flags.quiet) process.stderr.write(`${new Date().toISOString().slice(11, 19)} I fortio curl ${url.href}\n`);
  let head = `HTTP/${res.httpVersion} ${res.status} ${res.statusText}\r\n`;
  for (let i = 0; i < res.rawHeaders.length; i += 2) head += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  process.stdout.write(`${head}\r\n`);
  process.stdout.write(res.body);
  return res.status >= 200 && res.status < 300 ? 0 : 1;
}

// ---- server ----

function server(flags) {
  const host = process.env.POD_IP || '127.0.0.1';
  const port = flags['http-port'] ?? Number(process.env.PORT || 8080);
  const srv = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'text/plain', 'content-length': body.length });
      res.end(body);
    });
  });
  srv.listen(port, host, () => console.log(`Fortio ${VERSION} echo server listening on http://${host}:${port}`));
  process.on('SIGTERM', () => {
    srv.close(() => process.exit(0));
    srv.closeIdleConnections();
  });
}

// ---- main ----

const COMMANDS = { load, curl, server };

async function main(argv) {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '-h' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  if (!COMMANDS[command]) throw new UsageError(`unknown command ${command}`);
  const [flags, positionals] = parseFlags(command, rest);
  if (command === 'server') {
    if (positionals.length) throw new UsageError(`server takes no arguments (got ${positionals.join(' ')})`);
    server(flags);
    return undefined;
  }
  return COMMANDS[command](flags, positionals);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(err instanceof UsageError ? `fortio: ${err.message}\n${USAGE}\n` : `fortio: ${err.message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
