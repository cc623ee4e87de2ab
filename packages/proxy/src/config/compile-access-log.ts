import { Where, anyTypeName, list, obj, str } from './envoy-values.js';

/**
 * One `access_log` entry of an HTTP connection manager: where its lines go. Trellis writes its own JSON line
 * (see access-log/access-log-format.ts) whatever `log_format` asks for; the destination is what is honoured.
 */
export interface AccessLogConfig {
  /** A file path, or `-` for standard output. */
  readonly path: string;
}

const FILE = 'envoy.extensions.access_loggers.file.v3.FileAccessLog';
const STDOUT = 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
const STDERR = 'envoy.extensions.access_loggers.stream.v3.StderrAccessLog';
const NAMES: Record<string, string> = {
  'envoy.access_loggers.file': FILE,
  'envoy.file_access_log': FILE,
  'envoy.access_loggers.stdout': STDOUT,
  'envoy.access_loggers.stderr': STDERR,
};

/** The HCM's `access_log` list: file, stdout and stderr loggers. Filters and other sinks are refused. */
export function compileAccessLogs(where: Where, v: unknown, field: string): AccessLogConfig[] {
  return list(where, v, field).map((e, i) => {
    const f = `${field}[${i}]`;
    const o = obj(where, e, f)!;
    if (o.filter !== undefined && o.filter !== null) where.reject(`${f}.filter`, 'access log filters are not supported');
    const typed = obj(where, o.typed_config, `${f}.typed_config`);
    const type = anyTypeName(typed) ?? NAMES[str(where, o.name, `${f}.name`) ?? ''];
    switch (type) {
      case FILE: {
        const path = (typed && str(where, typed.path, `${f}.typed_config.path`)) || '';
        if (path === '') where.reject(`${f}.typed_config.path`, 'a file access log needs a path');
        return { path: path === '/dev/stdout' ? '-' : path };
      }
      case STDOUT:
        return { path: '-' };
      case STDERR:
        return { path: '/dev/stderr' };
      default:
        return where.reject(f, `access logger ${type ?? str(where, o.name, `${f}.name`) ?? '(unnamed)'} is not supported (file, stdout and stderr are)`);
    }
  });
}
