// Bookinfo's productpage (the original is Python/Flask): the page users see, built from the details and reviews
// services, plus the JSON API, the login session and the static files. It calls the others as the original
// does: details once, reviews up to twice (the original's deliberate retry, which Istio's fault-injection task
// shows off), each call with a 3 s deadline, forwarding the trace headers and the signed-in user as `end-user`.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getJson, serviceBase } from './lib/mesh-http.mjs';
import { renderIndex, renderProductPage } from './lib/page.mjs';
import { TRACE_HEADERS, pickHeaders } from './lib/propagation.mjs';
import { readBody, sendJson, sendText, serve } from './lib/service.mjs';
import { clearedSessionCookie, readSession, sessionCookie } from './lib/session.mjs';

/** The original's requests timeout (3 s); SERVICE_TIMEOUT_MS changes it (tests use a short one). */
const TIMEOUT_MS = Number(process.env.SERVICE_TIMEOUT_MS || 3000);
/** Attempts at reviews: the original tries twice ("bug introduced explicitly for illustration"). */
const REVIEWS_ATTEMPTS = 2;
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const CONTENT_TYPES = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon' };

const details = serviceBase('details');
const reviews = serviceBase('reviews');
const ratings = serviceBase('ratings');
/** What goes from the page's request to details and reviews, besides `end-user` (the original's list). */
const FORWARDED = [...TRACE_HEADERS, 'user-agent', 'cookie', 'authorization', 'jwt'];

const PRODUCTS = [
  {
    id: 0,
    title: 'The Comedy of Errors',
    descriptionHtml:
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.',
  },
];

/** GET routes: exact paths, then `/api/v1/products/<id>[/reviews|/ratings]`, then `/static/`. */
const PAGES = {
  '/': index,
  '/index.html': index,
  '/health': (req, res) => sendText(res, 200, 'Product page is healthy'),
  '/productpage': productPage,
  '/logout': logout,
  '/api/v1/products': (req, res) => sendJson(res, 200, PRODUCTS),
};
const PRODUCT_API = /^\/api\/v1\/products\/([^/]+)(?:\/(reviews|ratings))?$/;

serve('productpage', (req, res, url) => {
  if (url.pathname === '/login') return req.method === 'POST' ? login(req, res, url) : notAllowed(res);
  const isGet = req.method === 'GET' || req.method === 'HEAD';
  const page = PAGES[url.pathname];
  if (page) return isGet ? page(req, res, url) : notAllowed(res);
  const api = PRODUCT_API.exec(url.pathname);
  const id = api ? decoded(api[1]) : undefined;
  if (id !== undefined) return isGet ? productApi(req, res, id, api[2]) : notAllowed(res);
  if (url.pathname.startsWith('/static/')) return isGet ? staticFile(res, url.pathname) : notAllowed(res);
  sendText(res, 404, 'Not Found\n');
});

function index(req, res) {
  const html = renderIndex([
    { name: 'productpage', url: `${serviceBase('productpage')}/productpage`, calls: ['details', 'reviews'] },
    { name: 'details', url: `${details}/details`, calls: [] },
    { name: 'reviews', url: `${reviews}/reviews`, calls: ['ratings'] },
    { name: 'ratings', url: `${ratings}/ratings`, calls: [] },
  ]);
  sendText(res, 200, html, 'text/html; charset=utf-8');
}

async function productPage(req, res) {
  const session = readSession(req);
  const headers = forwardHeaders(req, session);
  const [detailsStatus, detailsBody] = await productDetails(0, headers);
  const [reviewsStatus, reviewsBody] = await productReviews(0, headers);
  const html = renderProductPage({
    product: PRODUCTS[0],
    user: session.user ?? '',
    detailsStatus,
    details: detailsBody,
    reviewsStatus,
    reviews: reviewsBody,
  });
  sendText(res, 200, html, 'text/html; charset=utf-8');
}

async function productApi(req, res, id, what) {
  const headers = forwardHeaders(req, readSession(req));
  const fetch = what === 'reviews' ? productReviews : what === 'ratings' ? productRatings : productDetails;
  const [status, body] = await fetch(id, headers);
  sendJson(res, status, body);
}

/** The signed-in user as `end-user` (never the caller's own end-user header), then the original's list. */
function forwardHeaders(req, session) {
  const headers = {};
  if (typeof session.user === 'string') headers['end-user'] = session.user;
  return pickHeaders(req.headers, FORWARDED, headers);
}

function productDetails(id, headers) {
  return call(`${details}/details/${encodeURIComponent(id)}`, headers, 1, 'Sorry, product details are currently unavailable for this book.');
}

function productReviews(id, headers) {
  return call(`${reviews}/reviews/${encodeURIComponent(id)}`, headers, REVIEWS_ATTEMPTS, 'Sorry, product reviews are currently unavailable for this book.');
}

function productRatings(id, headers) {
  return call(`${ratings}/ratings/${encodeURIComponent(id)}`, headers, 1, 'Sorry, product ratings are currently unavailable for this book.');
}

/**
 * `[200, json]` from the first attempt that answers 200 with JSON; otherwise `[status, { error }]` with the last
 * attempt's status (500 when it got no answer), as the original reports it.
 */
async function call(url, headers, attempts, errorText) {
  let status = 500;
  for (let n = 0; n < attempts; n++) {
    try {
      const res = await getJson(url, headers, TIMEOUT_MS);
      if (res.status === 200 && res.json !== undefined) return [200, res.json];
      status = res.status === 200 ? 500 : res.status;
      console.error(`productpage: GET ${url}: status ${res.status}`);
    } catch (err) {
      status = 500;
      console.error(`productpage: GET ${url}: ${err.message}`);
    }
  }
  return [status, { error: errorText }];
}

/** POST /login (form field `username`): remembers the user in the session and goes back where it came from. */
async function login(req, res, url) {
  const form = new URLSearchParams(await readBody(req));
  const user = form.get('username') ?? url.searchParams.get('username') ?? '';
  // The name travels as the end-user header: keep it to what a header can carry.
  if (!/^[\x20-\x7e]*$/.test(user)) return sendText(res, 400, 'username must be printable ASCII\n');
  redirectBack(req, res, user ? sessionCookie({ user }) : clearedSessionCookie());
}

function logout(req, res) {
  redirectBack(req, res, clearedSessionCookie());
}

/** 302 to the Referer like the original (to /productpage when there is none). */
function redirectBack(req, res, cookie) {
  const location = req.headers.referer || '/productpage';
  res.writeHead(302, { location, 'set-cookie': cookie, 'content-length': 0 });
  res.end();
}

/** A file under static/ (never outside it), for the types the page uses. */
async function staticFile(res, pathname) {
  const name = decoded(pathname.slice('/static/'.length));
  const file = name === undefined ? undefined : resolve(STATIC_DIR, name);
  const inside = file !== undefined && file.startsWith(STATIC_DIR.endsWith(sep) ? STATIC_DIR : STATIC_DIR + sep);
  const type = inside ? CONTENT_TYPES[extname(file)] : undefined;
  const info = type ? await stat(file).catch(() => undefined) : undefined;
  if (!info?.isFile()) return sendText(res, 404, 'Not Found\n');
  res.writeHead(200, { 'content-type': type, 'content-length': info.size, 'cache-control': 'max-age=300' });
  createReadStream(file).pipe(res);
}

/** A percent-decoded path segment, or undefined when it isn't valid percent-encoding. */
function decoded(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function notAllowed(res) {
  sendText(res, 405, 'Method Not Allowed\n');
}
