// Runs a CLI command in-process with console.log captured, for tests of what it prints.
import { vi } from 'vitest';
import type { Command } from '../../src/cli/command.js';

/** Runs `cmd` with `argv`; returns the lines it logged (each call's arguments joined by spaces). */
export async function runCommand(cmd: Pick<Command, 'run'>, argv: string[]): Promise<string[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    await cmd.run(argv);
  } finally {
    spy.mockRestore();
  }
  return lines;
}
