// `docker commit/import --change`: Dockerfile instructions applied to a container config (moby's BuildFromConfig).
import * as path from 'node:path';
import type { ContainerConfig } from '../wire/docker';
import { InvalidParameterError } from '../errdefs';
import { parsePortSpec } from '../wire/ports';
import { parseInstructions } from './dockerfile';
import { expandInstruction } from './expand';
import type { CommandForm } from './instructions';

const VALID_CHANGE_COMMANDS = new Set(['cmd', 'entrypoint', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

/** Applies Dockerfile instructions (docker commit/import --change) to a container config, as BuildFromConfig. */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const c: ContainerConfig = JSON.parse(JSON.stringify(base)) as ContainerConfig;
  const instructions = parseInstructions(changes.join('\n'), (cmd) => {
    if (!VALID_CHANGE_COMMANDS.has(cmd)) throw new InvalidParameterError(`${cmd} is not a valid change command`);
  });
  let cmdSet = false;
  const shell = () => (c.Shell?.length ? c.Shell : ['/bin/sh', '-c']);
  const commandLine = (command: CommandForm) => (command.form === 'exec' ? command.args : [...shell(), command.command]);
  for (const raw of instructions) {
    // Words are substituted with the config's environment as it stands when the instruction comes (as a build does).
    const ins = expandInstruction(raw, c.Env ?? []);
    switch (ins.kind) {
      case 'CMD':
        c.Cmd = commandLine(ins.command);
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = ins.command.form === 'shell' && ins.command.command === '' ? null : commandLine(ins.command);
        if (!cmdSet) c.Cmd = null;
        break;
      case 'ENV':
        for (const [k, v] of ins.pairs) c.Env = [...(c.Env ?? []).filter((e) => e.split('=')[0] !== k), `${k}=${v}`];
        break;
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of ins.pairs) c.Labels[k] = v;
        break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const m of ins.ports.flatMap(parsePortSpec)) ports[m.key] = {};
        c.ExposedPorts = ports;
        break;
      }
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), ins.trigger];
        break;
      case 'STOPSIGNAL':
        c.StopSignal = ins.signal;
        break;
      case 'USER':
        c.User = ins.user;
        break;
      case 'VOLUME':
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of ins.paths) {
          if (!v.trim()) throw new InvalidParameterError('VOLUME specified can not be an empty string');
          c.Volumes[v.trim()] = {};
        }
        break;
      case 'WORKDIR':
        c.WorkingDir = ins.path.startsWith('/') ? path.posix.normalize(ins.path) : path.posix.join('/', c.WorkingDir ?? '', ins.path);
        break;
      default:
        throw new InvalidParameterError(`${ins.kind.toLowerCase()} is not a valid change command`);
    }
  }
  return c;
}
