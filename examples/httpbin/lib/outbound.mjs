// Outbound HTTP as an app in the mesh sends it: when the pod has a sidecar, `trellis up` sets TRELLIS_OUTBOUND and
// HTTP_PROXY to its outbound listener (Node's http ignores HTTP_PROXY on its own), and every call goes there in
// HTTP proxy form (`GET http://httpbin:8000/get` with `Host: httpbin:8000`), so the sidecar routes on the service
// name as Envoy does after iptables capture. Outside the mesh, calls go straight to the URL's host.
import { request } from 'node:http';

const proxySetting = process.env.TRELLIS_OUTBOUND || process.env.HTTP_PROXY || process.env.http_proxy;
/** The sidecar's outbound listener, or undefined outside the mesh. */
export const outboundProxy = proxySetting ? new URL(proxySetting) : undefined;

/**
 * node:http request options for `url` (an http: URL), through the sidecar when there is one. `headers` may
 * override anything but Host, which is always the URL's authority.
 */
export function requestOptions(url, { method = 'GET', headers = {}, agent } = {}) {
  if (url.protocol !== 'http:') throw new Error(`${url.href}: only http:// URLs are supported`);
  return {
    host: outboundProxy ? outboundProxy.hostname : url.hostname,
    port: Number(outboundProxy ? outboundProxy.port || 80 : url.port || 80),
    method,
    path: outboundProxy ? url.href : url.pathname + url.search,
    headers: { ...headers, host: url.host },
    agent,
  };
}

/** One request; resolves with status, status text, raw headers and body (a Buffer), or rejects on a socket error. */
export function send(url, opts = {}, body) {
  return new Promise((resolve, reject) => {
    const req = request(requestOptions(url, opts), (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, statusText: res.statusMessage, httpVersion: res.httpVersion, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
