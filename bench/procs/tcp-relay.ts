/**
 * A bare TCP relay in Node: every downstream connection gets its own upstream connection and the bytes are
 * piped both ways, with no HTTP parsing, routing or telemetry. Two chained make the 2-sidecar path's floor:
 * what two Node processes on the request path cost before any proxy work.
 * Usage: node tcp-relay.js LISTEN_HOST:PORT TARGET_HOST:PORT
 */
import { connect, createServer } from 'node:net';

const [listen = '', target = ''] = process.argv.slice(2);
const [host, port] = listen.split(':');
const [targetHost, targetPort] = target.split(':');

const server = createServer({ noDelay: true }, (down) => {
  const up = connect({ host: targetHost, port: Number(targetPort), noDelay: true });
  down.pipe(up);
  up.pipe(down);
  const close = () => {
    down.destroy();
    up.destroy();
  };
  down.on('error', close).on('close', close);
  up.on('error', close).on('close', close);
});
server.listen(Number(port), host);
process.on('disconnect', () => process.exit(0));
