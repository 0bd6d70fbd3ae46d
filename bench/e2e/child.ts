// A child process of `lux bench` (the daemon, a baseline, the generator, the probe) whose JSON log lines are watched: the consumer's assignment, the HTTP address, named events.
import { spawn, type ChildProcess } from 'node:child_process';
import { sleep } from './kafka.js';

/** One JSON log line of a child, as written by pino (the daemon) or by the bench's own programs. */
export type LogLine = Record<string, unknown> & { msg?: string; time?: number };

export class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | string>;
  private tail: string[] = [];
  /** the time (ms since the epoch) of the first "partitions assigned" line */
  assignedAt: number | undefined;
  /** the daemon's HTTP endpoint, from its "http endpoint listening" line */
  httpUrl: string | undefined;
  /** the last JSON line of each `msg` */
  private readonly events = new Map<string, LogLine>();
  private exitValue: number | string | undefined;

  constructor(readonly name: string, args: string[], options: { stdin?: boolean } = {}) {
    this.process = spawn(process.execPath, args, { stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let partial = '';
    const onData = (d: Buffer): void => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(line);
    };
    this.process.stdout?.on('data', onData);
    this.process.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve((this.exitValue = code ?? signal ?? -1))));
  }

  private line(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 40) this.tail.shift();
    if (!line.startsWith('{')) return;
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      return;
    }
    if (typeof parsed.msg !== 'string') return;
    this.events.set(parsed.msg, parsed);
    if (this.assignedAt === undefined && parsed.msg === 'partitions assigned') this.assignedAt = typeof parsed.time === 'number' ? parsed.time : Date.now();
    if (parsed.msg === 'http endpoint listening' && typeof parsed.url === 'string') this.httpUrl = parsed.url;
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get running(): boolean {
    return this.exitValue === undefined;
  }

  output(): string {
    return this.tail.join('\n');
  }

  /** The last line logged with this `msg`, if any. */
  event(msg: string): LogLine | undefined {
    return this.events.get(msg);
  }

  /** Waits for a line with this `msg`; fails if the child exits first or the time runs out. */
  async waitFor(msg: string, timeoutMs: number): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.get(msg);
      if (e !== undefined) return e;
      if (!this.running) throw new Error(`${this.name} exited (${this.exitValue}) before logging "${msg}":\n${this.output()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no "${msg}" within ${timeoutMs} ms:\n${this.output()}`);
      await sleep(10);
    }
  }

  async waitAssigned(timeoutMs: number): Promise<number> {
    await this.waitFor('partitions assigned', timeoutMs);
    return this.assignedAt!;
  }

  /** Writes one line to the child's standard input (its commands: "go", "stop"). */
  tell(line: string): void {
    this.process.stdin?.write(`${line}\n`);
  }

  /** SIGTERM (drain and commit), SIGKILL if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<number | string> {
    if (!this.running) return this.exitValue as number | string;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
