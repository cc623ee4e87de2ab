// Bookinfo's ratings service (the original is Node too): the stars each reviewer gave, kept in memory.
// SERVICE_VERSION picks the original's failure modes, for resilience demos:
//   v-faulty      half of the requests answer 503
//   v-delayed     half of the requests answer after 7 s
//   v-unavailable 503 for a minute, then fine for a minute, and so on
//   v-unhealthy   like v-unavailable with 15-minute periods, and /health failing while unavailable
//   v2            the database-backed version: there is no database here, so it answers as the original does
//                 when it can't reach one (500)
import { readBody, sendJson, sendText, serve } from './lib/service.mjs';

const version = process.env.SERVICE_VERSION ?? 'v1';
/** Ratings added with POST, by product id. */
const added = new Map();
let unavailable = false;
let healthy = true;

if (version === 'v-unavailable') setInterval(() => (unavailable = !unavailable), 60_000).unref();
if (version === 'v-unhealthy') {
  setInterval(() => {
    healthy = !healthy;
    unavailable = !unavailable;
  }, 900_000).unref();
}

const RATINGS_PATH = /^\/ratings\/[0-9]*/;

serve('ratings', async (req, res, url) => {
  if (req.method === 'GET' && url.pathname === '/health') {
    return healthy ? sendJson(res, 200, { status: 'Ratings is healthy' }) : sendJson(res, 500, { status: 'Ratings is not healthy' });
  }
  if (!RATINGS_PATH.test(url.pathname) || (req.method !== 'GET' && req.method !== 'POST')) return sendText(res, 404, 'Page Not found');
  const productId = parseInt(url.pathname.split('/').pop(), 10);
  if (Number.isNaN(productId)) return sendJson(res, 400, { error: 'please provide numeric product ID' });
  if (req.method === 'POST') return addRatings(productId, await readBody(req), res);

  if (version === 'v2') return sendJson(res, 500, { error: 'could not connect to ratings database' });
  if (version === 'v-faulty' && Math.random() <= 0.5) return serviceUnavailable(res);
  if (version === 'v-delayed' && Math.random() <= 0.5) {
    setTimeout(() => sendJson(res, 200, ratingsOf(productId)), 7000);
    return;
  }
  if ((version === 'v-unavailable' || version === 'v-unhealthy') && unavailable) return serviceUnavailable(res);
  sendJson(res, 200, ratingsOf(productId));
});

function addRatings(productId, body, res) {
  let ratings;
  try {
    ratings = JSON.parse(body);
  } catch {
    return sendJson(res, 400, { error: 'please provide valid ratings JSON' });
  }
  if (version === 'v2') return sendJson(res, 501, { error: 'Post not implemented for database backed ratings' });
  added.set(productId, { id: productId, ratings });
  sendJson(res, 200, ratingsOf(productId));
}

function ratingsOf(productId) {
  return added.get(productId) ?? { id: productId, ratings: { Reviewer1: 5, Reviewer2: 4 } };
}

function serviceUnavailable(res) {
  sendJson(res, 503, { error: 'Service unavailable' });
}
