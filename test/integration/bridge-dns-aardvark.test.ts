// AardvarkBridgeDns with the real aardvark-dns 1.4: started by the first line, names answered, a second container
// seen after the reload, a removed one no longer answered, and the server stopped with the last file. It listens on
// a loopback address of its own (127.0.0.0/8 is all local), so no namespace or bridge is needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AardvarkBridgeDns } from '../../src/network/bridge/dns';
import { DEFAULT_AARDVARK } from '../../src/network/netavark';

const LISTEN = `127.77.${process.pid % 250}.1`;

async function resolve(name: string): Promise<string[]> {
  const r = new dns.Resolver({ timeout: 1500, tries: 1 });
  r.setServers([LISTEN]);
  return r.resolve4(name).then((a) => [...a].sort(), () => []);
}

async function eventually<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await f();
  for (let i = 0; i < 20 && !ok(v); i++) { await new Promise((r) => setTimeout(r, 150)); v = await f(); }
  assert.ok(ok(v), `${what}: ${JSON.stringify(v)}`);
  return v;
}

test('aardvark-dns started, reloaded and stopped by AardvarkBridgeDns', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const cfg = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bdns-'));
  const net = 'f'.repeat(64);
  const d = new AardvarkBridgeDns(cfg, DEFAULT_AARDVARK);
  const pidFile = path.join(cfg, 'aardvark-dns', 'aardvark.pid');
  try {
    await d.add(net, [LISTEN], { containerId: 'c1'.repeat(32), ipv4: ['10.66.0.2'], ipv6: [], names: ['one', 'uno'] });
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(pid > 0 && fs.existsSync(`/proc/${pid}`), 'aardvark-dns runs, its pid written');
    assert.equal(fs.readFileSync(path.join(cfg, 'aardvark-dns', net), 'utf8'), `${LISTEN}\n${'c1'.repeat(32)} 10.66.0.2  one,uno\n`);
    await eventually('one', () => resolve('one'), (v) => v.join() === '10.66.0.2');
    assert.deepEqual(await resolve('uno'), ['10.66.0.2']);

    await d.add(net, [LISTEN], { containerId: 'c2'.repeat(32), ipv4: ['10.66.0.3'], ipv6: [], names: ['two'] });
    await eventually('two after the reload', () => resolve('two'), (v) => v.join() === '10.66.0.3');
    assert.equal(Number(fs.readFileSync(pidFile, 'utf8')), pid, 'reloaded, not started again');
    await d.setNames(net, { ['c2'.repeat(32)]: ['two', 'deux'] });
    await eventually('deux after a rename', () => resolve('deux'), (v) => v.join() === '10.66.0.3');

    await d.remove(net, 'c1'.repeat(32));
    await eventually('one gone', () => resolve('one'), (v) => v.length === 0);
    // aardvark-dns 1.4 rebinds its sockets on SIGHUP: a query in that instant goes unanswered (a resolver retries).
    await eventually('two kept', () => resolve('two'), (v) => v.join() === '10.66.0.3');

    await d.remove(net, 'c2'.repeat(32));
    assert.equal(fs.existsSync(path.join(cfg, 'aardvark-dns', net)), false, 'the network\'s file goes with its last line');
    await eventually('aardvark-dns stopped', async () => fs.existsSync(`/proc/${pid}`), (alive) => !alive);
  } finally {
    const pid = Number(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : 0);
    if (pid > 0) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    fs.rmSync(cfg, { recursive: true, force: true });
  }
});
