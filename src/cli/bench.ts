// `lux bench`: runs the end-to-end benchmark (bench/e2e/command.ts, built to dist/bench) as a program of its own, so the product never imports benchmark code.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LuxError } from '../errors.js';
import { ROOT } from '../paths.js';

const PROGRAM = path.join(ROOT, 'dist', 'bench', 'e2e', 'command.js');

export async function benchCommand(argv: string[]): Promise<number> {
  if (!fs.existsSync(PROGRAM)) throw new LuxError('E_IO', `${PROGRAM}: the benchmark is not built (run npm run build)`);
  const child = spawn(process.execPath, [...process.execArgv, PROGRAM, ...argv], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', (err) => reject(new LuxError('E_IO', `cannot run ${PROGRAM}: ${err.message}`)));
      child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128 + (signalNumber(signal) ?? 0))));
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[signal as string];
}
