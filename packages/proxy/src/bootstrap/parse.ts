import { isIP } from 'node:net';

/**
 * Parsers for the sidecar's settings. Each takes the raw text and `where` (the flag or environment variable
 * it came from), and throws an IdentityError that names both, so a typo in a manifest is found at once.
 */

export class IdentityError extends Error {
  constructor(
    /** The flag (`--app-ports`) or environment variable (`TRELLIS_APP_PORTS`) the bad value came from. */
    readonly source: string,
    readonly value: string,
    reason: string,
  ) {
    super(`${source}=${JSON.stringify(value)}: ${reason}`);
  }
}

/** A TCP port: an integer from 1 to 65535. */
export function parsePort(text: string, where: string): number {
  return parsePortIn(text, text, where);
}

/** Parses `port`, a part of `whole` (the full setting, quoted in the error). */
function parsePortIn(port: string, whole: string, where: string): number {
  const trimmed = port.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw new IdentityError(where, whole, `port ${JSON.stringify(port)} is not an integer from 1 to 65535`);
  }
  const n = Number(trimmed);
  if (n < 1 || n > 65535) throw new IdentityError(where, whole, `port ${n} is out of range 1-65535`);
  return n;
}

/** An IPv4 or IPv6 address, as a pod IP is written. */
export function parseIp(text: string, where: string): string {
  const ip = text.trim();
  if (!isIP(ip)) throw new IdentityError(where, text, 'not an IPv4 or IPv6 address');
  return ip;
}

/** `host:port`, `[v6]:port`, or a bare host (the port defaults). Returns `host:port` as gRPC wants it. */
export function parseHostPort(text: string, defaultPort: number, where: string): string {
  const value = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(value);
  let host: string;
  let port: string | undefined;
  if (bracketed) {
    [, host, port] = bracketed as unknown as [string, string, string | undefined];
    if (isIP(host) !== 6) throw new IdentityError(where, text, `[${host}] is not an IPv6 address`);
    host = `[${host}]`;
  } else if (isIP(value) === 6) {
    host = `[${value}]`;
  } else {
    const colon = value.lastIndexOf(':');
    host = colon < 0 ? value : value.slice(0, colon);
    port = colon < 0 ? undefined : value.slice(colon + 1);
  }
  if (!host || /[\s/]/.test(host)) throw new IdentityError(where, text, 'expected host:port');
  const p = port === undefined ? defaultPort : parsePortIn(port, text, where);
  return `${host}:${p}`;
}

// Kubernetes label syntax (apimachinery's IsQualifiedName / IsValidLabelValue).
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key ${JSON.stringify(key)}: prefix must be a DNS subdomain (lowercase, at most 253 characters)`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return `label key ${JSON.stringify(key)}: name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`;
  }
  return undefined;
}

export function labelValueProblem(key: string, value: string): string | undefined {
  if (value === '' || (value.length <= 63 && LABEL_NAME.test(value))) return undefined;
  return `label ${key}: value ${JSON.stringify(value)} must be at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`;
}

/** Labels as `k=v,k=v` or as a JSON object of strings. */
export function parseLabels(text: string, where: string): Record<string, string> {
  const trimmed = text.trim();
  const pairs = trimmed.startsWith('{') ? jsonLabelPairs(text, where) : listLabelPairs(text, where);
  const labels: Record<string, string> = {};
  for (const [key, value] of pairs) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(key, value);
    if (problem) throw new IdentityError(where, text, problem);
    if (key in labels) throw new IdentityError(where, text, `label ${key} is given twice`);
    labels[key] = value;
  }
  return labels;
}

function jsonLabelPairs(text: string, where: string): [string, string][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new IdentityError(where, text, `not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new IdentityError(where, text, 'labels in JSON must be an object of strings');
  }
  return Object.entries(parsed).map(([k, v]) => {
    if (typeof v !== 'string') throw new IdentityError(where, text, `label ${k}: value must be a string`);
    return [k, v];
  });
}

function listLabelPairs(text: string, where: string): [string, string][] {
  return entries(text).map((entry) => {
    const eq = entry.indexOf('=');
    if (eq < 0) throw new IdentityError(where, text, `${JSON.stringify(entry)} is not key=value`);
    return [entry.slice(0, eq).trim(), entry.slice(eq + 1).trim()];
  });
}

/** The pod's container ports, as Kubernetes' ContainerPort; Istio's POD_PORTS carries them. */
export interface AppPort {
  name?: string;
  containerPort: number;
  protocol: 'TCP';
}

// Kubernetes' IANA_SVC_NAME: what a containerPort name may be.
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** App ports as `name:port,name:port` or `port,port`. */
export function parseAppPorts(text: string, where: string): AppPort[] {
  const ports: AppPort[] = [];
  for (const entry of entries(text)) {
    const colon = entry.lastIndexOf(':');
    const name = colon < 0 ? undefined : entry.slice(0, colon).trim();
    const port = parsePortIn(colon < 0 ? entry : entry.slice(colon + 1), text, where);
    if (name !== undefined) {
      if (name.length > 15 || !PORT_NAME.test(name) || !/[a-z]/.test(name) || name.includes('--')) {
        throw new IdentityError(
          where,
          text,
          `port name ${JSON.stringify(name)} must be at most 15 lowercase letters, digits and '-' (as Kubernetes requires)`,
        );
      }
      if (ports.some((p) => p.name === name)) throw new IdentityError(where, text, `port name ${name} is used twice`);
    }
    if (ports.some((p) => p.containerPort === port)) throw new IdentityError(where, text, `port ${port} is listed twice`);
    ports.push(name === undefined ? { containerPort: port, protocol: 'TCP' } : { name, containerPort: port, protocol: 'TCP' });
  }
  return ports;
}

/** Comma-separated entries, blanks (e.g. a trailing comma) skipped. */
function entries(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
