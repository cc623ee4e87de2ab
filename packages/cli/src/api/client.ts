/** Reading the control plane's HTTP APIs (20001 for the API, 15014 for debug) from the CLI. */

export const DEFAULT_API = 'http://127.0.0.1:20001';
export const DEFAULT_CONTROL = 'http://127.0.0.1:15014';
const TIMEOUT_MS = 5000;

/** --api, else TRELLIS_API, else 127.0.0.1:20001; without a trailing slash. */
export function apiBase(flag: string | undefined): string {
  return (flag ?? process.env.TRELLIS_API ?? DEFAULT_API).replace(/\/+$/, '');
}

/** --control, else TRELLIS_CONTROL_DEBUG, else 127.0.0.1:15014. */
export function controlBase(flag: string | undefined): string {
  return (flag ?? process.env.TRELLIS_CONTROL_DEBUG ?? DEFAULT_CONTROL).replace(/\/+$/, '');
}

/** A failure: `status` and `message` (the API's Kubernetes Status message) when the server answered. */
export type Fetched<T> = { value: T } | { error: string; unreachable?: boolean; status?: number; message?: string };

/** GET a JSON document; every failure is a message that names the address (unreachable: nothing answered). */
export async function getJson<T>(base: string, path: string, what: string, timeoutMs = TIMEOUT_MS): Promise<Fetched<T>> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    return unreachable(base, what, e);
  }
  const body = (await res.json().catch(() => undefined)) as (T & { message?: string }) | undefined;
  if (!res.ok) return answeredError(base, path, res.status, body?.message);
  if (body === undefined) return { error: `${base}${path} did not return JSON` };
  return { value: body };
}

/** GET a text document (a pod's log); failures as getJson's. */
export async function getText(base: string, path: string, what: string, timeoutMs = TIMEOUT_MS): Promise<Fetched<string>> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    return unreachable(base, what, e);
  }
  const text = await res.text();
  if (res.ok) return { value: text };
  let message: string | undefined;
  try {
    message = (JSON.parse(text) as { message?: string }).message;
  } catch {
    message = undefined;
  }
  return answeredError(base, path, res.status, message);
}

function unreachable(base: string, what: string, e: unknown): { error: string; unreachable: true } {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (e as Error).message;
  return { error: `cannot reach ${what} at ${base} (${why})`, unreachable: true };
}

function answeredError(base: string, path: string, status: number, message: string | undefined): { error: string; status: number; message?: string } {
  return { error: `${base}${path} answered HTTP ${status}${message ? `: ${message}` : ''}`, status, ...(message ? { message } : {}) };
}

/**
 * The folder the running mesh reads (`trellis up DIR`), from its API: `undefined` only when nothing listens there
 * (connection refused); a mesh that is there but slow or odd is an error, never a reason to write elsewhere.
 */
export async function runningConfigDir(api: string): Promise<string | undefined | { error: string }> {
  const got = await getJson<{ configDir?: string }>(api, '/api/v1/config', 'the Trellis API');
  if ('value' in got) return typeof got.value.configDir === 'string' ? got.value.configDir : { error: `${api}/api/v1/config names no config folder` };
  return got.error.includes('(ECONNREFUSED)') ? undefined : { error: got.error };
}
