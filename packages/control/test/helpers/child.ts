import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

/** A child process spoken to in JSON lines over stdin/stdout (see fixtures/*.mjs). */
export class JsonLineChild {
  private readonly lines: Interface;
  private readonly waiting: ((line: string) => void)[] = [];
  private stderr = '';

  constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: proc.stdout });
    this.lines.on('line', (line) => this.waiting.shift()?.(line));
    proc.stderr.on('data', (d) => (this.stderr += d));
  }

  static spawn(script: string, args: string[], env: NodeJS.ProcessEnv): JsonLineChild {
    return new JsonLineChild(spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env } }));
  }

  /** Sends one command and waits for its one-line answer. */
  ask<T>(cmd: object, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(cmd)}; stderr: ${this.stderr}`)), timeoutMs);
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as T);
      });
      this.proc.stdin.write(JSON.stringify(cmd) + '\n');
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}
