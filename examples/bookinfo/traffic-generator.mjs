// Loads /productpage through the ingress gateway at a steady rate (like `watch curl $GATEWAY_URL/productpage`), so
// routing rules, faults and telemetry have traffic to act on, and prints one line every REPORT_SECONDS with what
// the pages showed: which reviews version answered (v1 no stars, v2 black, v3 red), errors, HTTP failures.
//
//   GATEWAY_URL     default http://istio-ingressgateway.istio-system:80 (reached through the pod's sidecar)
//   RATE            pages per second (default 2)
//   END_USER        sign in as this user first (e.g. jason, for the `end-user` routing rules)
//   MAX_IN_FLIGHT   pages waiting for an answer at most (default 10); ticks beyond it are skipped, not queued
//   TIMEOUT_MS      per page (default 15000)
//   REPORT_SECONDS  default 10
import { httpRequest, outboundProxy } from './lib/mesh-http.mjs';

const gateway = new URL(process.env.GATEWAY_URL || 'http://istio-ingressgateway.istio-system:80');
const pageUrl = new URL('/productpage', gateway).href;
const loginUrl = new URL('/login', gateway).href;
const rate = bounded(process.env.RATE, 2, 0.1, 200);
const maxInFlight = bounded(process.env.MAX_IN_FLIGHT, 10, 1, 1000);
const timeoutMs = bounded(process.env.TIMEOUT_MS, 15_000, 100, 120_000);
const reportMs = 1000 * bounded(process.env.REPORT_SECONDS, 10, 1, 3600);
const endUser = process.env.END_USER || '';

/** Outcome -> count since the last report. */
let counts = new Map();
let inFlight = 0;
let skipped = 0;
/** The session cookie once signed in as END_USER. */
let cookie;

function bounded(text, fallback, min, max) {
  const n = Number(text);
  return text && Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

/** What a product page shows, in a word: the reviews version, or which part failed. */
function outcome(res) {
  if (res.status !== 200) {
    const flags = res.headers['x-envoy-response-flags'] ?? res.headers['x-trellis-response-flags'];
    return `HTTP ${res.status}${flags ? ` ${flags}` : ''}`;
  }
  const page = res.body;
  const parts = [];
  if (page.includes('Error fetching product details!')) parts.push('details error');
  if (page.includes('Error fetching product reviews!')) parts.push('reviews error');
  else if (page.includes('color="red"')) parts.push('v3');
  else if (page.includes('color="black"')) parts.push('v2');
  else if (page.includes('Ratings service is currently unavailable')) parts.push('ratings error');
  else parts.push('v1');
  return parts.join(' + ');
}

async function signIn() {
  try {
    const res = await httpRequest(loginUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: pageUrl },
      body: new URLSearchParams({ username: endUser }).toString(),
      timeoutMs,
    });
    const set = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('session='));
    if (res.status === 302 && set) cookie = set.split(';')[0];
    else count(`login HTTP ${res.status}`);
  } catch (err) {
    count(`login ${err.code ?? err.message}`);
  }
}

async function loadPage() {
  inFlight++;
  try {
    if (endUser && !cookie) await signIn();
    const res = await httpRequest(pageUrl, { headers: cookie ? { cookie } : {}, timeoutMs });
    count(outcome(res));
  } catch (err) {
    count(err.code ?? err.message);
  } finally {
    inFlight--;
  }
}

function count(key) {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function report() {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const detail = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const skippedText = skipped ? `, ${skipped} skipped (${maxInFlight} in flight)` : '';
  console.log(`${pageUrl} last ${reportMs / 1000}s: ${total} pages${total ? ` (${detail})` : ''}${skippedText}`);
  counts = new Map();
  skipped = 0;
}

const ticker = setInterval(() => (inFlight < maxInFlight ? void loadPage() : skipped++), 1000 / rate);
const reporter = setInterval(report, reportMs);
process.on('SIGTERM', () => {
  clearInterval(ticker);
  clearInterval(reporter);
  process.exit(0);
});
console.log(
  `loading ${pageUrl} ${rate}/s${endUser ? ` as ${endUser}` : ''} ${outboundProxy ? `through the sidecar at ${outboundProxy.host}` : 'directly (no sidecar)'}`,
);
