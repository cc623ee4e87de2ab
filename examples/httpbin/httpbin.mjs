// httpbin (httpbin.org, the backend of Istio's circuit-breaking and mirroring tasks) in Node: the endpoints those
// tasks call, answering JSON shaped like the original's (header names in Title-Case, one string per header).
// Listens on $POD_IP:$PORT (what `trellis up` sets). Every request is written to stdout as an access-log line in
// gunicorn's format (the task runs `gunicorn --access-logfile -`) followed by the request's Host header, so a
// mirrored request (`Host: httpbin-shadow:8000`) is told apart from a routed one.
import { createServer } from 'node:http';
import { hostname } from 'node:os';

const host = process.env.POD_IP || '127.0.0.1';
const port = Number(process.env.PORT || 8080);
/** go-httpbin's USE_REAL_HOSTNAME: /hostname tells which pod answered (else the fixed name httpbin does). */
const realHostname = process.env.USE_REAL_HOSTNAME === 'true';
const MAX_DELAY_SECONDS = 10;

const server = createServer((req, res) => {
  const started = new Date();
  let sent = 0;
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  // The access log needs the body size as sent.
  res.write = (chunk, ...rest) => ((sent += chunkLength(chunk)), write(chunk, ...rest));
  res.end = (chunk, ...rest) => ((sent += chunkLength(chunk)), end(chunk, ...rest));
  res.on('finish', () => console.log(accessLogLine(req, res.statusCode, sent, started)));
  readBody(req)
    .then((body) => route(req, res, body))
    .catch((err) => {
      console.error(`httpbin: ${req.method} ${req.url}: ${err?.message ?? err}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
});

server.listen(port, host, () => console.error(`httpbin listening on http://${host}:${port}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2000).unref();
});

/** One endpoint per path, as httpbin names them; anything else is 404. */
async function route(req, res, body) {
  const url = new URL(req.url ?? '/', 'http://httpbin');
  const path = url.pathname;
  if (path === '/' || path === '') return sendText(res, 200, 'httpbin (Trellis example): /get /headers /ip /user-agent /anything /status/:code /delay/:n /hostname\n');
  if (path === '/get') return sendJson(res, 200, { args: args(url), headers: headers(req), origin: origin(req), url: fullUrl(req, url) });
  if (path === '/headers') return sendJson(res, 200, { headers: headers(req) });
  if (path === '/ip') return sendJson(res, 200, { origin: origin(req) });
  if (path === '/user-agent') return sendJson(res, 200, { 'user-agent': req.headers['user-agent'] ?? null });
  if (path === '/hostname') return sendJson(res, 200, { hostname: realHostname ? process.env.HOSTNAME || hostname() : 'go-httpbin' });
  if (path === '/anything' || path.startsWith('/anything/')) return sendJson(res, 200, anything(req, url, body));
  const status = /^\/status\/([^/]+)$/.exec(path);
  if (status) return statusReply(res, status[1]);
  const delay = /^\/delay\/([^/]+)$/.exec(path);
  if (delay) {
    const seconds = Number(delay[1]);
    if (!Number.isFinite(seconds) || seconds < 0) return sendJson(res, 400, { error: `invalid delay ${delay[1]}` });
    await new Promise((r) => setTimeout(r, Math.min(seconds, MAX_DELAY_SECONDS) * 1000));
    const { args: a, data, files, form, headers: h, origin: o, url: u } = anything(req, url, body);
    return sendJson(res, 200, { args: a, data, files, form, headers: h, origin: o, url: u });
  }
  sendText(res, 404, 'Not Found\n');
}

/** /anything: everything httpbin knows about the request. */
function anything(req, url, body) {
  const type = req.headers['content-type'] ?? '';
  let json = null;
  let form = {};
  if (type.includes('application/json')) {
    try {
      json = JSON.parse(body);
    } catch {
      json = null;
    }
  } else if (type.includes('application/x-www-form-urlencoded')) {
    form = Object.fromEntries(new URLSearchParams(body));
  }
  return { args: args(url), data: form && Object.keys(form).length ? '' : body, files: {}, form, headers: headers(req), json, method: req.method, origin: origin(req), url: fullUrl(req, url) };
}

/** /status/418, or /status/200,503 (a random one), or /status/200:0.9,503:0.1 (weighted), as httpbin does. */
function statusReply(res, spec) {
  const choices = spec.split(',').map((c) => {
    const [code, weight] = c.split(':');
    return { code: Number(code), weight: weight === undefined ? 1 : Number(weight) };
  });
  if (choices.some((c) => !Number.isInteger(c.code) || c.code < 100 || c.code > 599 || !(c.weight >= 0))) {
    return sendJson(res, 400, { error: `invalid status ${spec}` });
  }
  const total = choices.reduce((s, c) => s + c.weight, 0);
  let pick = Math.random() * total;
  const chosen = choices.find((c) => (pick -= c.weight) < 0) ?? choices.at(-1);
  res.writeHead(chosen.code, { 'content-length': 0 });
  res.end();
}

function args(url) {
  const out = {};
  for (const [k, v] of url.searchParams) out[k] = k in out ? [].concat(out[k], v) : v;
  return out;
}

/** Request headers with httpbin's Title-Case names; repeated ones joined with a comma. */
function headers(req) {
  const out = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase().replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());
    out[name] = name in out ? `${out[name]},${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
  }
  return out;
}

/** The client's address: the first X-Forwarded-For entry when there is one, as httpbin reports it. */
function origin(req) {
  const xff = req.headers['x-forwarded-for'];
  return (typeof xff === 'string' && xff.split(',')[0].trim()) || req.socket.remoteAddress || '';
}

function fullUrl(req, url) {
  return `http://${req.headers.host ?? 'httpbin'}${url.pathname}${url.search}`;
}

/** gunicorn's default access-log format, then the Host header: `IP - - [date] "GET /x HTTP/1.1" 200 12 "-" "agent" "host"`. */
function accessLogLine(req, status, bytes, when) {
  const quoted = (v) => `"${String(v ?? '-').replace(/"/g, '\\"')}"`;
  const request = `${req.method} ${req.url} HTTP/${req.httpVersion}`;
  return `${req.socket.remoteAddress ?? '-'} - - [${gunicornDate(when)}] ${quoted(request)} ${status} ${bytes} ${quoted(req.headers.referer)} ${quoted(req.headers['user-agent'])} ${quoted(req.headers.host)}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `21/Nov/2026:10:00:03 +0000` (UTC, as in the containers of Istio's task). */
function gunicornDate(d) {
  const two = (n) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

function readBody(req, limit = 1024 * 1024) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > limit) req.destroy(new Error('request body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function chunkLength(chunk) {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return 0;
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
}

function sendJson(res, status, value) {
  send(res, status, 'application/json', `${JSON.stringify(value, null, 2)}\n`);
}

function sendText(res, status, text) {
  send(res, status, 'text/plain; charset=utf-8', text);
}

function send(res, status, contentType, body) {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
