// Bookinfo's reviews service (the original is Java on Liberty). One program, three versions, chosen by env
// as the original images do:
//   v1  ENABLE_RATINGS=false                  reviews only
//   v2  ENABLE_RATINGS=true STAR_COLOR=black  reviews with black stars from ratings
//   v3  ENABLE_RATINGS=true STAR_COLOR=red    reviews with red stars from ratings
import { getJson, serviceBase } from './lib/mesh-http.mjs';
import { TRACE_HEADERS, pickHeaders } from './lib/propagation.mjs';
import { sendJson, sendText, serve } from './lib/service.mjs';

const ratingsEnabled = (process.env.ENABLE_RATINGS ?? '').toLowerCase() === 'true';
const starColor = process.env.STAR_COLOR ?? 'black';
// The original's client timeouts: 10 s for black stars, 2.5 s for red. Istio's fault-injection task relies on
// that difference (a 7 s ratings delay breaks v3's stars but not v2's).
const ratingsTimeoutMs = starColor === 'black' ? 10_000 : 2_500;
const ratingsService = `${serviceBase('ratings')}/ratings`;
const podname = process.env.HOSTNAME ?? '';
// The original prints an unset CLUSTER_NAME as "null".
const clustername = process.env.CLUSTER_NAME ?? 'null';
const PROPAGATED = [...TRACE_HEADERS, 'end-user', 'user-agent'];

const REVIEWS = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' },
];

serve('reviews', async (req, res, url) => {
  if (req.method !== 'GET') return sendText(res, 405, 'Method Not Allowed\n');
  if (url.pathname === '/health') return sendJson(res, 200, { status: 'Reviews is healthy' });
  const match = /^\/reviews\/(-?\d+)$/.exec(url.pathname);
  const id = match ? Number(match[1]) : NaN;
  // The original's product id is a Java int path parameter: anything else is not found.
  if (!(Math.abs(id) <= 2 ** 31 - 1)) return sendText(res, 404, 'Not Found\n');
  const productId = String(id);
  const stars = ratingsEnabled ? await ratingsFor(productId, req.headers) : undefined;
  sendJson(res, 200, {
    id: productId,
    podname,
    clustername,
    reviews: REVIEWS.map((r) => (ratingsEnabled ? { ...r, rating: ratingOf(stars?.[r.reviewer]) } : { ...r })),
  });
});

/** Reviewer -> stars from the ratings service, or undefined when it can't be reached or fails. */
async function ratingsFor(productId, incoming) {
  const url = `${ratingsService}/${productId}`;
  try {
    const { status, json } = await getJson(url, pickHeaders(incoming, PROPAGATED), ratingsTimeoutMs);
    if (status === 200 && json?.ratings && typeof json.ratings === 'object') return json.ratings;
    console.log(`Error: unable to contact ${url} got status of ${status}`);
  } catch (err) {
    console.error(`Error: unable to contact ${url} got exception ${err.message}`);
  }
  return undefined;
}

function ratingOf(stars) {
  return Number.isInteger(stars) ? { stars, color: starColor } : { error: 'Ratings service is currently unavailable' };
}
