/**
 * `npm run bench`: one run measures every target against the same upstream with the same payloads, prints a
 * markdown table, and (full runs) writes it to bench/RESULTS.md. Every child process ends with the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadgenClient } from './lib/loadgen-client.js';
import { machineFacts } from './lib/machine.js';
import { chooseHighRate, leastDisturbed, measureFixedRate, measureSaturation, medianSaturation, peakRss, type LoadSide, type Row } from './lib/measure.js';
import { answersCorrectly, canConnect, waitFor } from './lib/net.js';
import { findNginx, prepareNginx, type NginxBinary, type NginxSite } from './lib/nginx.js';
import { parseOptions, UsageError, type BenchOptions } from './lib/options.js';
import { PAYLOADS, type Payload } from './lib/payloads.js';
import { ProcessSet, tasksetWorks, type Child } from './lib/processes.js';
import { allowedCpus, processTree } from './lib/procfs.js';
import { generatorLag, interference, warmUpNote, wasNoisy, type WarmUp } from './lib/notes.js';
import { renderReport, type BenchReport } from './lib/report.js';
import { TARGET_NAMES, type ProxyProcess, type Target, type TargetName, type Unavailable } from './lib/targets.js';
import { APP, BENCH_DIR, HTTP_PROXY, NGINX, NGINX_CHAIN, NODE_RELAY_CHAIN, PINNED_NODE_FLAGS, PROCS_DIR, SIDECAR_PORTS, CLIENT_POD_IP, QUIET_CLIENT_POD_IP, type CpuPlan } from './lib/topology.js';
import { describeStalls, measureStalls, type CpuStalls } from './lib/stalls.js';
import { MESHED_HOST, PLAIN_HOST, POLICIES_HOST, TrellisMesh } from './lib/trellis.js';

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface Context {
  options: BenchOptions;
  /** Keep the children's logs (something went wrong). */
  keepLogs: boolean;
  procs: ProcessSet;
  dir: string;
  cpus: CpuPlan;
  nginx: NginxBinary | undefined;
  mesh: TrellisMesh;
}

async function main(): Promise<number> {
  const started = Date.now();
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return err instanceof UsageError ? err.exitCode : 2;
  }
  const nginx = findNginx();
  const facts = machineFacts(nginx?.version);
  log(`load average ${facts.loadAverage.map((l) => l.toFixed(2)).join(' ')} on ${facts.nproc} CPUs`);
  if (facts.loadAverage[0] > 0.5) log('warning: the machine is busy; figures will be noisy');

  const cpuList = allowedCpus();
  const cpus: CpuPlan =
    cpuList.length >= 2
      ? { load: cpuList[0]!, proxy: cpuList[1]!, pinned: tasksetWorks(cpuList.slice(0, 2)) }
      : { load: cpuList[0] ?? 0, proxy: cpuList[0] ?? 0, pinned: false };
  log(
    cpus.pinned
      ? `taskset: load generator + upstream on CPU ${cpus.load}, proxies under test on CPU ${cpus.proxy}`
      : 'taskset unavailable (or one CPU): processes are not pinned',
  );
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-'));
  const procs = new ProcessSet(dir, cpus.pinned);
  const ctx: Context = { options, keepLogs: false, procs, dir, cpus, nginx, mesh: new TrellisMesh(procs, dir, cpus) };
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping every child process (their logs stay in ${dir})`);
    procs.killAllNow();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => procs.killAllNow());

  let failed = false;
  try {
    const report = await bench(ctx, facts, started);
    const text = renderReport(report);
    process.stdout.write(`${text}\n`);
    if (ctx.keepLogs) {
      failed = true;
      log('a process under test ended during the run: bench/RESULTS.md left as it was');
    } else if (options.quick || options.lowRateOnly || options.targets.length < TARGET_NAMES.length) {
      log('quick, --low-rate-only or --only run: bench/RESULTS.md left as it was');
    } else if (wasNoisy(report.rows) && !options.write) {
      log('other processes disturbed the run (see the notes): bench/RESULTS.md left as it was; --write forces it');
    } else {
      writeFileSync(join(BENCH_DIR, 'RESULTS.md'), text);
      log(`wrote ${join(BENCH_DIR, 'RESULTS.md')}`);
    }
  } catch (err) {
    failed = true;
    log(`failed: ${(err as Error).stack ?? err}`);
  } finally {
    const left = await procs.stopAll();
    if (left.length > 0) {
      failed = true;
      log(`processes still alive after SIGKILL: ${left.join(', ')}`);
    } else {
      log('every child process has exited');
    }
  }
  if (!failed && !ctx.keepLogs) rmSync(dir, { recursive: true, force: true });
  else log(`child logs kept in ${dir}`);
  log(`total ${Math.round((Date.now() - started) / 1000)} s`);
  return failed ? 1 : 0;
}

async function bench(ctx: Context, facts: BenchReport['facts'], started: number): Promise<BenchReport> {
  const { options, procs, cpus } = ctx;
  const notes: string[] = [];
  const node = process.execPath;

  const upstreamArgs = [...PINNED_NODE_FLAGS, join(PROCS_DIR, 'upstream.js'), `${APP.host}:${APP.port}`];
  const upstream = procs.start({ name: 'upstream', command: node, args: upstreamArgs, cpu: cpus.load, ipc: true });
  await mustListen(procs, upstream, APP.host, APP.port);
  const loadgenChild = procs.start({ name: 'loadgen', command: node, args: [...PINNED_NODE_FLAGS, join(PROCS_DIR, 'loadgen.js')], cpu: cpus.load, ipc: true });
  const loadgen = new LoadgenClient(loadgenChild);
  const load: LoadSide = { pids: [upstream.pid, loadgenChild.pid] };

  const { targets, unavailable } = await startTargets(ctx);
  const rows: Row[] = targets.flatMap((t) => PAYLOADS.map((p) => ({ target: t.name, payload: p.name })));
  const rowOf = (t: Target, p: Payload) => rows.find((r) => r.target === t.name && r.payload === p.name)!;

  const fixed = (t: Target, p: Payload, rate: number, durationS: number) =>
    leastDisturbed(() => measureFixedRate(loadgen, load, t, p, rate, durationS, options), RETRIES, retrying(t, p, `@ ${rate}/s`));
  // The open-loop client spins between sends: it gets its core to itself, the upstream joins the proxies.
  const upstreamWithProxies = (yes: boolean) => {
    const cpu = yes ? cpus.proxy : cpus.load;
    if (procs.repin(upstream, cpu)) log(`upstream on CPU ${cpu}`);
    else if (cpus.pinned) notes.push(`could not move the upstream to CPU ${cpu}.`);
  };

  /**
   * Saturation with the upstream on the load side's core (--repeat rounds, the targets taking turns; each row
   * keeps its median window), then the higher fixed rate (chosen from it).
   */
  async function saturationThenHighRate(): Promise<BenchReport['highRate']> {
    upstreamWithProxies(false);
    for (let rep = 1; rep <= options.repeat; rep++) {
      for (const t of targets) {
        for (const p of PAYLOADS) {
          const m = await leastDisturbed(() => measureSaturation(loadgen, load, t, p, options), RETRIES, retrying(t, p, 'saturation'));
          (rowOf(t, p).saturationRepeats ??= []).push(m);
          const pct = (s: number) => `${((100 * s) / m.wallS).toFixed(0)}%`;
          const round = options.repeat > 1 ? `, ${rep} of ${options.repeat}` : '';
          log(`${t.name} ${p.name}${round}: ${Math.round(m.result.rps)} req/s, CPU: proxy ${pct(m.proxyCpuS)}, load side ${pct(m.loadCpuS)}, others ${pct(m.otherCpuS)}`);
        }
      }
    }
    for (const row of rows) if (row.saturationRepeats) row.saturation = medianSaturation(row.saturationRepeats);
    const highRate = chooseHighRate(rows, options);
    log(`higher fixed rate: ${highRate.rate} req/s (${highRate.note})`);
    upstreamWithProxies(true);
    if (highRate.rate > options.lowRate) {
      await warmGenerator(loadgen, highRate.rate, options);
      for (const t of targets) {
        for (const p of PAYLOADS) rowOf(t, p).high = await fixed(t, p, highRate.rate, options.highRateS);
      }
    }
    return highRate;
  }

  const stalls: CpuStalls[] = [];
  const probeStalls = async (when: string) => {
    if (!cpus.pinned) return;
    const seen = await measureStalls([cpus.load, cpus.proxy], options.quick ? 0.5 : STALL_PROBE_S, when);
    for (const s of seen) log(`stall probe: ${describeStalls(s)}`);
    stalls.push(...seen);
  };

  // 1000 req/s first, on fresh proxies: their peak RSS after it is their footprint under that load alone.
  await probeStalls('before the 1000 req/s windows');
  upstreamWithProxies(true);
  await warmGenerator(loadgen, options.lowRate, options);
  const warmUps: WarmUp[] = [];
  for (let rep = 1; rep <= options.repeat; rep++) {
    for (const t of targets) {
      if (rep === 1) warmUps.push(await warmTarget(loadgen, t, options.lowRate, options));
      for (const p of PAYLOADS) {
        const m = await fixed(t, p, options.lowRate, options.lowRateS);
        const row = rowOf(t, p);
        row.low ??= m;
        (row.lowRepeats ??= []).push(m);
        if (options.repeat > 1) log(`${t.name} ${p.name} @ ${options.lowRate}/s, ${rep} of ${options.repeat}: p99 ${Math.round(m.result.p99Us)} µs`);
      }
    }
  }
  const rssAtLowRate = Object.fromEntries(targets.map((t) => [t.name, peakRss(t)]));
  await probeStalls('after them');
  const highRate = options.lowRateOnly ? { rate: options.lowRate, note: 'not measured: --low-rate-only' } : await saturationThenHighRate();
  for (const row of rows) logFixedRate(row, options.lowRate, highRate.rate);

  notes.push(...generatorLag(rows, highRate.rate, options.lowRate), ...interference(rows, highRate.rate, options.lowRate));
  notes.push(...warmUpNote(warmUps, options.targetWarmupS, options.lowRate));
  notes.push(...casualties(ctx, targets, load));
  if (!ctx.nginx && options.targets.some((n) => n.startsWith('nginx'))) notes.push('nginx is not installed here: its rows were skipped.');
  if (targets.some((t) => t.name === 'sidecar') && targets.some((t) => t.name === 'mesh')) {
    notes.push("the 1-sidecar and 2-sidecar paths share the client's sidecar, so its peak RSS covers both.");
  }
  return {
    rows,
    unavailable,
    rss: Object.fromEntries(targets.map((t) => [t.name, peakRss(t)])),
    rssAtLowRate,
    highRate,
    cpus,
    stalls,
    facts,
    options,
    command: ['npm run bench', ...(options.argv.length ? ['--', ...options.argv] : [])].join(' '),
    elapsedS: (Date.now() - started) / 1000,
    notes,
  };
}

/** Seconds the stall probe spins on each CPU, before and after the 1000 req/s windows. */
const STALL_PROBE_S = 3;

/** Attempts per measured window while other processes disturb it (bounded: at most this many times the time). */
const RETRIES = 3;

const retrying = (t: Target, p: Payload, phase: string) => (share: number) =>
  log(`${t.name} ${p.name} ${phase}: other processes used ${Math.round(100 * share)}% of a core; measuring again`);

/** Starts each selected target and checks it answers every payload; one that can't is reported, not fatal. */
async function startTargets(ctx: Context): Promise<{ targets: Target[]; unavailable: Unavailable[] }> {
  const targets: Target[] = [];
  const unavailable: Unavailable[] = [];
  for (const name of ctx.options.targets) {
    log(`starting ${name}`);
    try {
      const t = await startTarget(ctx, name);
      await checkAnswers(t);
      targets.push(t);
    } catch (err) {
      const reason = (err as Error).message;
      log(`${name} not measured: ${reason}`);
      unavailable.push({ name, reason });
    }
  }
  return { targets, unavailable };
}

/**
 * Processes on a measured path that ended mid-run make every later figure a failure: flag the run (logs kept,
 * RESULTS.md untouched). A control plane that ended only left the sidecars on their last config: a note.
 */
function casualties(ctx: Context, targets: Target[], load: LoadSide): string[] {
  const onPath = new Set([...targets.flatMap((t) => t.proxies.map((p) => p.pid)), ...load.pids]);
  const meshMeasured = targets.some((t) => t.name === 'sidecar' || t.name === 'no-telemetry' || t.name === 'policies' || t.name === 'mesh');
  const notes: string[] = [];
  for (const c of ctx.procs.casualties()) {
    if (onPath.has(c.pid)) {
      ctx.keepLogs = true;
      log(`${c.name} (pid ${c.pid}) ended during the run (${c.exitStatus}); its log:\n${ctx.procs.logTail(c, 30)}`);
      notes.push(`**${c.name} ended during the run (${c.exitStatus})**: figures measured after that are failures, not performance.`);
    } else if (c.name === 'control-plane' && meshMeasured) {
      notes.push(`the control plane ended during the run (${c.exitStatus}); the sidecars served their last config.`);
    }
  }
  return notes;
}

function logFixedRate(row: Row, low: number, high: number): void {
  const us = (x?: { p99Us: number }) => (x ? Math.round(x.p99Us) : '-');
  const others = [row.low, row.high].flatMap((m) => (m ? [`${Math.round((100 * m.otherCpuS) / m.wallS)}%`] : [])).join(', ');
  log(`${row.target} ${row.payload}: p99 ${us(row.low?.result)} µs @${low}/s, ${us(row.high?.result)} µs @${high}/s (others ${others})`);
}

/**
 * The open-loop client's own code needs a few seconds of traffic before V8 has it optimised; until then its
 * sends stall by milliseconds. Warm it against the bare upstream, unrecorded.
 */
async function warmGenerator(loadgen: LoadgenClient, rate: number, o: BenchOptions): Promise<void> {
  const endpoint = { ...APP, hostHeader: `${APP.host}:${APP.port}` };
  for (const payload of PAYLOADS) {
    const job = { kind: 'fixed-rate' as const, endpoint, payload, rate, connections: o.connections, warmupS: 0, timeoutMs: o.timeoutMs };
    await loadgen.fixedRate({ ...job, durationS: o.quick ? 0.5 : 2 }, () => {});
  }
}

/**
 * A freshly started proxy's first seconds are JIT compilation, heap sizing and lazy loading (e.g. the tracing
 * SDK on the first sampled request): every payload goes through it at `rate`, unmeasured, before the first
 * measured window, so the windows see the proxy as it runs once started. Their p99 goes into a note: what a
 * new pod's first half minute looks like. (RSS is read after the measured windows, so the warm-up counts there.)
 */
async function warmTarget(loadgen: LoadgenClient, t: Target, rate: number, o: BenchOptions): Promise<WarmUp> {
  const p99Us: number[] = [];
  for (const payload of PAYLOADS) {
    const job = { kind: 'fixed-rate' as const, endpoint: t.endpoint, payload, rate, connections: o.connections, warmupS: 0, timeoutMs: o.timeoutMs };
    const r = await loadgen.fixedRate({ ...job, durationS: o.targetWarmupS }, () => {});
    log(`${t.name} ${payload.name} warm-up, ${o.targetWarmupS} s @ ${rate}/s: p99 ${Math.round(r.p99Us)} µs (not measured)`);
    p99Us.push(r.p99Us);
  }
  return { target: t.name, p99Us };
}

async function startTarget(ctx: Context, name: TargetName): Promise<Target> {
  switch (name) {
    case 'direct':
      return { name, endpoint: { ...APP, hostHeader: `${APP.host}:${APP.port}` }, proxies: [] };
    case 'http-proxy': {
      const proxy = await startNodeProxy(ctx, name, 'http-proxy.js', HTTP_PROXY, APP);
      return { name, endpoint: { ...HTTP_PROXY, hostHeader: `${HTTP_PROXY.host}:${HTTP_PROXY.port}` }, proxies: [{ role: 'http-proxy', pid: proxy.pid }] };
    }
    case 'nginx': {
      const proxies = await startNginx(ctx, name, { listen: NGINX, upstream: APP }, '');
      return { name, endpoint: { ...NGINX, hostHeader: `${NGINX.host}:${NGINX.port}` }, proxies };
    }
    case 'nginx-2hop': {
      const { first, second } = NGINX_CHAIN;
      const last = await startNginx(ctx, `${name}-2`, { listen: second, upstream: APP }, 'hop 2 ');
      const front = await startNginx(ctx, `${name}-1`, { listen: first, upstream: second }, 'hop 1 ');
      return { name, endpoint: { ...first, hostHeader: `${first.host}:${first.port}` }, proxies: [...front, ...last] };
    }
    case 'node-relay-2hop': {
      const { first, second } = NODE_RELAY_CHAIN;
      const last = await startNodeProxy(ctx, `${name}-2`, 'tcp-relay.js', second, APP);
      const front = await startNodeProxy(ctx, `${name}-1`, 'tcp-relay.js', first, second);
      return { name, endpoint: { ...first, hostHeader: `${first.host}:${first.port}` }, proxies: [{ role: 'relay 1', pid: front.pid }, { role: 'relay 2', pid: last.pid }] };
    }
    case 'sidecar': {
      const client = await ctx.mesh.clientSidecar();
      return { name, endpoint: { host: CLIENT_POD_IP, port: SIDECAR_PORTS.outbound, hostHeader: PLAIN_HOST }, proxies: [{ role: 'sidecar', pid: client.pid }] };
    }
    case 'no-telemetry': {
      const quiet = await ctx.mesh.quietClientSidecar();
      return { name, endpoint: { host: QUIET_CLIENT_POD_IP, port: SIDECAR_PORTS.outbound, hostHeader: PLAIN_HOST }, proxies: [{ role: 'sidecar', pid: quiet.pid }] };
    }
    case 'policies': {
      const client = await ctx.mesh.clientSidecar();
      return { name, endpoint: { host: CLIENT_POD_IP, port: SIDECAR_PORTS.outbound, hostHeader: POLICIES_HOST }, proxies: [{ role: 'sidecar', pid: client.pid }] };
    }
    case 'mesh': {
      const client = await ctx.mesh.clientSidecar();
      const server = await ctx.mesh.serverSidecar();
      return {
        name,
        endpoint: { host: CLIENT_POD_IP, port: SIDECAR_PORTS.outbound, hostHeader: MESHED_HOST },
        proxies: [
          { role: 'client', pid: client.pid },
          { role: 'server', pid: server.pid },
        ],
      };
    }
  }
}

/** One of bench/procs' Node proxies (`SCRIPT LISTEN TARGET`) on the proxy CPU, once it listens. */
async function startNodeProxy(ctx: Context, name: string, script: string, listen: HostPort, to: HostPort): Promise<Child> {
  const args = [...PINNED_NODE_FLAGS, join(PROCS_DIR, script), `${listen.host}:${listen.port}`, `${to.host}:${to.port}`];
  const child = ctx.procs.start({ name, command: process.execPath, args, cpu: ctx.cpus.proxy, ipc: true });
  await mustListen(ctx.procs, child, listen.host, listen.port);
  return child;
}

type HostPort = { readonly host: string; readonly port: number };

/** One nginx (master + worker) on the proxies' CPU; `name` is also its folder in the run's directory. */
async function startNginx(ctx: Context, name: string, site: NginxSite, rolePrefix: string): Promise<ProxyProcess[]> {
  if (!ctx.nginx) throw new Error('nginx is not installed on this machine');
  const args = prepareNginx(join(ctx.dir, name), ctx.nginx, site);
  const child = ctx.procs.start({ name, command: ctx.nginx.path, args, cpu: ctx.cpus.proxy });
  await mustListen(ctx.procs, child, site.listen.host, site.listen.port);
  return processTree(child.pid).map((pid, i) => ({ role: `${rolePrefix}${i === 0 ? 'master' : 'worker'}`, pid }));
}

/** Every payload answered with the exact body; a route may take a moment to arrive over xDS, hence the retry. */
async function checkAnswers(t: Target): Promise<void> {
  for (const p of PAYLOADS) {
    if (!(await waitFor(() => answersCorrectly(t.endpoint, p), 15_000, 200))) {
      const last = await answersCorrectly(t.endpoint, p).catch((e: Error) => e.message);
      throw new Error(`${t.name} did not answer ${p.name} correctly within 15 s (${last === false ? 'wrong status or body' : last})`);
    }
  }
}

async function mustListen(procs: ProcessSet, child: Child, host: string, port: number): Promise<void> {
  let exited: string | undefined;
  void child.exited.then((how) => (exited = how));
  const ok = await waitFor(async () => exited !== undefined || (await canConnect(host, port)), 10_000);
  if (!ok || exited !== undefined) {
    throw new Error(`${child.name} ${exited !== undefined ? `exited (${exited})` : `is not listening on ${host}:${port}`}:\n${procs.logTail(child)}`);
  }
}

process.exitCode = await main();
