/** The results as markdown: one row per target and payload, the ratios the project's bars are about, the facts. */
import type { MachineFacts } from './machine.js';
import type { SaturateResult } from './jobs.js';
import type { Measured, Row } from './measure.js';
import type { BenchOptions } from './options.js';
import { PAYLOADS } from './payloads.js';
import { TARGET_TITLES, type TargetName, type Unavailable } from './targets.js';
import { describeStalls, type CpuStalls } from './stalls.js';
import type { CpuPlan } from './topology.js';
import { SIDECAR_NODE_FLAGS } from '@trellis/proxy';

export interface BenchReport {
  rows: Row[];
  unavailable: Unavailable[];
  /** VmHWM per proxy process at the end of the run. */
  rss: Partial<Record<TargetName, { role: string; mb: number }[]>>;
  /** VmHWM per proxy process right after the 1000 req/s runs (which come first): the footprint under that load. */
  rssAtLowRate: Partial<Record<TargetName, { role: string; mb: number }[]>>;
  highRate: { rate: number; note: string };
  cpus: CpuPlan;
  /** The stall probe's figures per CPU (empty when processes could not be pinned). */
  stalls: CpuStalls[];
  facts: MachineFacts;
  options: BenchOptions;
  command: string;
  elapsedS: number;
  notes: string[];
}

const int = (n: number) => String(Math.round(n));
const dash = '—';

export function renderReport(r: BenchReport): string {
  return [
    `# Trellis proxy benchmark`,
    '',
    `Command: \`${r.command}\` (${r.options.quick ? 'quick smoke run' : 'full run'}, ${Math.round(r.elapsedS)} s)`,
    '',
    resultsTable(r),
    '',
    ...repetitionsTable(r),
    ratiosTable(r),
    '',
    barsSection(r),
    '',
    methodSection(r),
    '',
    machineSection(r),
    '',
  ].join('\n');
}

function resultsTable(r: BenchReport): string {
  const H = r.highRate.rate;
  const head = [
    'target',
    'payload',
    'req/s at saturation',
    'proxy CPU busy',
    'load-side CPU busy',
    'proxy CPU s / 1000 req',
    'p50 / p90 / p99 µs @ 1000/s',
    `p50 / p90 / p99 µs @ ${H}/s`,
    'errors (sat / 1000 / ' + H + ')',
    'timeouts (sat / 1000 / ' + H + ')',
    'peak RSS MB after 1000/s runs / whole run',
  ];
  const lines = [row(head), row(head.map(() => '---'))];
  for (const x of r.rows) {
    const s = x.saturation;
    const proxied = x.target !== 'direct';
    lines.push(
      row([
        TARGET_TITLES[x.target],
        x.payload,
        s ? saturationCell(x) : dash,
        s && proxied ? `${int((100 * s.proxyCpuS) / s.wallS)}%` : dash,
        s ? `${int((100 * s.loadCpuS) / s.wallS)}%` : dash,
        s && proxied && s.result.ok > 0 ? ((1000 * s.proxyCpuS) / s.result.ok).toFixed(3) : dash,
        latency(x.low?.result),
        latency(x.high?.result),
        [sumOver(satWindows(x), saturationErrors), sumOver(lowWindows(x), fixedErrors), fixedErrors(x.high?.result)].map(opt).join(' / '),
        [sumOver(satWindows(x), (w) => w.timeouts), sumOver(lowWindows(x), (w) => w.timeouts), x.high?.result.timeouts].map(opt).join(' / '),
        rssCell(r.rssAtLowRate[x.target], r.rss[x.target]),
      ]),
    );
  }
  for (const u of r.unavailable) {
    lines.push(row([TARGET_TITLES[u.name], 'all', `not measured: ${u.reason.split('\n')[0]}`, '', '', '', '', '', '', '', '']));
  }
  return [`## Results`, '', ...lines].join('\n');
}

function ratiosTable(r: BenchReport): string {
  const head = [
    'payload',
    'Trellis 1-hop ÷ nginx (req/s)',
    'Trellis 1-hop ÷ http-proxy (req/s)',
    'CPU per request: Trellis 1-hop ÷ nginx',
    'CPU per request: Trellis 1-hop ÷ http-proxy',
    '2-sidecar p99 − direct p99 @ 1000/s',
    '2 nginx hops p99 − direct p99 @ 1000/s',
    '2 Node TCP relays p99 − direct p99 @ 1000/s',
    'policies ÷ plain routing (req/s)',
    'policies ÷ plain routing (CPU per request)',
    'telemetry on ÷ off (req/s)',
  ];
  const lines = [row(head), row(head.map(() => '---'))];
  for (const p of PAYLOADS) {
    const get = (t: TargetName) => r.rows.find((x) => x.target === t && x.payload === p.name);
    const [sc, ng, hp, mesh, direct, pol, quiet, ng2, relays] = (
      ['sidecar', 'nginx', 'http-proxy', 'mesh', 'direct', 'policies', 'no-telemetry', 'nginx-2hop', 'node-relay-2hop'] as const
    ).map(get);
    lines.push(
      row([
        p.name,
        ratio(sc?.saturation?.result.rps, ng?.saturation?.result.rps, 2),
        ratio(sc?.saturation?.result.rps, hp?.saturation?.result.rps, 2),
        ratio(cpuPerReq(sc), cpuPerReq(ng), 1),
        ratio(cpuPerReq(sc), cpuPerReq(hp), 2),
        overDirectCell(mesh, direct),
        overDirectCell(ng2, direct),
        overDirectCell(relays, direct),
        ratio(pol?.saturation?.result.rps, sc?.saturation?.result.rps, 2),
        ratio(cpuPerReq(pol), cpuPerReq(sc), 2),
        ratio(sc?.saturation?.result.rps, quiet?.saturation?.result.rps, 2),
      ]),
    );
  }
  return [`## Ratios`, '', ...lines].join('\n');
}

function barsSection(r: BenchReport): string {
  const perPayload = (t: TargetName) => PAYLOADS.map((p) => r.rows.find((x) => x.target === t && x.payload === p.name));
  const sc = perPayload('sidecar');
  const ng = perPayload('nginx');
  const hp = perPayload('http-proxy');
  const mesh = perPayload('mesh');
  const direct = perPayload('direct');
  const pol = perPayload('policies');
  const quiet = perPayload('no-telemetry');
  const ng2 = perPayload('nginx-2hop');
  const relays = perPayload('node-relay-2hop');
  const sidecarRss = (by: BenchReport['rss']) => [...(by.sidecar ?? []), ...(by['no-telemetry'] ?? []), ...(by.mesh ?? [])].map((p) => p.mb);
  const atLow = sidecarRss(r.rssAtLowRate);
  const whole = sidecarRss(r.rss);

  const check = (what: string, values: (number | undefined)[], ok: (v: number) => boolean, fmt: (v: number) => string) => {
    const known = values.flatMap((v, i) => (v !== undefined && Number.isFinite(v) ? [{ v, p: PAYLOADS[i]!.name }] : []));
    if (known.length === 0) return `- ${what}: not measured`;
    const failing = known.filter((x) => !ok(x.v));
    const detail = known.map((x) => `${x.p} ${fmt(x.v)}`).join(', ');
    return `- ${what}: **${failing.length === 0 ? 'met' : 'not met'}** (${detail})`;
  };
  const sat = (x: Row | undefined) => x?.saturation?.result.rps;
  return [
    `## The project's bars`,
    '',
    check('one sidecar hop ≥ 0.4× nginx throughput', sc.map((x, i) => div(sat(x), sat(ng[i]))), (v) => v >= 0.4, (v) => `${v.toFixed(2)}×`),
    ...nginxCaveat(sc, ng),
    check('one sidecar hop ≥ 2× http-proxy throughput', sc.map((x, i) => div(sat(x), sat(hp[i]))), (v) => v >= 2, (v) => `${v.toFixed(2)}×`),
    check(
      `two-sidecar path adds ≤ 1 ms p99 over direct at 1000 req/s${r.options.repeat > 1 ? ` (the worst of ${r.options.repeat} windows each)` : ''}`,
      mesh.map((x, i) => worst(overDirectUs(x, direct[i]))),
      (v) => v <= 1000,
      (v) => `${(v / 1000).toFixed(2)} ms`,
    ),
    ...stallCaveat(r.stalls),
    ...twoHopReference('two nginx hops', ng2, direct),
    ...twoHopReference('two bare Node TCP relays (no HTTP work)', relays, direct),
    check(
      'ring hash + outlier detection + VirtualService within 10% of plain routing (req/s at saturation)',
      pol.map((x, i) => div(sat(x), sat(sc[i]))),
      (v) => v >= 0.9,
      (v) => `${v.toFixed(2)}×`,
    ),
    check(
      'telemetry on (Istio metrics, 1% tracing) loses ≤ 15% throughput against telemetry off',
      sc.map((x, i) => div(sat(x), sat(quiet[i]))),
      (v) => v >= 0.85,
      (v) => `${v.toFixed(2)}×`,
    ),
    atLow.length
      ? `- sidecar RSS ≤ 80 MB under 1000 req/s: **${Math.max(...atLow) <= 80 ? 'met' : 'not met'}** (largest sidecar VmHWM ${Math.max(...atLow).toFixed(1)} MB from its start through the 1000 req/s runs; ${Math.max(...whole).toFixed(1)} MB once saturation runs had also passed)`
      : `- sidecar RSS ≤ 80 MB under 1000 req/s: not measured`,
  ].join('\n');
}

/**
 * A p99 at 1000 req/s is 1% of the requests, 10 per second: when the idle machine already stalls its CPUs by
 * more than a millisecond several times a second, those stalls are in that 1%. Say how often and how long.
 */
function stallCaveat(stalls: CpuStalls[]): string[] {
  const long = stalls.filter((s) => s.over1Ms > 0);
  if (long.length === 0) return [];
  const perS = Math.max(...long.map((s) => s.over1Ms / s.wallS));
  const worst = Math.max(...long.map((s) => s.worstMs));
  return [
    `  - context: with the bench's processes idle, a spinning probe pinned to each CPU lost up to ${perS.toFixed(1)} gaps > 1 ms per second (worst ${worst.toFixed(1)} ms) to something outside the bench (see Machine): stalls of that size land in a 1000 req/s p99 whatever the proxy does.`,
  ];
}

/**
 * What two other hops add on this machine, in the same windows: the 2-sidecar bar's yardsticks, since two
 * hops on one core meet the machine's stalls whoever proxies. nginx shows a C proxy; two bare Node relays
 * show what two Node processes cost before any proxy work.
 */
function twoHopReference(what: string, hops: (Row | undefined)[], direct: (Row | undefined)[]): string[] {
  const added = hops.map((x, i) => worst(overDirectUs(x, direct[i])));
  if (added.every((v) => v === undefined)) return [];
  const signed = (us: number) => `${us < 0 ? '−' : '+'}${(Math.abs(us) / 1000).toFixed(2)} ms`;
  const detail = added.flatMap((v, i) => (v === undefined ? [] : [`${PAYLOADS[i]!.name} ${signed(v)}`])).join(', ');
  return [`  - reference: ${what}, laid out as the two sidecars are, in the same windows (p99 over direct, the worst window): ${detail}.`];
}

/** A path's p99 minus direct's (µs) in each 1000 req/s window, the i-th of one paired with the i-th of the other. */
function overDirectUs(path: Row | undefined, direct: Row | undefined): number[] {
  const m = path?.lowRepeats ?? [];
  const d = direct?.lowRepeats ?? [];
  return m.slice(0, d.length).map((x, i) => x.result.p99Us - d[i]!.result.p99Us);
}

const worst = (values: number[]) => (values.length ? Math.max(...values) : undefined);

function overDirectCell(path: Row | undefined, direct: Row | undefined): string {
  const deltas = overDirectUs(path, direct);
  if (deltas.length === 0) return dash;
  if (deltas.length === 1) return `${int(deltas[0]!)} µs`;
  return `worst ${int(worst(deltas)!)} µs (${deltas.map(int).join(', ')})`;
}

/** With --repeat: p50 / p99 of every 1000 req/s window, in the order they ran (targets took turns). */
function repetitionsTable(r: BenchReport): string[] {
  if (r.options.repeat <= 1) return [];
  const head = ['target', 'payload', ...Array.from({ length: r.options.repeat }, (_, i) => `window ${i + 1}: p50 / p99 µs`)];
  const lines = [row(head), row(head.map(() => '---'))];
  for (const x of r.rows) {
    const cells = (x.lowRepeats ?? []).map((m) => (m.result.ok ? `${int(m.result.p50Us)} / ${int(m.result.p99Us)}` : dash));
    lines.push(row([TARGET_TITLES[x.target], x.payload, ...cells]));
  }
  return [`## Every window at 1000 req/s`, '', ...lines, ''];
}

/**
 * When nginx isn't CPU-bound, its throughput is the load side's limit, not its own, and the ratio flatters
 * whoever it's compared with: say so, with the ratio per CPU-second of proxy.
 */
function nginxCaveat(sc: (Row | undefined)[], ng: (Row | undefined)[]): string[] {
  const busy = ng.flatMap((x) => (x?.saturation ? [x.saturation.proxyCpuS / x.saturation.wallS] : []));
  if (busy.length === 0 || Math.max(...busy) >= 0.9) return [];
  const perCpu = sc.map((x, i) => div(cpuPerReq(ng[i]), cpuPerReq(x)));
  const detail = perCpu.flatMap((v, i) => (v === undefined ? [] : [`${PAYLOADS[i]!.name} ${v.toFixed(2)}×`])).join(', ');
  return [
    `  - caveat: nginx was not the bottleneck (its worker at most ${Math.round(100 * Math.max(...busy))}% busy; the load generator's core was full), so this ratio flatters Trellis. Requests per CPU-second of proxy, Trellis ÷ nginx: ${detail}.`,
  ];
}

function methodSection(r: BenchReport): string {
  const o = r.options;
  const pin = r.cpus.pinned
    ? `pinned with taskset. Saturation: load generator (autocannon) and upstream app on CPU ${r.cpus.load}, the proxy processes under test on CPU ${r.cpus.proxy}. Fixed rate: the open-loop client alone on CPU ${r.cpus.load} (it spins between sends), the upstream moved to CPU ${r.cpus.proxy} with the proxies. The control plane (idle while measuring) stays on CPU ${r.cpus.load}`
    : 'not pinned (taskset unavailable or fewer than 2 CPUs): the scheduler placed every process, and the spinning open-loop client competes with the proxies for CPU';
  return [
    `## How it was measured`,
    '',
    `- Node flags: the upstream app, the load generator and http-proxy run with the sidecars' flags (\`${SIDECAR_NODE_FLAGS.join(' ')}\`): each is pinned to one core, where parallel GC helpers only queue behind the thread they help.`,
    `- Upstream: one node:http process answering fixed bodies (small: 3 bytes; 1k-response: 1024 bytes; 1k-post: 1024-byte request body, checked, 3-byte answer). Every client checks status and body.`,
    `- Saturation: autocannon, ${o.connections} connections, pipelining 1, ${o.saturateS} s measured after ${o.saturateWarmupS} s warm-up; req/s counts only 2xx answers with the expected body.${o.repeat > 1 && !o.lowRateOnly ? ` ${o.repeat} rounds, the targets taking turns; a row shows its median window (every window in brackets), and the ratios and bars use that window; its errors and timeouts count every window (the 1000 req/s ones too).` : ''}`,
    `- Order: the 1000 req/s runs first (all targets${o.repeat > 1 ? `, ${o.repeat} rounds, the targets taking turns` : ''}), ${o.lowRateOnly ? 'and nothing else (--low-rate-only)' : `then saturation${o.repeat > 1 ? ` (${o.repeat} rounds too)` : ''}, then the higher fixed rate`}.`,
    `- Latency: open-loop client at a fixed rate (high-resolution monotonic clock, spinning within 2 ms of each send; undici Pool of at most ${o.connections} keep-alive connections, queueing beyond; warmed up for a few seconds against the bare upstream first), ${o.lowRateS} s at 1000 req/s and ${o.highRateS} s at ${r.highRate.rate} req/s (${r.highRate.note}), each after ${o.fixedWarmupS} s warm-up (and before a target's first window, every payload once for ${o.targetWarmupS} s at 1000 req/s, not measured for the bars: a fresh sidecar's JIT compilation goes on for ~20 s at that rate, and its p99 settles after ~30 s; the notes give those runs' p99); latency runs from each request's scheduled send time (no coordinated omission); a request unanswered after ${o.timeoutMs} ms is a timeout.`,
    `- Proxy CPU: utime+stime from /proc/PID/stat of every proxy process on the path (both sidecars for the 2-sidecar path; nginx master + worker), over the measured window; "busy" is CPU seconds ÷ wall seconds at saturation (100% = one core); "load-side" is the load generator plus the upstream app, which share the other core: near 100% there means that core, not the proxy, set the saturation figure. Peak RSS: VmHWM from /proc/PID/status per process, read after the 1000 req/s runs (the first runs on freshly started proxies) and at the end of the run.`,
    `- CPUs: ${pin}.`,
    `- Interference: each window also reads /proc/stat; one in which processes outside the bench used more than 25% of a core is measured again (at most 3 attempts, the least disturbed one kept).`,
    `- Trellis: \`trellis control\` on a folder with Services \`plain\` (backed by a WorkloadEntry for the app: no server sidecar) and \`meshed\` (backed by the app's own sidecar, registered over xDS); the client sends to its sidecar's outbound listener (15001) with Host \`plain...\` (1 hop) or \`meshed...\` (2 hops: -> server sidecar 15006 -> app); Service \`hashed\` is the same app behind a DestinationRule (ring hash on the source IP, outlier detection, a subset) and a VirtualService route (prefix match, timeout, retries). Sidecars start as \`trellis up\` starts them, with the sidecar's Node flags (\`node ${SIDECAR_NODE_FLAGS.join(' ')} bin/trellis.js proxy\`).`,
    `- nginx: worker_processes 1, upstream keepalive 64, proxy_http_version 1.1, Connection "", access_log off, keepalive_requests 1000000 (Node's servers and agents never recycle connections either). "nginx, 2 hops" is two such instances chained in front of the app, pinned where the two sidecars are.`,
    `- Node relays: bench/procs/tcp-relay, a Node process that pipes each connection to its own upstream connection (no HTTP parsing, routing or telemetry), with the sidecars' Node flags; two chained in front of the app, pinned where the two sidecars are: the least two Node processes on the path can cost.`,
    ...r.notes.map((n) => `- Note: ${n}`),
  ].join('\n');
}

function machineSection(r: BenchReport): string {
  const f = r.facts;
  return [
    `## Machine`,
    '',
    `- nproc: ${f.nproc}; CPU: ${f.cpuModel}; memory: ${f.memoryGiB.toFixed(1)} GiB; kernel ${f.kernel}`,
    `- node ${f.node}; nginx ${f.nginx}`,
    `- load average when the run started: ${f.loadAverage.map((l) => l.toFixed(2)).join(', ')}`,
    ...(r.stalls.length
      ? [
          `- stalls of the machine itself (bench/procs/stall-probe: a loop reading the monotonic clock, pinned to one CPU, records every gap between two reads; the bench's processes idle meanwhile):`,
          ...r.stalls.map((s) => `  - ${describeStalls(s)}`),
        ]
      : []),
  ].join('\n');
}

const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const opt = (n: number | undefined) => (n === undefined ? dash : String(n));

function latency(x: { p50Us: number; p90Us: number; p99Us: number; ok: number } | undefined): string {
  if (!x || x.ok === 0) return dash;
  return `${int(x.p50Us)} / ${int(x.p90Us)} / ${int(x.p99Us)}`;
}

function fixedErrors(x: { errors: number; bad: number } | undefined): number | undefined {
  return x ? x.errors + x.bad : undefined;
}

function saturationErrors(x: SaturateResult): number {
  return x.errors - x.timeouts + x.non2xx + x.mismatches;
}

/** Every saturation / 1000 req/s window of a row (with --repeat, more than one), for counts summed over all. */
const satWindows = (x: Row) => x.saturationRepeats ?? (x.saturation ? [x.saturation] : []);
const lowWindows = (x: Row) => x.lowRepeats ?? (x.low ? [x.low] : []);

/** A count summed over windows; undefined when there were none. */
function sumOver<R>(windows: readonly Measured<R>[], count: (r: R) => number | undefined): number | undefined {
  if (windows.length === 0) return undefined;
  return windows.reduce((n, w) => n + (count(w.result) ?? 0), 0);
}

type RssList = { role: string; mb: number }[] | undefined;

function rssCell(atLow: RssList, whole: RssList): string {
  if (!whole || whole.length === 0) return dash;
  return whole
    .map((p, i) => {
      const pair = `${atLow?.[i]?.mb.toFixed(1) ?? dash} / ${p.mb.toFixed(1)}`;
      return whole.length > 1 ? `${p.role} ${pair}` : pair;
    })
    .join(' + ');
}

function cpuPerReq(x: Row | undefined): number | undefined {
  const s = x?.saturation;
  return s && s.result.ok > 0 ? s.proxyCpuS / s.result.ok : undefined;
}

function div(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

function ratio(a: number | undefined, b: number | undefined, digits: number): string {
  const v = div(a, b);
  return v === undefined ? dash : `${v.toFixed(digits)}×`;
}

/** Req/s at saturation: the median window, and with --repeat every window in the order they ran. */
function saturationCell(x: Row): string {
  const median = int(x.saturation!.result.rps);
  const all = x.saturationRepeats ?? [];
  return all.length > 1 ? `${median} (${all.map((m) => int(m.result.rps)).join(', ')})` : median;
}
