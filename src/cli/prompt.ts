// Docker's confirmation prompt: "Are you sure you want to continue? [y/N] " read from stdin.
import type { Cli } from './command';

export function confirm(cli: Cli, message: string): Promise<boolean> {
  cli.out.write(`${message} [y/N] `);
  return new Promise((resolve) => {
    let answer = '';
    const onData = (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      const nl = answer.indexOf('\n');
      if (nl >= 0) done(answer.slice(0, nl));
    };
    const done = (line: string) => {
      cli.in.removeListener('data', onData);
      cli.in.removeListener('end', onEnd);
      cli.in.pause();
      resolve(/^y(es)?$/i.test(line.trim()));
    };
    const onEnd = () => done(answer);
    cli.in.on('data', onData);
    cli.in.on('end', onEnd);
    cli.in.resume();
  });
}
