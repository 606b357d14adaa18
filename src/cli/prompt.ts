// Questions asked on the terminal: Docker's confirmation prompt ("Are you sure you want to continue? [y/N] "), a line
// (a username, a password or passphrase unechoed), a passphrase from a file.
import * as fs from 'node:fs';
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

/** One line from stdin after `prompt`; `hidden` turns echo off on a terminal. */
export function readLine(cli: Cli, prompt: string, hidden = false): Promise<string> {
  cli.out.write(prompt);
  const stdin = cli.in;
  const raw = hidden && stdin.isTTY && typeof stdin.setRawMode === 'function';
  if (raw) stdin.setRawMode(true);
  return new Promise((resolve) => {
    let buf = '';
    const onData = (c: Buffer) => {
      const s = c.toString('utf8');
      for (const ch of s) {
        if (ch === '\n' || ch === '\r') { finish(); return; }
        if (ch === '\u0003') { finish(); process.exit(130); }
        if (ch === '\u007f') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    const finish = () => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', finish);
      if (raw) { stdin.setRawMode(false); cli.out.write('\n'); }
      stdin.pause();
      resolve(buf.trim());
    };
    stdin.on('data', onData);
    stdin.on('end', finish);
    stdin.resume();
  });
}

/** A key's passphrase: the first line of `file` (skopeo's --sign-passphrase-file), else asked unechoed. */
export async function readPassphrase(cli: Cli, prompt: string, file: string | undefined): Promise<string> {
  if (file !== undefined) return fs.readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
  return readLine(cli, prompt, true);
}
