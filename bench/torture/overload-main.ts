// `npm run overload -- [--seconds S] [--factor F] [--memory-budget-mb M] [--partitions P] [--seed S] [--keep]`: the overload run from the command line; prints its summary line and its samples, exit 1 on any loss, duplicate, divergence or RSS over the budget.
import { parseOverloadArgs, TortureUsageError, type OverloadOptions } from './options.js';
import { runOverload } from './overload.js';

async function main(): Promise<number> {
  let options: OverloadOptions;
  try {
    options = parseOverloadArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof TortureUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      process.stderr.write(`overload: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
  const result = await runOverload(options);
  process.stdout.write(`${result.summary}\n`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`overload: ${err.stack ?? err.message}\n`);
    process.exit(2);
  },
);
