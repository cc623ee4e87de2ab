// Outbound HTTP as a pod in the mesh sends it. Services are named like Bookinfo's originals name them
// (http://details:9080, or DETAILS_HOSTNAME / SERVICES_DOMAIN), and when the pod has a sidecar (`trellis up`
// injects TRELLIS_OUTBOUND and HTTP_PROXY; Node's http ignores HTTP_PROXY on its own) every call goes to it as
// an HTTP proxy request: `GET http://details:9080/details/0` with `Host: details:9080`, so the sidecar routes
// on the service name exactly as Envoy would after iptables capture.
import { Agent, request } from 'node:http';

const proxySetting = process.env.TRELLIS_OUTBOUND || process.env.HTTP_PROXY || process.env.http_proxy;
/** The sidecar's outbound listener, or undefined outside the mesh (calls then go straight to the service). */
export const outboundProxy = proxySetting ? new URL(proxySetting) : undefined;

const agent = new Agent({ keepAlive: true });

/**
 * `http://<host><.SERVICES_DOMAIN>:<port>` for a Bookinfo service. Like the originals, `<NAME>_HOSTNAME`
 * replaces the host and SERVICES_DOMAIN is appended to it; `<NAME>_PORT` (default 9080) lets tests run
 * services side by side without a mesh.
 */
export function serviceBase(name) {
  const prefix = name.toUpperCase();
  const host = process.env[`${prefix}_HOSTNAME`] || name;
  const domain = process.env.SERVICES_DOMAIN ? `.${process.env.SERVICES_DOMAIN}` : '';
  const port = process.env[`${prefix}_PORT`] || '9080';
  return `http://${host}${domain}:${port}`;
}

export class TimeoutError extends Error {
  code = 'ETIMEDOUT';
}

/**
 * One HTTP request with a deadline for the whole exchange (connect, headers and body). Resolves with the
 * status, headers and body text whatever the status; rejects on a connection error or when `timeoutMs` passes.
 */
export function httpRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 3000 } = {}) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: outboundProxy ? outboundProxy.hostname : target.hostname,
        port: Number(outboundProxy ? outboundProxy.port || 80 : target.port || 80),
        method,
        // A proxy gets the absolute form; the authority stays the service's name either way.
        path: outboundProxy ? target.href : target.pathname + target.search,
        headers: { ...headers, host: target.host },
        agent,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('close', () => res.complete || fail(new Error(`${method} ${url}: response aborted`)));
      },
    );
    const timer = setTimeout(() => req.destroy(new TimeoutError(`${method} ${url}: no answer within ${timeoutMs} ms`)), timeoutMs);
    function fail(err) {
      clearTimeout(timer);
      reject(err);
    }
    req.on('error', fail);
    req.end(body);
  });
}

/** GET returning `{ status, json }`; json is undefined when the body isn't JSON. Rejects like httpRequest. */
export async function getJson(url, headers, timeoutMs) {
  const res = await httpRequest(url, { headers: { accept: 'application/json', ...headers }, timeoutMs });
  let json;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}
