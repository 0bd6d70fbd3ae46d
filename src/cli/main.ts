// The `lux` command line: parses the command word and hands the rest to the command's module.
import { LuxError } from '../errors.js';

interface Command {
  summary: string;
  load: () => Promise<(argv: string[]) => Promise<number>>;
}

const COMMANDS: Record<string, Command> = {
  decode: {
    summary: 'decode --ref DIR [--in FILE] [--dlq FILE] [--kpis FILE]   decode and enrich frames to NDJSON (and KPIs)',
    load: async () => (await import('./decode.js')).decodeCommand,
  },
  run: {
    summary: 'run --config FILE                          the daemon: raw topic → enriched topic, exactly once',
    load: async () => (await import('./run.js')).runCommand,
  },
  demo: {
    summary: 'demo [--duration S] [--rate N]             the main job on the embedded default (what `npm start` runs)',
    load: async () => (await import('./demo.js')).demoCommand,
  },
  gen: {
    summary: 'gen (--topic T | --out FILE) [options]     generate realistic LXE1 traffic',
    load: async () => (await import('./gen.js')).genCommand,
  },
  kafka: {
    summary: 'kafka start|stop|status                    the local development broker',
    load: async () => (await import('../kafka-local/broker.js')).kafkaCommand,
  },
  validate: {
    summary: 'validate --config FILE                     check a configuration file',
    load: async () => (await import('./validate.js')).validateCommand,
  },
  explain: {
    summary: 'explain --config FILE [--format F]         print the topology (text, mermaid, dot)',
    load: async () => (await import('./explain.js')).explainCommand,
  },
  report: {
    summary: 'report (--since D | --from T --to T) --out DIR  KPI, alarm and dead-letter report (HTML + JSON), optionally POSTed',
    load: async () => (await import('./report.js')).reportCommand,
  },
  bench: {
    summary: 'bench [options]                            end-to-end benchmark against the local broker',
    load: async () => (await import('./bench.js')).benchCommand,
  },
};

function usage(): string {
  const lines = ['usage: lux <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  lux ${c.summary.startsWith(name) ? c.summary : `${name} ${c.summary}`}`);
  lines.push('', 'lux <command> --help for the options of one command.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write('lux 0.1.0\n');
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`lux: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  const run = await command.load();
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof LuxError) {
      process.stderr.write(`lux: ${err.message}\n`);
      process.exitCode = err.code === 'E_USAGE' ? 2 : 1;
    } else {
      process.stderr.write(`lux: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
