// A CLI command: its name, a one-line summary for `mede2 help`, and its body.

export interface Command {
  name: string;
  summary: string;
  /** Usage text printed by `mede2 <name> --help` and on a usage error. */
  usage: string;
  run(argv: string[]): Promise<number | void>;
}

/** A usage error: main prints the message and the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
