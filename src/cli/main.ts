// `mede2 <command> [...]`: dispatches to one command module, loaded on demand.
import '../node.js';
import { UsageError, type Command } from './command.js';

const commands: Record<string, () => Promise<Command>> = {
  info: async () => (await import('./info.js')).info,
  tokenize: async () => (await import('./tokenize.js')).tokenize,
  demo: async () => (await import('./demo.js')).demo,
  sft: async () => (await import('./sft.js')).sft,
  preprocess: async () => (await import('./preprocess.js')).preprocess,
  forward: async () => (await import('./forward.js')).forward,
  generate: async () => (await import('./generate.js')).generateCommand,
  serve: async () => (await import('./serve.js')).serve,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const loaded = await Promise.all(Object.values(commands).map((load) => load()));
    console.log('usage: mede2 <command> [options]\n\ncommands:');
    for (const c of loaded) console.log(`  ${c.name.padEnd(12)} ${c.summary}`);
    console.log('\n`mede2 <command> --help` shows a command\'s options.');
    return 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`mede2: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}.`);
    return 2;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  try {
    return (await cmd.run(rest)) ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`mede2 ${name}: ${e.message}\n\n${cmd.usage}`);
      return 2;
    }
    console.error(`mede2 ${name}: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env.MEDE2_DEBUG && e instanceof Error) console.error(e.stack);
    return 1;
  }
}

// dawn.node keeps the event loop alive and may crash at teardown: exit explicitly.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
