// `berth registry serve|gc|htpasswd`: runs Berth's distribution server in this process (the one verb family that needs no daemon).
import { Command } from 'commander';
import * as fs from 'node:fs';
import { BerthCommand, Cli, StatusError } from '../command';

/** The storage flags are the server's storage options (type-only: the server loads only for its verbs). */
type StorageFlags = import('../../registry/serve').StorageOptions;

function storageOptions(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'Filesystem storage root')
    .option('--storage <driver>', 'Storage driver: fs or s3', 'fs')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (path-style addressing)')
    .option('--s3-bucket <bucket>', 'S3 bucket')
    .option('--s3-region <region>', 'S3 region', 'us-east-1')
    .option('--s3-prefix <prefix>', 'Key prefix inside the bucket')
    .option('--s3-access-key <key>', 'S3 access key (default $AWS_ACCESS_KEY_ID)')
    .option('--s3-secret-key <key>', 'S3 secret key (default $AWS_SECRET_ACCESS_KEY)');
}

export function registryCommand(cli: Cli): Command {
  const registry = new BerthCommand('registry').description('Run an OCI distribution registry');

  registry.addCommand(storageOptions(new BerthCommand('serve')
    .description('Serve the registry API (OCI distribution spec v1.1)')
    .option('--addr <host:port>', 'Address to listen on', '127.0.0.1:5000')
    .option('--htpasswd <file>', 'Require users from this htpasswd file (bcrypt)')
    .option('--acl <file>', 'Access policy: JSON rules [{"account","name","actions"}]')
    .option('--token-key <file>', 'Use bearer tokens signed with this PEM key (created if absent); serves /token')
    .option('--token-realm <url>', 'Token endpoint to send clients to (default: this server\'s /token)')
    .option('--token-service <name>', 'Token service name', 'berth-registry')
    .option('--token-issuer <name>', 'Token issuer name')
    .option('--tls-cert <file>', 'TLS certificate (PEM)')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--delete', 'Allow deleting manifests, tags and blobs')
    .option('-q, --quiet', 'Do not log requests'))
    .action(async (o: StorageFlags & {
      addr: string; htpasswd?: string; acl?: string; tokenKey?: string; tokenRealm?: string; tokenService?: string;
      tokenIssuer?: string; tlsCert?: string; tlsKey?: string; delete?: boolean; quiet?: boolean;
    }) => {
      const { serveRegistry } = require('../../registry/serve') as typeof import('../../registry/serve');
      const log = (line: string) => cli.err.write(`${new Date().toISOString()} ${line}\n`);
      const running = await serveRegistry({ ...o, log: o.quiet ? undefined : log });
      log(`registry listening on ${running.url} (storage ${o.storage ?? 'fs'}${o.root ? ` ${o.root}` : ''}${o.htpasswd ? ', auth ' + (o.tokenKey ? 'token' : 'htpasswd') : ''}${o.delete ? ', delete enabled' : ''})`);
      await new Promise<void>((resolve) => {
        const stop = () => { void running.close().finally(resolve); };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    }));

  registry.addCommand(storageOptions(new BerthCommand('gc')
    .description('Delete blobs no manifest references (run while no server writes to the storage)')
    .option('--dry-run', 'Only report what would be deleted')
    .option('--delete-untagged', 'Also delete manifests no tag reaches')
    .option('-q, --quiet', 'Print only the summary'))
    .action(async (o: StorageFlags & { dryRun?: boolean; deleteUntagged?: boolean; quiet?: boolean }) => {
      const { collectGarbage } = require('../../registry/serve') as typeof import('../../registry/serve');
      const report = await collectGarbage({ ...o, log: o.quiet ? undefined : (l) => cli.out.write(`${l}\n`) });
      if (o.quiet) cli.out.write(`${report.markedBlobs} blobs marked, ${report.deletedBlobs.length} blobs and ${report.deletedManifests.length} manifests eligible for deletion\n`);
      cli.out.write(`${o.dryRun ? 'would free' : 'freed'} ${report.freedBytes} bytes\n`);
    }));

  registry.addCommand(new BerthCommand('htpasswd')
    .description('Add or replace a user in an htpasswd file (bcrypt); the password is read from stdin')
    .argument('<file>')
    .argument('<user>')
    .option('--cost <n>', 'bcrypt cost', '10')
    .action(async (file: string, user: string, o: { cost: string }) => {
      const { htpasswdLine } = require('../../registry/auth') as typeof import('../../registry/auth');
      const chunks: Buffer[] = [];
      for await (const c of cli.in) chunks.push(c as Buffer);
      const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
      if (!password) throw new StatusError(1, 'a password is required on stdin');
      const line = await htpasswdLine(user, password, Number(o.cost));
      const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith(`${user}:`)) : [];
      lines.push(line);
      fs.writeFileSync(`${file}.tmp`, `${lines.join('\n')}\n`, { mode: 0o600 });
      fs.renameSync(`${file}.tmp`, file);
    }));

  return registry;
}
