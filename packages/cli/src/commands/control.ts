import { parseArgs } from 'node:util';
import { ControlPlane, formatIssue } from '@trellis/control';

const USAGE = `usage: trellis control --config DIR [--xds-port 15010] [--debug-port 15014] [--api-port 20001] [--collector-port 4318|off] [--host 0.0.0.0]

The collector takes OTLP/HTTP JSON spans (POST /v1/traces) from the sidecars; the API serves them at /api/v1/traces.`;

/** `trellis control`: runs the control plane on a folder until SIGINT/SIGTERM. */
export async function control(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      'xds-port': { type: 'string', default: process.env.TRELLIS_XDS_PORT ?? '15010' },
      'debug-port': { type: 'string', default: process.env.TRELLIS_DEBUG_PORT ?? '15014' },
      'api-port': { type: 'string', default: process.env.TRELLIS_API_PORT ?? '20001' },
      'collector-port': { type: 'string', default: process.env.TRELLIS_COLLECTOR_PORT ?? '4318' },
      host: { type: 'string', default: process.env.TRELLIS_HOST ?? '0.0.0.0' },
    },
  });
  const configDir = values.config ?? process.env.TRELLIS_CONFIG;
  if (!configDir) {
    out.write(`${USAGE}\n`);
    return 2;
  }
  const collectorPort = collectorPortSetting(values['collector-port']);
  if (collectorPort === undefined) {
    out.write(`trellis control: --collector-port must be a port number or off\n${USAGE}\n`);
    return 2;
  }
  const log = (msg: string) => out.write(`${new Date().toISOString()} ${msg}\n`);
  const plane = await ControlPlane.start({
    configDir,
    xdsHost: values.host,
    xdsPort: Number(values['xds-port']),
    debugHost: values.host,
    debugPort: Number(values['debug-port']),
    apiHost: values.host,
    apiPort: Number(values['api-port']),
    collectorPort,
    log,
  });
  const { errors, warnings, objects } = plane.configStatus();
  log(`loaded ${objects} objects (${errors} errors, ${warnings} warnings)`);
  for (const issue of plane.source.current().issues) log(formatIssue(issue));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await plane.close();
  return 0;
}

/** `--collector-port`: a port (0 picks a free one), or `off` for no collector (null); undefined when invalid. */
export function collectorPortSetting(text: string): number | null | undefined {
  if (/^(off|none)$/i.test(text)) return null;
  const n = Number(text);
  return /^\d+$/.test(text) && n <= 65535 ? n : undefined;
}
