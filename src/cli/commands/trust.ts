// `berth trust keygen`: makes a sigstore/cosign key pair (PREFIX.private, encrypted, and PREFIX.pub) in this process,
// the files `berth push --sign-by-sigstore-private-key`, skopeo and podman sign with and policies name (keyPath).
import { Command } from 'commander';
import * as fs from 'node:fs';
import { BerthCommand, Cli, StatusError } from '../command';
import { readPassphrase } from '../prompt';

export function trustCommand(cli: Cli): Command {
  const trust = new BerthCommand('trust').description('Manage image signing keys');
  trust.addCommand(new BerthCommand('keygen')
    .description('Generate a sigstore key pair (ECDSA P-256): PREFIX.private (encrypted) and PREFIX.pub')
    .requiredOption('--output-prefix <prefix>', 'Write PREFIX.private and PREFIX.pub')
    .option('--passphrase-file <file>', 'Read the passphrase from the first line of this file')
    .action(async (o: { outputPrefix: string; passphraseFile?: string }) => {
      const { generateKeyPair } = require('../../trust/sigstore-key') as typeof import('../../trust/sigstore-key');
      const privatePath = `${o.outputPrefix}.private`;
      const publicPath = `${o.outputPrefix}.pub`;
      for (const p of [privatePath, publicPath]) if (fs.existsSync(p)) throw new StatusError(1, `${p} already exists; not overwriting it`);
      const passphrase = await readPassphrase(cli, 'Passphrase for the new key: ', o.passphraseFile);
      if (o.passphraseFile === undefined && passphrase !== await readPassphrase(cli, 'Same passphrase again: ', undefined)) {
        throw new StatusError(1, 'the passphrases do not match');
      }
      const pair = await generateKeyPair(Buffer.from(passphrase, 'utf8'));
      fs.writeFileSync(privatePath, pair.privatePem, { mode: 0o600, flag: 'wx' });
      fs.writeFileSync(publicPath, pair.publicPem, { mode: 0o644, flag: 'wx' });
      cli.out.write(`Key written to ${privatePath} and ${publicPath}\n`);
    }));
  return trust;
}
