import { TYPE_URL, type ResourceKind } from '@trellis/envoy-api';
import { syncState, type TypeStatus } from './status.js';

/** Envoy's wildcard types: an empty (or "*") subscription means "everything for me". */
const WILDCARD_KINDS: ReadonlySet<ResourceKind> = new Set(['listener', 'cluster']);

export function isWildcardKind(kind: ResourceKind): boolean {
  return WILDCARD_KINDS.has(kind);
}

/**
 * The subscription a request asks for: `null` for a wildcard (LDS/CDS with no names or with "*"),
 * otherwise the distinct names, sorted. For RDS/EDS an empty list means the proxy no longer wants any.
 */
export function requestedNames(kind: ResourceKind, names: readonly string[]): string[] | null {
  if (isWildcardKind(kind) && (names.length === 0 || names.includes('*'))) return null;
  return [...new Set(names)].sort();
}

export function sameSubscription(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

interface Sent {
  version: string;
  nonce: string;
  at: Date;
  resources: number;
}
interface Acked {
  version: string;
  nonce: string;
  at: Date;
}
interface Nack extends Acked {
  message: string;
}

/**
 * One type's state on one ADS stream (Istio's WatchedResource): what the proxy subscribed to, the last
 * response sent, the last one ACKed and the last rejection.
 */
export class WatchedResource {
  /** null = wildcard. */
  names: readonly string[] | null = [];
  sent?: Sent;
  acked?: Acked;
  lastNack?: Nack;

  constructor(readonly kind: ResourceKind) {}

  get typeUrl(): string {
    return TYPE_URL[this.kind];
  }

  recordSent(version: string, nonce: string, resources: number): void {
    this.sent = { version, nonce, resources, at: new Date() };
  }

  recordAck(version: string, nonce: string): void {
    this.acked = { version, nonce, at: new Date() };
    this.lastNack = undefined;
  }

  /** A NACK names the rejected response by nonce; its version is the one we sent with that nonce. */
  recordNack(nonce: string, message: string): void {
    const version = this.sent?.nonce === nonce ? this.sent.version : '';
    this.lastNack = { version, nonce, message, at: new Date() };
  }

  status(): TypeStatus {
    const facts = {
      typeUrl: this.typeUrl,
      subscribed: this.names ?? ('*' as const),
      sentVersion: this.sent?.version,
      sentNonce: this.sent?.nonce,
      sentAt: this.sent?.at.toISOString(),
      sentResources: this.sent?.resources,
      ackedVersion: this.acked?.version,
      ackedNonce: this.acked?.nonce,
      ackedAt: this.acked?.at.toISOString(),
      lastNack: this.lastNack && { ...this.lastNack, at: this.lastNack.at.toISOString() },
    };
    return { ...dropUndefined(facts), state: syncState(facts) };
  }
}

/** A type the proxy never subscribed to (or unsubscribed from). */
export function unsubscribedStatus(kind: ResourceKind): TypeStatus {
  return { typeUrl: TYPE_URL[kind], subscribed: [], state: 'NOT SENT' };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
