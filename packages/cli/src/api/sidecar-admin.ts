import { SIDECAR_PORTS, type ExecContext } from '@trellis/control';

const USAGE = 'usage: pilot-agent request [--debug-port 15000] METHOD PATH [BODY]';
const TIMEOUT_MS = 10_000;

/**
 * Istio's `pilot-agent request GET stats` inside the istio-proxy container: one request to the sidecar's admin
 * (Envoy's 15000; Trellis' sidecar binds it on the pod IP), the answer's body to `out`. The other pilot-agent
 * commands belong to Istio's agent, which a Trellis sidecar doesn't have.
 */
export async function pilotAgent(args: string[], ctx: ExecContext, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const [command, ...rest] = args;
  if (command !== 'request') {
    err.write(`pilot-agent: ${command ? `"${command}" is not available` : 'a command is required'}: a Trellis sidecar runs only "request" (its admin API)\n${USAGE}\n`);
    return 1;
  }
  let port: number = SIDECAR_PORTS.admin;
  if (rest[0] === '--debug-port') {
    port = Number(rest[1]);
    rest.splice(0, 2);
  }
  const [method, path, body] = rest;
  if (!method || !path || rest.length > 3 || !Number.isInteger(port)) {
    err.write(`pilot-agent: ${USAGE}\n`);
    return 1;
  }
  const url = `http://${ctx.podIP}:${port}/${path.replace(/^\/+/, '')}`;
  let res: Response;
  try {
    res = await fetch(url, { method: method.toUpperCase(), body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    err.write(`pilot-agent: ${method} ${url}: ${cause?.code ?? (e as Error).message}\n`);
    return 1;
  }
  const text = await res.text();
  if (!res.ok) {
    err.write(`pilot-agent: ${method} ${url}: HTTP ${res.status}${text ? `: ${text.trimEnd()}` : ''}\n`);
    return 1;
  }
  out.write(text);
  return 0;
}
