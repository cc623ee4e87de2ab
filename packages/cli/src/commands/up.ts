import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ControlPlane, LocalCluster, localPodJson, type OutputLine, type PodJson } from '@trellis/control';
import { SIDECAR_NODE_FLAGS } from '@trellis/proxy';
import { collectorPortSetting } from './control.js';
import { watchGatewayUrls } from './gateway-urls.js';
import { podStatus, podTable } from './get.js';
import { sidecarSync } from '../api/sidecar-sync.js';

const USAGE = `usage: trellis up DIR [--xds-port 15010] [--debug-port 15014] [--api-port 20001] [--host 127.0.0.1]
                  [--collector-port 4318|off] [--quiet] [--proxy-logs] [--no-gateway]

Runs the mesh in DIR on this machine: the control plane, and each Deployment's pods as local processes,
every pod on its own 127.0.x.y address, with a sidecar in namespaces labelled istio-injection=enabled.
Editing the YAML changes the running mesh. Shows the pods and their output until Ctrl-C, which stops
everything. --quiet hides the apps' output; --proxy-logs shows the sidecars' too. An ingress gateway
(istio-ingressgateway in istio-system, selected by Gateways with istio: ingressgateway) runs too, unless DIR
has its own or --no-gateway is given; its URLs are printed as its Gateway servers come up. Sidecars trace every
request (100% sampling) to the control plane's collector (OTLP/HTTP on --collector-port); the API serves the
traces at /api/v1/traces.`;

/** `node <repo>/bin/trellis.js proxy`: the sidecar, run by the same Node. */
const PROXY_COMMAND = [process.execPath, ...SIDECAR_NODE_FLAGS, fileURLToPath(new URL('../../../../bin/trellis.js', import.meta.url)), 'proxy'];

export interface UpOptions {
  /** Stops `up` when aborted (instead of SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Overrides the sidecar command. */
  proxyCommand?: string[];
  /** Where pod IPs start (default 127.0.1.2). */
  firstPodIp?: string;
}

/** `trellis up DIR`: local mode. */
export async function up(args: string[], out: NodeJS.WritableStream, opts: UpOptions = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'xds-port': { type: 'string', default: process.env.TRELLIS_XDS_PORT ?? '15010' },
        'debug-port': { type: 'string', default: process.env.TRELLIS_DEBUG_PORT ?? '15014' },
        'api-port': { type: 'string', default: process.env.TRELLIS_API_PORT ?? '20001' },
        'collector-port': { type: 'string', default: process.env.TRELLIS_COLLECTOR_PORT ?? '4318' },
        host: { type: 'string', default: process.env.TRELLIS_HOST ?? '127.0.0.1' },
        quiet: { type: 'boolean', short: 'q', default: false },
        'proxy-logs': { type: 'boolean', default: false },
        'no-gateway': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    out.write(`trellis up: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const dir = positionals[0];
  if (values.help || !dir || positionals.length > 1) {
    out.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (!isDirectory(dir)) {
    out.write(`trellis up: ${dir} is not a folder\n`);
    return 1;
  }
  const ports = { xds: port(values['xds-port']), debug: port(values['debug-port']), api: port(values['api-port']) };
  const bad = Object.entries(ports).find(([, p]) => p === undefined);
  if (bad) {
    out.write(`trellis up: --${bad[0]}-port must be a port number (0 picks a free one)\n`);
    return 2;
  }

  const collectorPort = collectorPortSetting(values['collector-port']);
  if (collectorPort === undefined) {
    out.write('trellis up: --collector-port must be a port number (0 picks a free one) or off\n');
    return 2;
  }

  const display = isTty(out) ? new LiveDisplay(out) : new PlainDisplay(out);
  const host = values.host;
  const plane = await ControlPlane.start({
    configDir: dir,
    xdsHost: host,
    xdsPort: ports.xds,
    debugHost: host,
    debugPort: ports.debug,
    apiHost: host,
    apiPort: ports.api,
    collectorPort,
    log: (msg) => display.log(`[control] ${msg}`),
  });
  const { errors, warnings, objects } = plane.configStatus();
  display.log(`loaded ${objects} objects from ${dir} (${errors} errors, ${warnings} warnings)`);
  for (const i of plane.source.current().issues) {
    display.log(`${i.severity}: ${[`${i.file}#${i.doc}`, i.object, i.path].filter(Boolean).join(' ')}: ${i.message}`);
  }
  const cluster = LocalCluster.start(plane, {
    proxyCommand: opts.proxyCommand ?? PROXY_COMMAND,
    firstPodIp: opts.firstPodIp,
    ingressGateway: !values['no-gateway'],
    controlPlaneAddress: `${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${plane.xdsPort}`,
    // Local mode traces everything: a developer's mesh is small and every request is worth seeing.
    ...(plane.collectorPort !== null
      ? { tracing: { collector: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${plane.collectorPort}/v1/traces`, samplingPercent: 100 } }
      : {}),
  });
  plane.localCluster = cluster;
  const apiUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${plane.apiPort}`;
  display.log(`mesh up: xDS ${host}:${plane.xdsPort}, debug ${host}:${plane.debugPort}, API ${apiUrl} (trellis get pods -A --api ${apiUrl})`);
  display.attach(cluster, { quiet: values.quiet, proxyLogs: values['proxy-logs'], sync: (p) => sidecarSync(p, plane.xds.status()) });

  const stopGatewayUrls = watchGatewayUrls(cluster, (line) => display.log(line));

  await stopRequested(opts.signal);
  stopGatewayUrls();
  display.log('stopping: terminating pods...');
  await cluster.stop();
  plane.localCluster = undefined;
  await plane.close();
  display.close();
  out.write('stopped\n');
  return 0;
}

/**
 * Resolves on the first SIGINT/SIGTERM/SIGHUP (or abort). A second Ctrl-C while stopping exits at once; the cluster's
 * exit hook still SIGKILLs every pod's process group on the way out.
 */
function stopRequested(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal) {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    // SIGHUP: the terminal went away, which would otherwise end this process without stopping the pods.
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const first = () => {
      for (const s of signals) process.off(s, first);
      process.once('SIGINT', () => process.exit(130));
      resolve();
    };
    for (const s of signals) process.on(s, first);
  });
}

function port(text: string): number | undefined {
  const n = Number(text);
  return /^\d+$/.test(text) && n <= 65535 ? n : undefined;
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function isTty(out: NodeJS.WritableStream): out is NodeJS.WriteStream {
  return (out as NodeJS.WriteStream).isTTY === true;
}

interface DisplayOptions {
  quiet: boolean;
  proxyLogs: boolean;
  /** A pod's sidecar xDS state (SYNCED, STALE, NACK, NOT CONNECTED; `-` without a sidecar). */
  sync: (p: PodJson) => string;
}

interface Display {
  log(line: string): void;
  attach(cluster: LocalCluster, opts: DisplayOptions): void;
  close(): void;
}

const IP_COLUMN = { header: 'IP', value: (p: PodJson) => p.status.podIP ?? '<none>' };
const isReady = (p: PodJson): boolean => p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

/** `3/8 pods ready`, the progress while the mesh starts. */
function readiness(pods: readonly PodJson[]): string {
  return `${pods.filter(isReady).length}/${pods.length} pods ready`;
}

function echoed(o: OutputLine, opts: { quiet: boolean; proxyLogs: boolean }): boolean {
  return o.sidecar ? opts.proxyLogs : !opts.quiet;
}

/**
 * On a terminal: output lines scroll above a pod table that is redrawn in place (cursor up, clear to the end of
 * the screen, lines, table), at most every 100 ms and at least every second for the AGE column.
 */
class LiveDisplay implements Display {
  private pending: string[] = [];
  private tableLines = 0;
  private cluster: LocalCluster | undefined;
  private sync: DisplayOptions['sync'] = () => '-';
  private frameTimer: NodeJS.Timeout | undefined;
  private readonly tick: NodeJS.Timeout;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.tick = setInterval(() => this.schedule(), 1000);
    this.out.write('\x1b[?25l'); // hide the cursor while redrawing
  }

  log(line: string): void {
    this.pending.push(line);
    this.schedule();
  }

  attach(cluster: LocalCluster, opts: DisplayOptions): void {
    this.cluster = cluster;
    this.sync = opts.sync;
    cluster.on('change', () => this.schedule());
    cluster.on('output', (o) => echoed(o, opts) && this.log(`[${o.pod}/${o.container}] ${o.line}`));
    this.schedule();
  }

  close(): void {
    clearInterval(this.tick);
    clearTimeout(this.frameTimer);
    this.frame();
    this.out.write('\x1b[?25h');
  }

  private schedule(): void {
    this.frameTimer ??= setTimeout(() => this.frame(), 100);
  }

  private frame(): void {
    this.frameTimer = undefined;
    const width = Math.max(20, (this.out.columns ?? 120) - 1);
    let text = `${this.tableLines ? `\x1b[${this.tableLines}A` : ''}\r\x1b[J`;
    text += this.pending.map((l) => `${l}\n`).join('');
    this.pending = [];
    const table = this.cluster ? this.table() : [];
    text += table.map((l) => `${l.slice(0, width)}\n`).join('');
    this.tableLines = table.length;
    this.out.write(text);
  }

  private table(): string[] {
    const pods = this.cluster!.list().map(localPodJson);
    const starting = pods.some((p) => !isReady(p));
    const lines = [`── ${readiness(pods)}${starting ? ', starting…' : ''} ── Ctrl-C stops the mesh ──`];
    if (pods.length === 0) return [...lines, '(no Deployments in the config)'];
    const sidecar = { header: 'SIDECAR', value: this.sync };
    const body = podTable(pods, { namespaceColumn: true, wide: false, noAge: true, now: Date.now(), extra: [IP_COLUMN, sidecar] });
    const all = [...lines, ...body.trimEnd().split('\n')];
    // Redrawing in place needs the whole table on screen: cursor-up stops at the top line.
    const max = Math.max(3, (this.out.rows ?? 50) - 2);
    return all.length <= max ? all : [...all.slice(0, max - 1), `… ${all.length - max + 1} more pods (trellis get pods -A)`];
  }
}

/**
 * Not a terminal (a pipe, a log file): plain lines, one per pod state change (sidecar sync included, checked
 * twice a second since the xDS server doesn't tell), and `3/8 pods ready` whenever that count moves.
 */
class PlainDisplay implements Display {
  private readonly last = new Map<string, string>();
  private lastProgress = '';
  private cluster: LocalCluster | undefined;
  private sync: DisplayOptions['sync'] = () => '-';
  private poll: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WritableStream) {}

  log(line: string): void {
    this.out.write(`${line}\n`);
  }

  attach(cluster: LocalCluster, opts: DisplayOptions): void {
    this.sync = opts.sync;
    cluster.on('output', (o) => echoed(o, opts) && this.log(`[${o.pod}/${o.container}] ${o.line}`));
    cluster.on('change', () => this.report(cluster.list().map(localPodJson)));
    this.cluster = cluster;
    this.report(cluster.list().map(localPodJson));
    this.poll = setInterval(() => this.report(cluster.list().map(localPodJson)), 500);
    this.poll.unref();
  }

  /** Reports the last changes now (the cluster's own `change` comes a tick after it stopped). */
  close(): void {
    clearInterval(this.poll);
    if (this.cluster) this.report(this.cluster.list().map(localPodJson));
  }

  private report(pods: PodJson[]): void {
    const seen = new Set<string>();
    for (const p of pods) {
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      seen.add(key);
      const statuses = p.status.containerStatuses;
      const restarts = statuses.reduce((n, c) => n + c.restartCount, 0);
      const line =
        `pod ${key} ${p.status.podIP} ready ${statuses.filter((c) => c.ready).length}/${statuses.length} ${podStatus(p)}` +
        ` restarts ${restarts}${this.sidecarText(p)}`;
      if (this.last.get(key) !== line) this.log(line);
      this.last.set(key, line);
    }
    const progress = pods.length ? readiness(pods) : '';
    // Not while stopping: the count going down then is the shutdown, already reported pod by pod.
    if (progress && progress !== this.lastProgress && !pods.some((p) => p.metadata.deletionTimestamp)) this.log(progress);
    this.lastProgress = progress;
    for (const key of [...this.last.keys()].filter((k) => !seen.has(k))) {
      this.last.delete(key);
      this.log(`pod ${key} deleted`);
    }
  }

  private sidecarText(p: PodJson): string {
    const state = this.sync(p);
    return state === '-' ? '' : ` sidecar ${state}`;
  }
}
