// Calls hello in a loop at a bounded rate, through the pod's sidecar, and prints every second how the calls
// of the last WINDOW_SECONDS split across versions: with routing.yaml's weights, about 90% v1 and 10% v2.
import { Agent, request } from 'node:http';

const target = new URL(process.env.TARGET ?? 'http://hello.canary:8080/');
// The sidecar's outbound listener, as injection sets it (Node's http ignores HTTP_PROXY on its own).
const proxyUrl = process.env.TRELLIS_OUTBOUND || process.env.HTTP_PROXY;
const proxy = proxyUrl ? new URL(proxyUrl) : undefined;
const rate = Math.max(1, Number(process.env.RATE ?? 10));
const windowMs = 1000 * Math.max(1, Number(process.env.WINDOW_SECONDS ?? 10));
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** { at, version } or { at, error }, oldest first, trimmed to the window. */
const results = [];
let stopping = false;

function call() {
  return new Promise((resolve) => {
    const req = request(
      {
        host: proxy ? proxy.hostname : target.hostname,
        port: Number(proxy ? proxy.port || 80 : target.port || 80),
        // An HTTP proxy gets the absolute form: GET http://hello.canary:8080/ HTTP/1.1
        path: proxy ? target.href : target.pathname + target.search,
        headers: { host: target.host },
        agent,
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) {
            const flags = res.headers['x-trellis-response-flags'] ?? res.headers['x-envoy-response-flags'];
            return resolve({ error: `HTTP ${res.statusCode}${flags ? ` ${flags}` : ''}` });
          }
          try {
            resolve({ version: JSON.parse(body).version ?? 'unknown' });
          } catch {
            resolve({ error: 'not JSON' });
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

async function loop() {
  const gap = 1000 / rate;
  while (!stopping) {
    const started = Date.now();
    results.push({ at: Date.now(), ...(await call()) });
    await new Promise((r) => setTimeout(r, Math.max(0, gap - (Date.now() - started))));
  }
}

function report() {
  const since = Date.now() - windowMs;
  while (results.length && results[0].at < since) results.shift();
  const counts = {};
  let errors = 0;
  let lastError;
  for (const r of results) {
    if (r.error) {
      errors++;
      lastError = r.error;
    } else counts[r.version] = (counts[r.version] ?? 0) + 1;
  }
  const ok = results.length - errors;
  const split = Object.keys(counts)
    .sort()
    .map((v) => `${v} ${((100 * counts[v]) / ok).toFixed(0)}% (${counts[v]})`)
    .join('  ');
  const errorText = errors ? `  errors ${errors} (${lastError})` : '';
  console.log(`${target.host} last ${windowMs / 1000}s: ${ok ? split : 'no answers yet'}${errorText}`);
}

const timer = setInterval(report, 1000);
process.on('SIGTERM', () => {
  stopping = true;
  clearInterval(timer);
  agent.destroy();
  process.exit(0);
});
console.log(`calling ${target.href} ${rate}/s ${proxy ? `through the sidecar at ${proxy.host}` : 'directly (no sidecar)'}`);
loop();
