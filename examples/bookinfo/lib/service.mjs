// The HTTP server every Bookinfo app runs: listens on $POD_IP:$PORT (what `trellis up` sets, as a pod would bind
// its own address), answers JSON or text, and stops cleanly on SIGTERM.
import { createServer } from 'node:http';

/** Logs every request when set; by default the apps only log failures, so `trellis up` stays readable. */
const LOG_REQUESTS = process.env.LOG_REQUESTS === 'true' || process.env.LOG_REQUESTS === '1';

/**
 * Runs `handler(req, res, url)` for each request. A handler may be async; what it throws becomes a 500.
 * Returns the server, already listening.
 */
export function serve(name, handler) {
  const host = process.env.POD_IP || '127.0.0.1';
  const port = Number(process.env.PORT || 9080);
  const server = createServer((req, res) => {
    if (LOG_REQUESTS) console.log(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://localhost');
    Promise.resolve()
      .then(() => handler(req, res, url))
      .catch((err) => {
        console.error(`${name}: ${req.method} ${req.url} failed: ${err?.stack ?? err}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
  });
  server.listen(port, host, () => console.log(`${name} listening on http://${host}:${port}`));
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    // Requests still in flight (a slow upstream) get a moment, then the process goes anyway.
    setTimeout(() => process.exit(0), 2000).unref();
  });
  return server;
}

export function sendJson(res, status, value) {
  send(res, status, 'application/json', JSON.stringify(value));
}

export function sendText(res, status, text, contentType = 'text/plain; charset=utf-8') {
  send(res, status, contentType, text);
}

function send(res, status, contentType, body) {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The request body as text, at most `limit` bytes (a login form is tiny). */
export function readBody(req, limit = 64 * 1024) {
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
