import {
  credentials,
  makeClientConstructor,
  type ClientDuplexStream,
  type StatusObject,
} from '@grpc/grpc-js';
import {
  adsServiceDefinition,
  decodeAny,
  TYPE_URL,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type EnvoyJson,
  type Node,
  type ResourceKind,
} from '@trellis/envoy-api';

type ServiceClient = InstanceType<ReturnType<typeof makeClientConstructor>>;

/**
 * A real ADS client for tests: one StreamAggregatedResources stream to a server on loopback (127.0.0.1 by default), sending
 * DiscoveryRequests the way Envoy does (node on the first request only) and queueing responses.
 */
export class AdsClient {
  private readonly queue: DiscoveryResponse[] = [];
  private readonly waiters: { resolve: (r: DiscoveryResponse) => void; reject: (e: Error) => void }[] = [];
  private nodeSent = false;
  private finished?: Error;
  /** Resolves with the RPC's final status (OK when the server ends the stream). */
  readonly status: Promise<StatusObject>;

  private constructor(
    private readonly client: ServiceClient,
    private readonly stream: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>,
    readonly node: Node,
  ) {
    stream.on('data', (r: DiscoveryResponse) => {
      const w = this.waiters.shift();
      if (w) w.resolve(r);
      else this.queue.push(r);
    });
    this.status = new Promise((resolve) => stream.on('status', resolve));
    const fail = (why: string) => {
      this.finished ??= new Error(why);
      for (const w of this.waiters.splice(0)) w.reject(this.finished);
    };
    stream.on('error', (e) => fail(`stream error: ${e.message}`));
    stream.on('end', () => fail('stream ended'));
  }

  static connect(port: number, node: Node, host = '127.0.0.1'): AdsClient {
    const Ctor = makeClientConstructor(adsServiceDefinition(), 'AggregatedDiscoveryService');
    const client = new Ctor(`${host}:${port}`, credentials.createInsecure());
    const stream = client.StreamAggregatedResources() as ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
    return new AdsClient(client, stream, node);
  }

  /** Sends a raw request; the node is attached to the first one only. */
  send(req: Partial<DiscoveryRequest> & { type_url: string }): void {
    const full: DiscoveryRequest = {
      version_info: '',
      resource_names: [],
      response_nonce: '',
      ...req,
      node: this.nodeSent ? null : this.node,
    };
    this.nodeSent = true;
    this.stream.write(full);
  }

  /** A subscription request for a kind (no nonce: the first request of a type). */
  subscribe(kind: ResourceKind, names: string[] = []): void {
    this.send({ type_url: TYPE_URL[kind], resource_names: names });
  }

  /** ACKs a response, optionally changing the subscription at the same time (as Envoy does). */
  ack(res: DiscoveryResponse, names?: string[]): void {
    this.send({
      type_url: res.type_url,
      version_info: res.version_info,
      response_nonce: res.nonce,
      resource_names: names ?? [],
    });
  }

  /** NACKs a response: version_info stays at the last accepted version, error_detail says why. */
  nack(res: DiscoveryResponse, acceptedVersion: string, message: string, names?: string[]): void {
    this.send({
      type_url: res.type_url,
      version_info: acceptedVersion,
      response_nonce: res.nonce,
      resource_names: names ?? [],
      error_detail: { code: 3, message },
    });
  }

  /** The next response, or rejects after timeoutMs. */
  next(timeoutMs = 3000): Promise<DiscoveryResponse> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.finished) return Promise.reject(this.finished);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (r: DiscoveryResponse) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no DiscoveryResponse within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves if no response arrives within ms; rejects with the response if one does. */
  async expectNothing(ms = 300): Promise<void> {
    const got = await this.next(ms).then(
      (r) => r,
      () => undefined,
    );
    if (got) throw new Error(`expected no response, got ${got.type_url} version ${got.version_info} nonce ${got.nonce}`);
  }

  /** Half-closes the stream (as a proxy shutting down cleanly would). */
  end(): void {
    this.stream.end();
  }

  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}

/** Decodes every resource of a response into Envoy's object form. */
export function decodeResources(res: DiscoveryResponse): EnvoyJson[] {
  return res.resources.map((a) => decodeAny(a));
}

/** Names of a response's resources (`name`, or `cluster_name` for ClusterLoadAssignments). */
export function resourceNames(res: DiscoveryResponse): string[] {
  return decodeResources(res).map((r) => String(r.name ?? r.cluster_name));
}
