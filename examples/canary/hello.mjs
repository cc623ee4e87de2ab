// A tiny versioned HTTP service: answers every request with its version and pod name.
import { createServer } from 'node:http';

const version = process.env.VERSION ?? 'unknown';
const pod = process.env.POD_NAME ?? process.env.HOSTNAME ?? 'local';
const server = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ version, pod }) + '\n');
});
server.listen(Number(process.env.PORT ?? 8080), process.env.POD_IP ?? '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
