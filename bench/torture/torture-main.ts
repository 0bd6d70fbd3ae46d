// `npm run torture -- [--records N] [--partitions P] [--instances I] [--kills K] [--broker-restarts B] [--seed S] [--small] [--keep]`: the torture run from the command line; prints its one summary line, exit 1 on any loss, duplicate, reordering or divergence.
import { parseTortureArgs, TortureUsageError } from './options.js';
import { runTorture } from './torture.js';

async function main(): Promise<number> {
  let options;
  try {
    options = parseTortureArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof TortureUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      process.stderr.write(`torture: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
  const result = await runTorture(options);
  process.stdout.write(`${result.summary}\n`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`torture: ${err.stack ?? err.message}\n`);
    process.exit(2);
  },
);
