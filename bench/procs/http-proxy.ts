/**
 * `http-proxy` as a reverse proxy with a keep-alive agent, in its own process so its CPU and memory can be read.
 * Usage: node http-proxy.js LISTEN_HOST:PORT TARGET_HOST:PORT
 */
import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';

const [listen = '', target = ''] = process.argv.slice(2);
const [host, port] = listen.split(':');
const proxy = httpProxy.createProxyServer({ target: `http://${target}`, agent: new Agent({ keepAlive: true }) });
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
  res.end('bad gateway\n');
});
const server = createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(Number(port), host);
process.on('disconnect', () => process.exit(0));
