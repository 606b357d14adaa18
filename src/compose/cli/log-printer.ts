// Compose's log consumer: each line of each container prefixed with `name | `, names padded to the longest
// seen so far, one colour per container from Compose's rainbow (none when colour is off).

/** Compose v2's rainbow: cyan, yellow, green, magenta, blue, then their intense forms. */
const RAINBOW = ['36', '33', '32', '35', '34', '36;1', '33;1', '32;1', '35;1', '34;1'];

export interface LogPrinterOptions {
  color: boolean;
  prefix: boolean;
  timestamps?: boolean;
}

interface Presenter { name: string; color: string | undefined; prefix: string }

export class LogPrinter {
  private readonly presenters = new Map<string, Presenter>();
  private width = 0;
  private nextColor = 0;
  /** Per container and stream: a partial last line waiting for its end. */
  private readonly partial = new Map<string, string>();

  constructor(private readonly stdout: NodeJS.WritableStream, private readonly stderr: NodeJS.WritableStream, private readonly options: LogPrinterOptions) {}

  /** Makes a name known before it writes, so the first lines already align with every container's. */
  register(name: string): void {
    if (this.presenters.has(name)) return;
    const color = this.options.color ? RAINBOW[this.nextColor++ % RAINBOW.length] : undefined;
    this.presenters.set(name, { name, color, prefix: '' });
    this.width = Math.max(...[...this.presenters.keys()].map((n) => n.length)) + 1;
    for (const p of this.presenters.values()) p.prefix = this.paint(p, `${p.name.padEnd(this.width)} | `);
  }

  /** A chunk of a container's output: whole lines are printed, a trailing partial line waits. */
  write(name: string, stream: 'stdout' | 'stderr', chunk: string): void {
    const key = `${name}\0${stream}`;
    const text = (this.partial.get(key) ?? '') + chunk;
    const lines = text.split('\n');
    this.partial.set(key, lines.pop()!);
    for (const line of lines) this.line(name, stream, line);
  }

  /** The container's stream ended: a partial last line is printed as a line of its own. */
  flush(name: string): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const key = `${name}\0${stream}`;
      const rest = this.partial.get(key);
      if (rest) this.line(name, stream, rest);
      this.partial.delete(key);
    }
  }

  /** A status line in the container's colour ("web-1 exited with code 0"). */
  status(name: string, message: string): void {
    this.register(name);
    this.stdout.write(`${this.paint(this.presenters.get(name)!, `${name} ${message}`)}\n`);
  }

  line(name: string, stream: 'stdout' | 'stderr', line: string): void {
    this.register(name);
    const p = this.presenters.get(name)!;
    const prefix = this.options.prefix ? p.prefix : '';
    (stream === 'stderr' ? this.stderr : this.stdout).write(`${prefix}${line}\n`);
  }

  private paint(p: Presenter, text: string): string {
    return p.color ? `\x1b[${p.color}m${text}\x1b[0m` : text;
  }
}

/** Whether to colour: --no-color and --ansi never win; --ansi always forces; auto follows stdout being a terminal. */
export function useColor(ansi: string | undefined, noColor: boolean, stdout: { isTTY?: boolean }, env: NodeJS.ProcessEnv = {}): boolean {
  if (noColor || ansi === 'never') return false;
  if (ansi === 'always') return true;
  if (env.NO_COLOR) return false;
  return !!stdout.isTTY;
}
