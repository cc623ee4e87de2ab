/** nginx as the reference reverse proxy: found on this machine or skipped, configured like a tuned deployment. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NginxBinary {
  path: string;
  version: string;
  /** `nginx -V` configure flags, to leave out directives of modules that aren't compiled in. */
  configure: string;
}

export function findNginx(): NginxBinary | undefined {
  const candidates = [...(process.env.PATH ?? '').split(':').map((d) => join(d, 'nginx')), '/usr/sbin/nginx'];
  const path = candidates.find((p) => p && existsSync(p));
  if (!path) return undefined;
  const r = spawnSync(path, ['-V'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const out = `${r.stdout}${r.stderr}`;
  const version = /nginx version: (\S+)/.exec(out)?.[1] ?? 'unknown';
  return { path, version, configure: out };
}

export interface NginxSite {
  listen: { host: string; port: number };
  upstream: { host: string; port: number };
}

/**
 * One worker (one core, like one Node process), upstream keep-alive as the brief's reference setup, no access
 * log. keepalive_requests is raised on both sides so that neither nginx nor the Node proxies recycle
 * connections during a run (Node's servers and agents don't).
 */
export function nginxConfig(prefix: string, nginx: NginxBinary, site: NginxSite): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .filter((m) => m === 'client_body' || !nginx.configure.includes(`--without-http_${m}_module`))
    .map((m) => `  ${m}_temp_path ${join(prefix, 'temp', m)};`);
  return `worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
${temp.join('\n')}
  keepalive_requests 1000000;
  upstream app {
    server ${site.upstream.host}:${site.upstream.port};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen ${site.listen.host}:${site.listen.port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** Writes the config under `prefix`; returns the arguments that run nginx in the foreground on it. */
export function prepareNginx(prefix: string, nginx: NginxBinary, site: NginxSite): string[] {
  mkdirSync(join(prefix, 'temp'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConfig(prefix, nginx, site));
  return ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf, '-g', 'daemon off;'];
}
