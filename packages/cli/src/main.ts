import { control } from './commands/control.js';
import { analyze } from './commands/analyze.js';
import { proxyStatus } from './commands/proxy-status.js';
import { proxy } from './commands/proxy.js';
import { up } from './commands/up.js';
import { get } from './commands/get.js';
import { apply } from './commands/apply.js';
import { del } from './commands/delete.js';
import { exec } from './commands/exec.js';
import { logs } from './commands/logs.js';

type Command = (args: string[], out: NodeJS.WritableStream) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  control: { run: control, help: 'run the control plane on a folder of YAML (xDS :15010, debug :15014)' },
  analyze: { run: analyze, help: 'validate YAML files or folders; exit 1 when there are errors' },
  proxy: { run: proxy, help: 'run the sidecar (identity from flags or TRELLIS_* env; config from the control plane)' },
  'proxy-status': { run: proxyStatus, help: "show each proxy's xDS sync state (SYNCED / STALE / NOT SENT)" },
  up: { run: up, help: 'run a folder of YAML locally: control plane, pods as processes, sidecars (Ctrl-C stops)' },
  get: { run: get, help: 'list pods, services, virtualservices, destinationrules, gateways (kubectl get) from the API (:20001)' },
  apply: { run: apply, help: "validate manifests and write them into the mesh's folder (trellis apply -f FILE|-), like kubectl apply" },
  delete: { run: del, help: "remove the manifests' objects from the mesh's folder (trellis delete -f FILE|-), like kubectl delete" },
  exec: { run: exec, help: "run a command as if inside a pod's container (trellis exec POD|deploy/NAME [-c C] -- CMD), like kubectl exec" },
  logs: { run: logs, help: "print a pod's container output (trellis logs POD|deploy/NAME [-c C] [--tail N]), like kubectl logs" },
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
    return await command.run(args, out);
  } catch (err) {
    process.stderr.write(`trellis ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}
