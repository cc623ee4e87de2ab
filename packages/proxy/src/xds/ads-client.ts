import {
  credentials,
  makeGenericClientConstructor,
  status as GrpcStatus,
  type Client,
  type ClientDuplexStream,
  type StatusObject,
} from '@grpc/grpc-js';
import {
  adsServiceDefinition,
  kindOfTypeUrl,
  SHORT_NAME,
  TYPE_URL,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type EnvoyJson,
  type Node,
  type ResourceKind,
} from '@trellis/envoy-api';
import { EMPTY_SNAPSHOT, type RawSnapshot } from '../config/raw-snapshot.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { candidateSnapshot, sameSnapshot, wantedNames } from './candidate.js';
import { RESOURCE_TYPES } from './resource-types/index.js';

export interface AdsClientOptions {
  /** The control plane's xDS address, `host:port`. */
  server: string;
  /** Sent on the first request of every stream. */
  node: Node;
  /**
   * Decides whether the data path can run a candidate snapshot; throwing (ConfigRejected or any Error)
   * NACKs the response with the error's message. A candidate may name routes or endpoints that haven't
   * arrived yet (Envoy would be warming them); they follow in later responses.
   */
  validate: (candidate: RawSnapshot) => void;
  /** Called with every accepted snapshot that differs from the current one. */
  onUpdate: (snap: RawSnapshot) => void;
  /** Called once, when the first complete config has arrived (see AdsClient.ready). */
  onReady?: () => void;
  /** The stream came up (first response received) or went down. */
  onConnection?: (up: boolean) => void;
  log?: (msg: string) => void;
  /** Every request sent and response received, one line each (Envoy's xDS trace logging). */
  trace?: (msg: string) => void;
  backoff?: Partial<BackoffOptions>;
  /**
   * Envoy's initial_fetch_timeout: how long readiness waits for routes and endpoints the listeners and
   * clusters name (the control plane sends only those that exist). 0 waits forever. Default 15000.
   */
  initialFetchTimeoutMs?: number;
}

/** A rejected response, as the admin page shows it (Envoy's config_dump error_state). */
export interface AdsError {
  message: string;
  /** version_info of the rejected response. */
  version: string;
  nonce: string;
  at: string;
}

export interface AdsTypeStatus {
  /** Version of the last accepted response ('' before any). */
  version: string;
  /** Nonce of the last response received on the current stream. */
  nonce: string;
  /** The last rejection; cleared when a later response is accepted. */
  lastError?: AdsError;
  /** What the proxy subscribes to: '*' for LDS/CDS, else the names its listeners/clusters reference. */
  names: readonly string[] | '*';
}

/** google.rpc.Code INVALID_ARGUMENT, the code a NACK's error_detail carries. */
const INVALID_ARGUMENT = 3;

/** Envoy's request order on a new stream: clusters before listeners, each before the resources they name. */
const REQUEST_ORDER: readonly ResourceKind[] = ['cluster', 'endpoint', 'listener', 'route'];

/** One ADS stream and what was said on it: nonces and subscriptions are per stream. */
interface Stream {
  call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  nodeSent: boolean;
  /** The names last requested per type on this stream ([] for a wildcard). */
  requested: Map<ResourceKind, readonly string[]>;
}

type AdsGrpcClient = Client & {
  StreamAggregatedResources(): ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
};

/**
 * The sidecar's xDS client: one state-of-the-world ADS stream to the control plane. It subscribes to all
 * listeners and clusters, then to the routes and endpoints they name; every response becomes a candidate
 * snapshot that is validated, then accepted (ACK) or rejected (NACK, the current snapshot stays). When the
 * stream breaks, the last accepted snapshot keeps serving while it reconnects with backoff, telling the new
 * stream the versions it has, as Envoy does.
 */
export class AdsClient {
  private snap: RawSnapshot = EMPTY_SNAPSHOT;
  private readonly accepted = new Set<ResourceKind>();
  private readonly errors = new Map<ResourceKind, AdsError>();
  private nonces: Record<ResourceKind, string> = emptyNonces();
  private readonly grpc: AdsGrpcClient;
  private readonly backoff: Backoff;
  private readonly log: (msg: string) => void;
  private stream?: Stream;
  private reconnectTimer?: NodeJS.Timeout;
  private fetchTimer?: NodeJS.Timeout;
  private fetchTimedOut = false;
  private started = false;
  private closed = false;
  private isReady = false;
  private isConnected = false;

  constructor(private readonly options: AdsClientOptions) {
    const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.backoff = new Backoff(backoff);
    this.log = options.log ?? ((msg) => process.stderr.write(`ads: ${msg}\n`));
    const Ctor = makeGenericClientConstructor(adsServiceDefinition(), 'AggregatedDiscoveryService');
    this.grpc = new Ctor(options.server, credentials.createInsecure(), {
      // The channel's own reconnect backoff would otherwise start at 1s and grow to 120s.
      'grpc.initial_reconnect_backoff_ms': backoff.initialMs,
      'grpc.max_reconnect_backoff_ms': backoff.maxMs,
      'grpc.keepalive_time_ms': 5 * 60_000,
    }) as unknown as AdsGrpcClient;
  }

  /** Opens the stream. Call once. */
  start(): void {
    if (this.started) throw new Error('AdsClient already started');
    if (this.closed) throw new Error('AdsClient is closed');
    this.started = true;
    const timeout = this.options.initialFetchTimeoutMs ?? 15_000;
    if (timeout > 0) {
      this.fetchTimer = setTimeout(() => {
        this.fetchTimedOut = true;
        this.checkReady();
      }, timeout);
      this.fetchTimer.unref();
    }
    this.openStream();
  }

  /** Ends the stream and stops reconnecting. The last snapshot stays readable. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.fetchTimer);
    const stream = this.stream;
    this.stream = undefined;
    stream?.call.cancel();
    this.grpc.close();
  }

  snapshot(): RawSnapshot {
    return this.snap;
  }

  /**
   * True once LDS and CDS have been accepted and every route and endpoint set they name has arrived (or
   * the initial fetch timeout passed). Like Envoy's initialization, it stays true afterwards.
   */
  get ready(): boolean {
    return this.isReady;
  }

  /** Whether the current stream has received a response. */
  get connected(): boolean {
    return this.isConnected;
  }

  status(): Record<ResourceKind, AdsTypeStatus> {
    const one = (kind: ResourceKind): AdsTypeStatus => {
      const lastError = this.errors.get(kind);
      const names = this.stream?.requested.get(kind) ?? wantedNames(this.snap, kind);
      return {
        version: this.snap.versions[kind],
        nonce: this.nonces[kind],
        ...(lastError ? { lastError: { ...lastError } } : {}),
        names: RESOURCE_TYPES[kind].allResourcesRequiredInSotW ? '*' : [...(names ?? [])],
      };
    };
    return { cluster: one('cluster'), endpoint: one('endpoint'), listener: one('listener'), route: one('route') };
  }

  private openStream(): void {
    if (this.closed) return;
    this.nonces = emptyNonces();
    const call = this.grpc.StreamAggregatedResources();
    const stream: Stream = { call, nodeSent: false, requested: new Map() };
    this.stream = stream;
    call.on('data', (res: DiscoveryResponse) => this.whenCurrent(stream, () => this.handleResponse(res)));
    call.on('status', (s: StatusObject) => this.whenCurrent(stream, () => this.handleStreamEnd(s)));
    // Every failure also ends in 'status'; without a listener, 'error' would be thrown.
    call.on('error', () => {});
    // What this proxy has, so the server can tell (Envoy resends its versions with empty nonces).
    for (const kind of REQUEST_ORDER) {
      const names = wantedNames(this.snap, kind);
      if (names === null || names.length > 0) this.request(kind, names ?? []);
    }
  }

  /** Ignores events of a stream that has since been replaced or closed. */
  private whenCurrent(stream: Stream, fn: () => void): void {
    if (this.stream !== stream || this.closed) return;
    try {
      fn();
    } catch (err) {
      this.log(`internal error: ${message(err)}`);
    }
  }

  private handleStreamEnd(s: StatusObject): void {
    this.stream = undefined;
    const delay = this.backoff.next();
    const why = s.code === GrpcStatus.OK ? 'closed by the server' : `${GrpcStatus[s.code]}: ${s.details}`;
    this.log(`stream to ${this.options.server} ended (${why}); reconnecting in ${delay}ms`);
    if (this.isConnected) {
      this.isConnected = false;
      this.notify(() => this.options.onConnection?.(false));
    }
    this.reconnectTimer = setTimeout(() => this.openStream(), delay);
  }

  private handleResponse(res: DiscoveryResponse): void {
    if (!this.isConnected) {
      this.isConnected = true;
      this.backoff.reset();
      this.notify(() => this.options.onConnection?.(true));
    }
    const kind = kindOfTypeUrl(res.type_url);
    this.options.trace?.(
      `<- ${kind ? SHORT_NAME[kind] : res.type_url} version=${res.version_info} nonce=${res.nonce} resources=${res.resources.length}`,
    );
    if (!kind) {
      this.log(`ignoring a response of unsupported type ${res.type_url || '(none)'}`);
      return;
    }
    this.nonces[kind] = res.nonce;
    const decoded = decodeResources(kind, res);
    if (typeof decoded === 'string') return this.reject(kind, res, decoded);

    const { candidate, ignored } = candidateSnapshot(this.snap, kind, res.version_info, decoded);
    if (ignored.length > 0) this.log(`${SHORT_NAME[kind]}: ignoring unrequested ${ignored.join(', ')}`);
    // A response that changes nothing (e.g. the resend after a reconnect) was validated when first accepted.
    const changed = !sameSnapshot(candidate, this.snap);
    if (changed) {
      try {
        this.options.validate(candidate);
      } catch (err) {
        return this.reject(kind, res, message(err));
      }
    }
    this.accept(kind, res, candidate, changed);
  }

  private accept(kind: ResourceKind, res: DiscoveryResponse, candidate: RawSnapshot, changed: boolean): void {
    this.snap = candidate;
    this.accepted.add(kind);
    this.errors.delete(kind);
    if (changed) this.notify(() => this.options.onUpdate(candidate));
    this.request(kind, this.stream?.requested.get(kind) ?? [], res.nonce);
    this.syncSubscriptions();
    this.checkReady();
  }

  private reject(kind: ResourceKind, res: DiscoveryResponse, msg: string): void {
    this.errors.set(kind, { message: msg, version: res.version_info, nonce: res.nonce, at: new Date().toISOString() });
    this.log(`${SHORT_NAME[kind]}: rejected version ${res.version_info} (nonce ${res.nonce}): ${msg}`);
    this.request(kind, this.stream?.requested.get(kind) ?? [], res.nonce, msg);
  }

  /** Subscribes to the routes and endpoints the accepted listeners and clusters now name. */
  private syncSubscriptions(): void {
    for (const kind of REQUEST_ORDER) {
      const wanted = wantedNames(this.snap, kind);
      if (wanted === null) continue;
      const requested = this.stream?.requested.get(kind);
      if (requested === undefined ? wanted.length > 0 : !sameNames(requested, wanted)) this.request(kind, wanted);
    }
  }

  /**
   * Writes one DiscoveryRequest: the accepted version, the last nonce of the type (the response it
   * answers), the names; with `error` it is a NACK.
   */
  private request(kind: ResourceKind, names: readonly string[], nonce = this.nonces[kind], error?: string): void {
    const stream = this.stream;
    if (!stream) return;
    const req: DiscoveryRequest = {
      version_info: this.snap.versions[kind],
      node: stream.nodeSent ? null : this.options.node,
      resource_names: [...names],
      type_url: TYPE_URL[kind],
      response_nonce: nonce,
      error_detail: error === undefined ? null : { code: INVALID_ARGUMENT, message: error },
    };
    stream.nodeSent = true;
    stream.requested.set(kind, [...names]);
    stream.call.write(req);
    this.options.trace?.(
      `-> ${SHORT_NAME[kind]} version=${req.version_info} nonce=${nonce} names=${describeNames(kind, names)}` +
        (error === undefined ? '' : ` NACK: ${error}`),
    );
  }

  private checkReady(): void {
    if (this.isReady || !this.accepted.has('listener') || !this.accepted.has('cluster')) return;
    const missing = (['route', 'endpoint'] as const).flatMap((kind) =>
      (wantedNames(this.snap, kind) ?? []).filter((n) => !this.snap.resources[kind].has(n)).map((n) => `${kind} ${n}`),
    );
    if (missing.length > 0 && !this.fetchTimedOut) return;
    if (missing.length > 0) this.log(`initial fetch timed out; ready without ${missing.join(', ')}`);
    this.isReady = true;
    clearTimeout(this.fetchTimer);
    this.notify(() => this.options.onReady?.());
  }

  /** A callback's exception must not break the stream's bookkeeping. */
  private notify(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log(`callback failed: ${message(err)}`);
    }
  }
}

/** Decodes and checks every resource of a response; a string is the NACK message (all problems, joined). */
function decodeResources(kind: ResourceKind, res: DiscoveryResponse): Map<string, EnvoyJson> | string {
  const type = RESOURCE_TYPES[kind];
  const resources = new Map<string, EnvoyJson>();
  const errors: string[] = [];
  res.resources.forEach((any, i) => {
    const r = type.decode(any, i);
    if (!r.ok) errors.push(r.error);
    else if (resources.has(r.name)) errors.push(`${kind} ${r.name}: name: duplicate in one response`);
    else resources.set(r.name, r.value);
  });
  return errors.length > 0 ? errors.join('; ') : resources;
}

function describeNames(kind: ResourceKind, names: readonly string[]): string {
  return RESOURCE_TYPES[kind].allResourcesRequiredInSotW && names.length === 0 ? '*' : names.join(',');
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

function emptyNonces(): Record<ResourceKind, string> {
  return { cluster: '', endpoint: '', listener: '', route: '' };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
