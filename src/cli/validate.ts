// `lux validate --config FILE [--refdata]`: checks a configuration file; prints "ok" or each problem on its own line.
import { LuxError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { checkSecurityFiles } from '../kafka/security.js';
import { parseOptions, required } from './args.js';

const USAGE = `usage: lux validate --config FILE [--refdata]

Checks FILE and the LUX_* environment overrides against the configuration schema, and that the files and
environment variables kafka.security names can be read.
--refdata also loads the reference-data CSV files of refdata.dir.
Exit status 0 and "ok" on standard output; 1 and one problem per line on standard error.`;

export async function validateCommand(argv: string[]): Promise<number> {
  const opts = parseOptions('validate', argv, { config: { type: 'string', short: 'c' }, refdata: { type: 'boolean' } });
  if (opts.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const file = required('validate', 'config', opts.config);
  try {
    const config = loadConfig(file);
    const problems = checkSecurityFiles(config);
    if (problems.length > 0) {
      process.stderr.write(problems.map((p) => `${file}: ${p.message}\n`).join(''));
      return 1;
    }
    if (opts.refdata === true) {
      const { loadRefTables } = await import('../enrich/csv-tables.js');
      loadRefTables(config.refdata.dir);
    }
  } catch (e) {
    if (!(e instanceof LuxError) || e.code === 'E_USAGE') throw e;
    process.stderr.write(`${e.message}\n`);
    return 1;
  }
  process.stdout.write('ok\n');
  return 0;
}
