import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { analyzeObjects, formatIssue, loadConfigPaths, parseConfigText, type ConfigObject } from '@trellis/control';
import {
  AppProcess,
  BOOKINFO,
  ISTIO_BOOKINFO,
  RecordingProxy,
  ScriptedServer,
  count,
  http,
  reviewsShown,
  type HttpResult,
} from './bookinfo-helpers.js';

// examples/bookinfo's apps as plain processes, without the mesh: each on its own loopback IP (127.0.170.x, this
// file's range) at port 9080 like a pod, told where the others are with the originals' *_HOSTNAME variables.
const IP = (n: number) => `127.0.170.${n}`;
const STUB_IP = '127.0.171.1';

const DETAILS_JSON = {
  id: 0,
  author: 'William Shakespeare',
  year: 1595,
  type: 'paperback',
  pages: 200,
  publisher: 'PublisherA',
  language: 'English',
  'ISBN-10': '1234567890',
  'ISBN-13': '123-1234567890',
};
const REVIEW_TEXTS = [
  'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!',
  'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
];
const DETAILS_ERROR = 'Sorry, product details are currently unavailable for this book.';
const REVIEWS_ERROR = 'Sorry, product reviews are currently unavailable for this book.';
const RATINGS_ERROR = 'Ratings service is currently unavailable';

const apps: AppProcess[] = [];
async function start(script: string, ip: string, env: Record<string, string> = {}): Promise<AppProcess> {
  const app = await AppProcess.start(script, ip, env);
  apps.push(app);
  return app;
}
afterAll(async () => {
  await Promise.all(apps.map((a) => a.kill('SIGKILL')));
});

const json = (r: HttpResult) => JSON.parse(r.body);

/** Signs in through productpage's form and returns the session cookie. */
async function signIn(productpage: string, user: string): Promise<string> {
  const res = await http(`${productpage}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', referer: `${productpage}/productpage` },
    body: `username=${encodeURIComponent(user)}&passwd=x`,
  });
  expect(res.status).toBe(302);
  return String(res.headers['set-cookie']).split(';')[0]!;
}

describe('Bookinfo apps without the mesh', () => {
  let details: AppProcess;
  let ratings: AppProcess;
  const productpage: Record<'v1' | 'v2' | 'v3', AppProcess> = {} as never;

  beforeAll(async () => {
    [details, ratings] = await Promise.all([start('details.mjs', IP(2)), start('ratings.mjs', IP(3))]);
    const env = { RATINGS_HOSTNAME: IP(3) };
    await Promise.all([
      start('reviews.mjs', IP(4), { ...env, HOSTNAME: 'reviews-v1-pod', ENABLE_RATINGS: 'false' }),
      start('reviews.mjs', IP(5), { ...env, HOSTNAME: 'reviews-v2-pod', ENABLE_RATINGS: 'true', STAR_COLOR: 'black' }),
      start('reviews.mjs', IP(6), { ...env, HOSTNAME: 'reviews-v3-pod', ENABLE_RATINGS: 'true', STAR_COLOR: 'red' }),
    ]);
    const pp = (n: number) => ({ DETAILS_HOSTNAME: IP(2), RATINGS_HOSTNAME: IP(3), REVIEWS_HOSTNAME: IP(n) });
    [productpage.v1, productpage.v2, productpage.v3] = await Promise.all([
      start('productpage.mjs', IP(7), pp(4)),
      start('productpage.mjs', IP(8), pp(5)),
      start('productpage.mjs', IP(9), pp(6)),
    ]);
  });

  test('details: /details/<id> answers the original JSON, a non-numeric id 400; /health', async () => {
    expect(json(await http(`${details.url}/details/0`))).toEqual(DETAILS_JSON);
    expect(json(await http(`${details.url}/details/7`)).id).toBe(7);
    const bad = await http(`${details.url}/details/abc`);
    expect([bad.status, json(bad)]).toEqual([400, { error: 'please provide numeric product id' }]);
    expect(json(await http(`${details.url}/health`))).toEqual({ status: 'Details is healthy' });
    expect((await http(`${details.url}/nope`)).status).toBe(404);
  });

  test('ratings: /ratings/<id> answers 5 and 4 stars, POST replaces them, bad ids 400; /health', async () => {
    expect(json(await http(`${ratings.url}/ratings/0`))).toEqual({ id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
    const posted = await http(`${ratings.url}/ratings/9`, { method: 'POST', body: '{"Reviewer1":1,"Reviewer2":2}' });
    expect(json(posted)).toEqual({ id: 9, ratings: { Reviewer1: 1, Reviewer2: 2 } });
    expect(json(await http(`${ratings.url}/ratings/9`))).toEqual({ id: 9, ratings: { Reviewer1: 1, Reviewer2: 2 } });
    const bad = await http(`${ratings.url}/ratings/x`);
    expect([bad.status, json(bad)]).toEqual([400, { error: 'please provide numeric product ID' }]);
    expect(json(await http(`${ratings.url}/health`))).toEqual({ status: 'Ratings is healthy' });
  });

  test('reviews: v1 without ratings, v2 black and v3 red stars from ratings; /health', async () => {
    const v1 = json(await http(`http://${IP(4)}:9080/reviews/0`));
    expect(v1).toEqual({
      id: '0',
      podname: 'reviews-v1-pod',
      clustername: 'null',
      reviews: [
        { reviewer: 'Reviewer1', text: REVIEW_TEXTS[0] },
        { reviewer: 'Reviewer2', text: REVIEW_TEXTS[1] },
      ],
    });
    const v3 = json(await http(`http://${IP(6)}:9080/reviews/0`));
    expect(v3.reviews.map((r: any) => r.rating)).toEqual([
      { stars: 5, color: 'red' },
      { stars: 4, color: 'red' },
    ]);
    expect(json(await http(`http://${IP(5)}:9080/reviews/0`)).reviews[0].rating).toEqual({ stars: 5, color: 'black' });
    expect((await http(`http://${IP(5)}:9080/reviews/abc`)).status).toBe(404);
    expect((await http(`http://${IP(5)}:9080/reviews/99999999999`)).status).toBe(404);
    expect(json(await http(`http://${IP(5)}:9080/health`))).toEqual({ status: 'Reviews is healthy' });
  });

  test('the product page shows the details and the reviews: v1 without stars, v2 black stars, v3 red stars', async () => {
    for (const version of ['v1', 'v2', 'v3'] as const) {
      const page = await http(`${productpage[version].url}/productpage`);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('<h3 class="text-center text-primary">The Comedy of Errors</h3>');
      expect(page.body).toContain('<h4 class="text-center text-primary">Book Details</h4>');
      expect(page.body).toContain('<dt>ISBN-13:</dt><dd>123-1234567890</dd>');
      for (const text of REVIEW_TEXTS) expect(page.body).toContain(`<p>${text}</p>`);
      expect(page.body).toContain(`Reviews served by:</dt><dd class="podname">reviews-${version}-pod</dd>`);
      expect(reviewsShown(page.body)).toBe(version);
      // 5 stars for Reviewer1, 4 of 5 for Reviewer2.
      expect(count(page.body, 'glyphicon-star"')).toBe(version === 'v1' ? 0 : 9);
      expect(count(page.body, 'glyphicon-star-empty')).toBe(version === 'v1' ? 0 : 1);
      expect(page.body).not.toContain('Error fetching');
    }
  });

  test("/api/v1/products and its children answer the original's JSON", async () => {
    const pp = productpage.v2.url;
    const products = await http(`${pp}/api/v1/products`);
    expect(products.headers['content-type']).toBe('application/json');
    expect(json(products)).toEqual([{ id: 0, title: 'The Comedy of Errors', descriptionHtml: expect.stringContaining('Wikipedia Summary') }]);
    expect(json(await http(`${pp}/api/v1/products/0`))).toEqual(DETAILS_JSON);
    const reviews = json(await http(`${pp}/api/v1/products/0/reviews`));
    expect(Object.keys(reviews)).toEqual(['id', 'podname', 'clustername', 'reviews']);
    expect(reviews.reviews.map((r: any) => [r.reviewer, r.rating])).toEqual([
      ['Reviewer1', { stars: 5, color: 'black' }],
      ['Reviewer2', { stars: 4, color: 'black' }],
    ]);
    expect(json(await http(`${pp}/api/v1/products/0/ratings`))).toEqual({ id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
    // A product id details refuses: its status and the original's error text.
    const bad = await http(`${pp}/api/v1/products/abc`);
    expect([bad.status, json(bad)]).toEqual([400, { error: DETAILS_ERROR }]);
  });

  test('/, /health, /static and unknown paths', async () => {
    const pp = productpage.v1.url;
    expect((await http(`${pp}/`)).body).toContain('href="productpage?u=normal"');
    expect((await http(`${pp}/health`)).body).toBe('Product page is healthy');
    const css = await http(`${pp}/static/bookinfo.css`);
    expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);
    expect(css.body).toContain('.glyphicon-star::before');
    expect((await http(`${pp}/static/%2e%2e/productpage.mjs`)).status).toBe(404);
    expect((await http(`${pp}/static/../bookinfo.yaml`, { method: 'GET' })).status).toBe(404);
    expect((await http(`${pp}/nope`)).status).toBe(404);
    expect((await http(`${pp}/productpage`, { method: 'POST' })).status).toBe(405);
  });

  test('login keeps the user in a signed `session` cookie and goes back; logout ends it', async () => {
    const pp = productpage.v2.url;
    const login = await http(`${pp}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: `${pp}/productpage?u=normal` },
      body: 'username=jason&passwd=secret',
    });
    expect(login.status).toBe(302);
    expect(login.headers.location).toBe(`${pp}/productpage?u=normal`);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toMatch(/^session=[\w-]+\.[\w-]+$/);
    const page = await http(`${pp}/productpage`, { headers: { cookie } });
    expect(page.body).toContain('<span class="user">jason</span> ( <a href="logout">sign out</a> )');
    expect(page.body).not.toContain('name="login_form"');

    // A session someone edited is no session.
    const [payload, sig] = cookie.slice('session='.length).split('.');
    const forged = Buffer.from(JSON.stringify({ user: 'admin' })).toString('base64url');
    expect(payload).not.toBe(forged);
    const forgedPage = await http(`${pp}/productpage`, { headers: { cookie: `session=${forged}.${sig}` } });
    expect(forgedPage.body).toContain('name="login_form"');
    expect(forgedPage.body).not.toContain('admin');

    // Any replica reads the session (the signing key is shared), and names are escaped in the page.
    const other = await signIn(productpage.v3.url, '<b>eve</b>');
    expect((await http(`${productpage.v1.url}/productpage`, { headers: { cookie: other } })).body).toContain(
      '<span class="user">&lt;b&gt;eve&lt;/b&gt;</span>',
    );

    const logout = await http(`${pp}/logout`, { headers: { cookie, referer: `${pp}/productpage` } });
    expect(logout.status).toBe(302);
    expect(logout.headers.location).toBe(`${pp}/productpage`);
    expect(String(logout.headers['set-cookie'])).toMatch(/^session=; .*Max-Age=0/);
  });
});

describe('Bookinfo behind a sidecar (HTTP_PROXY)', () => {
  let proxy: RecordingProxy;
  let productpage: AppProcess;

  beforeAll(async () => {
    await Promise.all([start('details.mjs', IP(20)), start('ratings.mjs', IP(21))]);
    proxy = new RecordingProxy({ details: `${IP(20)}:9080`, ratings: `${IP(21)}:9080`, reviews: `${IP(22)}:9080` });
    const proxyUrl = await proxy.listen(STUB_IP);
    await start('reviews.mjs', IP(22), { HTTP_PROXY: proxyUrl, ENABLE_RATINGS: 'true', STAR_COLOR: 'black' });
    productpage = await start('productpage.mjs', IP(23), { HTTP_PROXY: proxyUrl });
  });
  afterAll(() => proxy?.close());

  test('calls go to the proxy in absolute form, authority = service:9080; trace headers and the signed-in user reach ratings', async () => {
    const cookie = await signIn(productpage.url, 'jason');
    proxy.requests.length = 0;
    const trace = {
      'x-request-id': 'c8d5f9a6-0000-4000-8000-000000000001',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'vendor=1',
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-sampled': '1',
      b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
      'x-ot-span-context': 'ot',
      'x-datadog-trace-id': '1',
      sw8: 'sw',
    };
    // The caller's own end-user header is never trusted: the session says who the user is.
    const page = await http(`${productpage.url}/productpage`, { headers: { ...trace, cookie, 'end-user': 'mallory' } });
    expect(reviewsShown(page.body)).toBe('v2');
    expect(proxy.requests.map((r) => [r.target, r.host])).toEqual([
      ['http://details:9080/details/0', 'details:9080'],
      ['http://reviews:9080/reviews/0', 'reviews:9080'],
      ['http://ratings:9080/ratings/0', 'ratings:9080'],
    ]);
    for (const r of proxy.requests) {
      expect(r.headers['end-user']).toBe('jason');
      for (const [name, value] of Object.entries(trace)) expect(r.headers[name], `${name} to ${r.target}`).toBe(value);
    }
    // productpage also forwards the cookie, as the original does; reviews doesn't.
    expect(proxy.requests.map((r) => r.headers.cookie)).toEqual([cookie, cookie, undefined]);
  });

  test('without a session no end-user header goes out', async () => {
    proxy.requests.length = 0;
    const page = await http(`${productpage.url}/productpage`, { headers: { 'end-user': 'jason' } });
    expect(reviewsShown(page.body)).toBe('v2');
    expect(proxy.requests).toHaveLength(3);
    expect(proxy.requests.map((r) => r.headers['end-user'])).toEqual([undefined, undefined, undefined]);
  });
});

describe('Bookinfo when services fail', () => {
  let ratings: AppProcess;
  let reviews: AppProcess;
  let productpage: AppProcess;

  beforeAll(async () => {
    [, ratings] = await Promise.all([start('details.mjs', IP(30)), start('ratings.mjs', IP(31))]);
    reviews = await start('reviews.mjs', IP(32), { RATINGS_HOSTNAME: IP(31), ENABLE_RATINGS: 'true', STAR_COLOR: 'red' });
    productpage = await start('productpage.mjs', IP(33), { DETAILS_HOSTNAME: IP(30), REVIEWS_HOSTNAME: IP(32) });
  });

  test('ratings down: the reviews show "Ratings service is currently unavailable" instead of stars', async () => {
    expect(reviewsShown((await http(`${productpage.url}/productpage`)).body)).toBe('v3');
    await ratings.kill('SIGKILL');
    const page = await http(`${productpage.url}/productpage`);
    expect(reviewsShown(page.body)).toBe('ratings error');
    expect(count(page.body, `<p><i>${RATINGS_ERROR}</i></p>`)).toBe(2);
    expect(json(await http(`${productpage.url}/api/v1/products/0/reviews`)).reviews.map((r: any) => r.rating)).toEqual([
      { error: RATINGS_ERROR },
      { error: RATINGS_ERROR },
    ]);
  });

  test('reviews down: the page shows the reviews error, well within the 3 s timeout and one retry; details still show', async () => {
    await reviews.kill('SIGKILL');
    const started = Date.now();
    const page = await http(`${productpage.url}/productpage`);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h4 class="text-center text-primary">Error fetching product reviews!</h4>');
    expect(page.body).toContain(`<p>${REVIEWS_ERROR}</p>`);
    expect(page.body).toContain('<dt>Type:</dt><dd>paperback</dd>');
    const api = await http(`${productpage.url}/api/v1/products/0/reviews`);
    expect([api.status, json(api)]).toEqual([500, { error: REVIEWS_ERROR }]);
  });
});

describe('productpage timeouts and retries (SERVICE_TIMEOUT_MS=150)', () => {
  const TIMEOUT = 150;
  let detailsStub: ScriptedServer;
  let reviewsStub: ScriptedServer;
  let productpage: AppProcess;

  beforeAll(async () => {
    await Promise.all([
      start('details.mjs', IP(40)),
      start('ratings.mjs', IP(41)),
      start('reviews.mjs', IP(42), { RATINGS_HOSTNAME: IP(41), ENABLE_RATINGS: 'true', STAR_COLOR: 'black' }),
    ]);
    detailsStub = new ScriptedServer(`${IP(40)}:9080`);
    reviewsStub = new ScriptedServer(`${IP(42)}:9080`);
    const [detailsPort, reviewsPort] = await Promise.all([detailsStub.listen(STUB_IP), reviewsStub.listen(STUB_IP)]);
    productpage = await start('productpage.mjs', IP(43), {
      DETAILS_HOSTNAME: STUB_IP,
      DETAILS_PORT: detailsPort,
      REVIEWS_HOSTNAME: STUB_IP,
      REVIEWS_PORT: reviewsPort,
      SERVICE_TIMEOUT_MS: String(TIMEOUT),
    });
  });
  afterAll(async () => {
    await detailsStub?.close();
    await reviewsStub?.close();
  });

  function reset(details: ScriptedServer['script'], reviews: ScriptedServer['script']): void {
    detailsStub.script = details;
    reviewsStub.script = reviews;
    detailsStub.requests.length = 0;
    reviewsStub.requests.length = 0;
  }

  test('reviews that never answer: two attempts of one timeout each, then the reviews error', async () => {
    reset([], ['hang', 'hang']);
    const started = Date.now();
    const page = await http(`${productpage.url}/productpage`);
    const took = Date.now() - started;
    expect(reviewsStub.requests.map((r) => r.path)).toEqual(['/reviews/0', '/reviews/0']);
    expect(took).toBeGreaterThanOrEqual(2 * TIMEOUT);
    expect(took).toBeLessThan(2 * TIMEOUT + 1500);
    expect(reviewsShown(page.body)).toBe('reviews error');
    expect(page.body).toContain('<dt>Pages:</dt><dd>200</dd>');
  });

  test('a failed first attempt at reviews is retried once: 503 then an answer shows the stars', async () => {
    reset([], [503, 'forward']);
    const page = await http(`${productpage.url}/productpage`);
    expect(reviewsStub.requests).toHaveLength(2);
    expect(reviewsShown(page.body)).toBe('v2');
    reset([], [503, 503, 'forward']);
    const api = await http(`${productpage.url}/api/v1/products/0/reviews`);
    // The status of the last attempt, as the original reports it.
    expect([api.status, json(api), reviewsStub.requests.length]).toEqual([503, { error: REVIEWS_ERROR }, 2]);
  });

  test('details are tried once: one 503 or one timeout shows the details error', async () => {
    reset([503], []);
    let page = await http(`${productpage.url}/productpage`);
    expect(detailsStub.requests).toHaveLength(1);
    expect(page.body).toContain('<h4 class="text-center text-primary">Error fetching product details!</h4>');
    expect(page.body).toContain(`<p>${DETAILS_ERROR}</p>`);
    expect(reviewsShown(page.body)).toBe('v2');
    reset(['hang'], []);
    page = await http(`${productpage.url}/productpage`);
    expect(detailsStub.requests).toHaveLength(1);
    expect(page.body).toContain(`<p>${DETAILS_ERROR}</p>`);
    reset([503], []);
    const api = await http(`${productpage.url}/api/v1/products/0`);
    expect([api.status, json(api)]).toEqual([503, { error: DETAILS_ERROR }]);
  });
});

test('traffic-generator.mjs loads the product page at its rate and reports what the pages showed', async () => {
  await Promise.all([start('details.mjs', IP(50)), start('ratings.mjs', IP(51))]);
  await start('reviews.mjs', IP(52), { RATINGS_HOSTNAME: IP(51), ENABLE_RATINGS: 'true', STAR_COLOR: 'red' });
  await start('productpage.mjs', IP(53), { DETAILS_HOSTNAME: IP(50), REVIEWS_HOSTNAME: IP(52) });
  const generator = await start('traffic-generator.mjs', IP(54), {
    GATEWAY_URL: `http://${IP(53)}:9080`,
    RATE: '20',
    REPORT_SECONDS: '1',
    END_USER: 'jason',
  });
  expect(generator.output[0]).toBe(`loading http://${IP(53)}:9080/productpage 20/s as jason directly (no sidecar)`);
  // A full second at 20/s: about 20 pages, all with v3's red stars (±5 for timer jitter under load).
  const line = await generator.waitForLine(/last 1s: \d+ pages \(v3 \d+\)$/, 5000);
  const pages = Number(/: (\d+) pages/.exec(line)![1]);
  expect(pages).toBeGreaterThanOrEqual(15);
  expect(pages).toBeLessThanOrEqual(25);
});

describe('examples/bookinfo manifests', () => {
  const files = readdirSync(BOOKINFO).filter((f) => f.endsWith('.yaml'));
  const parse = (dir: string, file: string) => parseConfigText(readFileSync(join(dir, file), 'utf8'), file);
  const mine = files.flatMap((f) => parse(BOOKINFO, f).objects);
  const istio = parse(ISTIO_BOOKINFO, 'bookinfo.yaml').objects;
  const byName = (objects: readonly ConfigObject[], kind: string) =>
    new Map(objects.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o as any]));

  test.each(files)('%s parses with no errors (the only warnings: ServiceAccounts, which Trellis ignores)', (file) => {
    const { issues } = parse(BOOKINFO, file);
    expect(issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([]);
    for (const w of issues) expect(w.message).toBe('unsupported kind v1/ServiceAccount, ignored');
  });

  test('the folder loads and cross-checks with no errors; namespace default is injected', async () => {
    const { objects, issues } = await loadConfigPaths([BOOKINFO]);
    expect(issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([]);
    expect(analyzeObjects(objects).filter((i) => i.severity === 'error').map(formatIssue)).toEqual([]);
    const ns = objects.find((o) => o.kind === 'Namespace');
    expect([ns?.metadata.name, ns?.metadata.labels]).toEqual(['default', { 'istio-injection': 'enabled' }]);
  });

  test("same Services, ServiceAccounts' users and Deployments as Istio's bookinfo.yaml, each running a script of the folder", () => {
    const services = byName(mine, 'Service');
    for (const [name, s] of byName(istio, 'Service')) {
      const m = services.get(name);
      expect([m?.metadata.namespace, m?.metadata.labels, m?.spec], name).toEqual([s.metadata.namespace, s.metadata.labels, s.spec]);
    }
    expect([...services.keys()].sort()).toEqual([...byName(istio, 'Service').keys()].sort());
    const deployments = byName(mine, 'Deployment');
    for (const [name, d] of byName(istio, 'Deployment')) {
      const m = deployments.get(name);
      expect(m, name).toBeDefined();
      expect([m.metadata.namespace, m.metadata.labels, m.spec.selector, m.spec.template.metadata.labels], name).toEqual([
        d.metadata.namespace,
        d.metadata.labels,
        d.spec.selector,
        d.spec.template.metadata.labels,
      ]);
      expect(m.spec.template.spec.serviceAccountName).toBe(d.spec.template.spec.serviceAccountName);
      const [container] = m.spec.template.spec.containers;
      expect([container.name, container.ports]).toEqual([d.spec.template.spec.containers[0].name, [{ containerPort: 9080 }]]);
      expect(container.command[0]).toBe('node');
      expect(files.concat(readdirSync(BOOKINFO))).toContain(container.command[1]);
    }
    expect([...deployments.keys()].sort()).toEqual([...byName(istio, 'Deployment').keys(), 'traffic-generator'].sort());
    const env = (name: string) => Object.fromEntries(deployments.get(name).spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect([env('reviews-v1'), env('reviews-v2'), env('reviews-v3')]).toEqual([
      { ENABLE_RATINGS: 'false' },
      { ENABLE_RATINGS: 'true', STAR_COLOR: 'black' },
      { ENABLE_RATINGS: 'true', STAR_COLOR: 'red' },
    ]);
  });

  const networking = readdirSync(ISTIO_BOOKINFO).filter((f) => /^(virtual-service-.*|destination-rule-.*|bookinfo-gateway)\.yaml$/.test(f));
  test.each(networking)("Istio's %s applies to these manifests with no errors", async (file) => {
    // The manifests without the demo's own routing (networking/), which Istio's files replace.
    const manifests = readdirSync(BOOKINFO).filter((f) => f.endsWith('.yaml')).map((f) => join(BOOKINFO, f));
    const { objects, issues } = await loadConfigPaths([...manifests, join(ISTIO_BOOKINFO, file)]);
    expect(issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([]);
    expect(analyzeObjects(objects).filter((i) => i.severity === 'error').map(formatIssue)).toEqual([]);
    expect(objects.filter((o) => o.origin.file.endsWith(file)).length).toBeGreaterThan(0);
  });

  test("destination-rule-all's reviews subsets v1, v2, v3 each select exactly one Deployment's pods", () => {
    const rule = parse(ISTIO_BOOKINFO, 'destination-rule-all.yaml').objects.find((o) => o.kind === 'DestinationRule' && o.metadata.name === 'reviews') as any;
    const pods = [...byName(mine, 'Deployment').values()].map((d) => [d.metadata.name, d.spec.template.metadata.labels]);
    const selected = rule.spec.subsets.map((s: any) =>
      pods.filter(([, labels]) => labels.app === 'reviews' && Object.entries(s.labels).every(([k, v]) => labels[k] === v)).map(([n]) => n),
    );
    expect(selected).toEqual([['reviews-v1'], ['reviews-v2'], ['reviews-v3']]);
  });
});
