// Declared shapes of the exec bodies (moby's container.ExecOptions and ExecStartOptions).
import { array, bool, int, oneOf, str, struct } from './decode';

const strings = array(str);
const consoleSize = array(int('uint'), '[2]uint');

/** POST /containers/{id}/exec. Cmd also takes one string, as Berth always has (moby's is a []string). */
export const execCreate = struct('ExecOptions', {
  User: str, Privileged: bool, Tty: bool, ConsoleSize: consoleSize, AttachStdin: bool, AttachStderr: bool, AttachStdout: bool,
  Detach: bool, DetachKeys: str, Env: strings, WorkingDir: str, Cmd: oneOf(str, strings),
}, 'container.ExecOptions');

/** POST /exec/{id}/start. */
export const execStart = struct('ExecStartOptions', { Detach: bool, Tty: bool, ConsoleSize: consoleSize }, 'container.ExecStartOptions');
