// `berth login` / `berth logout`: POST /auth, then credentials in ~/.berth/config.json (docker's format).
import { Command } from 'commander';
import { readLine } from '../prompt';
import { BerthCommand, Cli, StatusError } from '../command';
import { authKey, loadConfig, saveConfig, INDEX_SERVER } from '../config-file';


function serverKey(server: string | undefined): string {
  if (!server) return INDEX_SERVER;
  return authKey(server.replace(/^https?:\/\//, '').replace(/\/+$/, ''));
}

export function loginCommand(cli: Cli, name = 'login'): Command {
  return new BerthCommand(name)
    .description('Authenticate to a registry')
    .argument('[server]')
    .option('-p, --password <password>', 'Password or Personal Access Token (PAT)')
    .option('--password-stdin', 'Take the Password or Personal Access Token (PAT) from stdin')
    .option('-u, --username <username>', 'Username')
    .action(async (server: string | undefined, o: { password?: string; passwordStdin?: boolean; username?: string }) => {
      if (o.password) cli.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      let password = o.password;
      if (o.passwordStdin) {
        if (o.password) throw new StatusError(1, '--password and --password-stdin are mutually exclusive');
        if (!o.username) throw new StatusError(1, 'Must provide --username with --password-stdin');
        const chunks: Buffer[] = [];
        for await (const c of cli.in) chunks.push(c as Buffer);
        password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
      }
      const key = serverKey(server);
      const username = o.username ?? await readLine(cli, 'Username: ');
      if (!username) throw new StatusError(1, 'Error: Non-null Username Required');
      if (password === undefined) password = await readLine(cli, 'Password: ', true);
      if (!password) throw new StatusError(1, 'Error: Password Required');
      const r = await cli.api.json<{ Status?: string; IdentityToken?: string }>('POST', '/auth', {
        body: { username, password, serveraddress: key },
      });
      const config = loadConfig(cli.env);
      config.auths ??= {};
      config.auths[key] = r?.IdentityToken ? { identitytoken: r.IdentityToken } : { auth: Buffer.from(`${username}:${password}`).toString('base64') };
      saveConfig(config, cli.env);
      cli.out.write(`${r?.Status || 'Login Succeeded'}\n`);
    });
}

export function logoutCommand(cli: Cli, name = 'logout'): Command {
  return new BerthCommand(name)
    .description('Log out from a registry')
    .argument('[server]')
    .action(async (server: string | undefined) => {
      const key = serverKey(server);
      const config = loadConfig(cli.env);
      if (!config.auths?.[key]) {
        cli.out.write(`Not logged in to ${key}\n`);
        return;
      }
      cli.out.write(`Removing login credentials for ${key}\n`);
      delete config.auths[key];
      saveConfig(config, cli.env);
    });
}
