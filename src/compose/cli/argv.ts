// The plugin's command line as the docker CLI hands it over: `[docker's global flags] compose <args>`.
// Only the flags that choose the daemon matter to Compose; the others are read and dropped.
import type { DaemonFlags } from './context';

/** docker's global flags that take a value (their value may be the next word or after `=`). */
const WITH_VALUE: Record<string, keyof DaemonFlags | undefined> = {
  '-H': 'host', '--host': 'host', '-c': 'context', '--context': 'context', '--config': 'config',
  '-l': undefined, '--log-level': undefined, '--tlscacert': undefined, '--tlscert': undefined, '--tlskey': undefined,
};
const BOOLEAN = new Set(['-D', '--debug', '--tls', '--tlsverify']);

export interface PluginArgv extends DaemonFlags {
  debug: boolean;
  /** The words after `compose`. */
  args: string[];
}

export class PluginArgvError extends Error {}

/** Splits the plugin's argv (without node and the script) into docker's global flags and compose's words. */
export function parsePluginArgv(argv: string[], pluginName = 'compose'): PluginArgv {
  const out: PluginArgv = { debug: false, args: [] };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === pluginName) {
      out.args = argv.slice(i + 1);
      return out;
    }
    // A word that is not a flag before any `compose`: run by hand, all of it is compose's.
    if (!word.startsWith('-')) return { ...out, args: argv.slice(i) };
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const flag = eq > 0 ? word.slice(0, eq) : word;
    if (BOOLEAN.has(flag)) { if (flag === '-D' || flag === '--debug') out.debug = true; continue; }
    if (flag in WITH_VALUE) {
      let value: string | undefined;
      if (eq > 0) value = word.slice(eq + 1);
      else value = argv[++i];
      if (value === undefined) throw new PluginArgvError(`flag needs an argument: ${flag}`);
      const key = WITH_VALUE[flag];
      if (key) out[key] = value;
      continue;
    }
    // -Hunix:///x: a short flag with its value attached.
    const short = /^-([Hcl])(.+)$/.exec(word);
    if (short) {
      const key = WITH_VALUE[`-${short[1]}`];
      if (key) out[key] = short[2]!.replace(/^=/, '');
      continue;
    }
    throw new PluginArgvError(`unknown docker flag before "${pluginName}": ${word}`);
  }
  return out;
}
