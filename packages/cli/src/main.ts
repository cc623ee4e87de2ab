type Command = (args: string[], out: NodeJS.WritableStream) => Promise<number>;

/**
 * Each command's module is loaded when it runs, not before: `trellis proxy` (a sidecar beside every pod)
 * would otherwise carry the whole control plane, the YAML parser and the local runner in its memory.
 */
const COMMANDS: Record<string, { load: () => Promise<Command>; help: string }> = {
  control: { load: async () => (await import('./commands/control.js')).control, help: 'run the control plane on a folder of YAML (xDS :15010, debug :15014)' },
  analyze: { load: async () => (await import('./commands/analyze.js')).analyze, help: 'validate YAML files or folders; exit 1 when there are errors' },
  proxy: { load: async () => (await import('./commands/proxy.js')).proxy, help: 'run the sidecar (identity from flags or TRELLIS_* env; config from the control plane)' },
  'proxy-status': { load: async () => (await import('./commands/proxy-status.js')).proxyStatus, help: "show each proxy's xDS sync state (SYNCED / STALE / NOT SENT)" },
  up: { load: async () => (await import('./commands/up.js')).up, help: 'run a folder of YAML locally: control plane, pods as processes, sidecars (Ctrl-C stops)' },
  get: { load: async () => (await import('./commands/get.js')).get, help: 'list pods, services, virtualservices, destinationrules, gateways (kubectl get) from the API (:20001)' },
  apply: { load: async () => (await import('./commands/apply.js')).apply, help: "validate manifests and write them into the mesh's folder (trellis apply -f FILE|-), like kubectl apply" },
  delete: { load: async () => (await import('./commands/delete.js')).del, help: "remove the manifests' objects from the mesh's folder (trellis delete -f FILE|-), like kubectl delete" },
  exec: { load: async () => (await import('./commands/exec.js')).exec, help: "run a command as if inside a pod's container (trellis exec POD|deploy/NAME [-c C] -- CMD), like kubectl exec" },
  logs: { load: async () => (await import('./commands/logs.js')).logs, help: "print a pod's container output (trellis logs POD|deploy/NAME [-c C] [--tail N]), like kubectl logs" },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.help}`);
  return `usage: trellis <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs one `trellis` command and returns its exit code. */
export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    out.write(usage());
    return name && name !== 'help' && name !== '--help' ? 2 : 0;
  }
  try {
    const run = await command.load();
    return await run(args, out);
  } catch (err) {
    process.stderr.write(`trellis ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}
