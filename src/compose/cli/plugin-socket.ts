// The docker CLI's plugin socket (DOCKER_CLI_PLUGIN_SOCKET, an abstract unix socket "@name" on Linux): the
// CLI closes it when it is told to stop (a signal while its output is not a terminal), and compose then
// stops as on Ctrl-C. Node 20 cannot connect to an abstract socket (it passes the whole zero-padded
// sun_path, so the name never matches: ECONNREFUSED); there the CLI's listener is watched in /proc/net/unix
// instead, and its disappearance is the same news as a closed connection.
import * as fs from 'node:fs';
import * as net from 'node:net';

/** How often the listener is looked for when it cannot be connected to. */
const POLL_MS = 250;

/** Calls `onClose` once when the CLI closes its plugin socket; nothing when there is no socket. */
export function watchPluginSocket(address: string | undefined, onClose: () => void): void {
  if (!address) return;
  const abstract = address.startsWith('@');
  const socket = net.connect({ path: abstract ? `\0${address.slice(1)}` : address });
  let connected = false;
  socket.on('connect', () => { connected = true; });
  socket.on('error', () => {
    if (!connected && abstract) watchListener(address, onClose);
  });
  socket.on('close', (hadError) => {
    if (connected && !hadError) onClose();
  });
  socket.unref();
}

/** Polls /proc/net/unix for the CLI's listening socket; calls `onClose` when it is gone. */
function watchListener(address: string, onClose: () => void): void {
  const listed = (): boolean | undefined => {
    try {
      return fs.readFileSync('/proc/net/unix', 'latin1').includes(` ${address}\n`);
    } catch {
      return undefined;
    }
  };
  if (listed() !== true) return;
  const timer = setInterval(() => {
    if (listed() === false) {
      clearInterval(timer);
      onClose();
    }
  }, POLL_MS);
  timer.unref();
}
