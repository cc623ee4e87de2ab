import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command's usage error, as kubectl reports one: the reason and the usage on stderr, exit code 2. */
export function usageError(command: string, usage: string, message: string, err: NodeJS.WritableStream): number {
  err.write(`trellis ${command}: ${message}\n${usage}\n`);
  return 2;
}

/**
 * parseArgs with the CLI's conventions: a flag it can't parse is a usage error, `--help` prints the usage.
 * Returns the parsed command line, or the exit code when there is nothing more to do.
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  command: string,
  usage: string,
  config: T,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (e) {
    return usageError(command, usage, (e as Error).message, err);
  }
  if ((parsed.values as { help?: boolean }).help) {
    out.write(`${usage}\n`);
    return 0;
  }
  return parsed;
}
