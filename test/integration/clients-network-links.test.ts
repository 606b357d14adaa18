// Legacy links on user networks, resolved through DNS as dockerd's embedded DNS does: the flows of docker-py's
// test_create_with_links and test_connect_with_links (a container given EndpointConfig.Links on a network, the target
// started there afterwards, then `nslookup <alias>` inside the linker) with Debian's python3-docker, and the docker
// CLI's `--network N --link target:alias` in both orders (target first, linker first), by nslookup and ping; the alias
// goes when its last linker goes (also when that linker died while berthd was down), and survives a berthd restart.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import type { ContainerInspect } from '../helpers/api-types';

/** Runs Python with Debian's docker-py (5.0.3, only /usr/bin/python3 has it); `api` is an APIClient on the daemon. */
/** What the docker-py link flow prints: the linker's links, the lookup's exit code and output, the target's address. */
interface LinkFlowResult {
  links: string[] | null;
  exit: number;
  out: string;
  target_ip: string;
}

function py(d: TestDaemon, code: string, args: string[] = []): LinkFlowResult {
  const prelude = `import docker, json, sys\napi = docker.APIClient(base_url='unix://${d.sock}')\n`;
  const r = spawnSync('/usr/bin/python3', ['-c', prelude + code, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as LinkFlowResult;
}

// Shared by both docker-py flows: start the target on the network, then ask for the alias from inside the linker.
const startTargetAndLookUp = `
target = api.create_container('busybox', ['sleep', '300'], name=sys.argv[2],
                              host_config=api.create_host_config(network_mode=sys.argv[1]))
api.start(target)
run = api.exec_create(linker, ['nslookup', 'bar'])
out = api.exec_start(run).decode()
print(json.dumps({
    'links': links,
    'exit': api.exec_inspect(run)['ExitCode'],
    'out': out,
    'target_ip': api.inspect_container(target)['NetworkSettings']['Networks'][sys.argv[1]]['IPAddress'],
}))
`;

test('legacy links on user networks resolve through DNS', { timeout: 600_000 }, async (t) => {
  const d = new TestDaemon('netlinks');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const ipOn = (name: string, net: string) => (JSON.parse(ok(['inspect', name])) as ContainerInspect[])[0].NetworkSettings.Networks[net].IPAddress;
  /** nslookup's answer line for an address. */
  const answers = (ip: string) => new RegExp(`Address:\\s+${ip.replace(/\./g, '\\.')}\\b`);
  /** nslookup inside a container: its exit code and output. */
  const lookup = (name: string, host: string) => d.docker(['exec', name, 'nslookup', host]);
  /** Whether `host` resolves, from a throw-away container on the network. */
  const resolvesFromNew = (net: string, host: string) => d.docker(['run', '--rm', '--network', net, 'busybox', 'nslookup', host]).code === 0;

  /**
   * docker-py's flow on a new network: `linkerCode` makes and starts `linker` with links=[(target, 'bar')] on it; the
   * target starts there afterwards; the linker's network settings show the link and `nslookup bar` finds the target.
   */
  const pyLinkFlow = (net: string, target: string, linkerCode: string) => {
    ok(['network', 'create', net]);
    const r = py(d, `${linkerCode}
links = api.inspect_container(linker)['NetworkSettings']['Networks'][sys.argv[1]]['Links']
${startTargetAndLookUp}`, [net, target]);
    assert.deepEqual(r.links, [`${target}:bar`]);
    assert.equal(r.exit, 0, r.out);
    assert.match(r.out, answers(r.target_ip));
  };

  await t.test('docker-py: a container created with endpoint links resolves the alias of a target started after it', () => {
    pyLinkFlow('pylinks1', 'py-upstream-1', `
host_config = api.create_host_config(network_mode=sys.argv[1])
endpoints = api.create_networking_config({sys.argv[1]: api.create_endpoint_config(links=[(sys.argv[2], 'bar')])})
linker = api.create_container('busybox', ['sleep', '300'], host_config=host_config, networking_config=endpoints)
api.start(linker)`);
  });

  await t.test('docker-py: a container reconnected with links resolves the alias of a target started after it', () => {
    pyLinkFlow('pylinks2', 'py-upstream-2', `
linker = api.create_container('busybox', ['sleep', '300'], host_config=api.create_host_config(network_mode=sys.argv[1]))
api.start(linker)
api.disconnect_container_from_network(linker, sys.argv[1])
api.connect_container_to_network(linker, sys.argv[1], links=[(sys.argv[2], 'bar')])`);
  });

  await t.test('docker CLI, target first: --link target:alias resolves and pings; the alias goes with its linker', () => {
    ok(['network', 'create', 'clilinks']);
    ok(['run', '-d', '--name', 'tgt1', '--network', 'clilinks', 'busybox', 'sleep', '300']);
    assert.equal(resolvesFromNew('clilinks', 'db'), false, 'no alias before any linker');
    ok(['run', '-d', '--name', 'lnk1', '--network', 'clilinks', '--link', 'tgt1:db', 'busybox', 'sleep', '300']);
    assert.deepEqual((JSON.parse(ok(['inspect', 'lnk1'])) as ContainerInspect[])[0].NetworkSettings.Networks.clilinks.Links, ['tgt1:db']);
    const r = lookup('lnk1', 'db');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, answers(ipOn('tgt1', 'clilinks')));
    const ping = d.docker(['exec', 'lnk1', 'ping', '-c1', '-W5', 'db']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    // The target keeps its own name; the linker's lookups of other names are untouched.
    assert.equal(lookup('lnk1', 'tgt1').code, 0);
    ok(['rm', '-f', 'lnk1']);
    assert.equal(resolvesFromNew('clilinks', 'db'), false, 'the alias is gone with its only linker');
    assert.equal(resolvesFromNew('clilinks', 'tgt1'), true, 'the target still resolves by name');
  });

  await t.test('docker CLI, linker first: the target started later gets the alias; a second linker keeps it alive', () => {
    // The target does not exist yet: on a user network moby does not check links at create.
    ok(['run', '-d', '--name', 'lnk2', '--network', 'clilinks', '--link', 'tgt2:cache', 'busybox', 'sleep', '300']);
    ok(['run', '-d', '--name', 'tgt2', '--network', 'clilinks', 'busybox', 'sleep', '300']);
    const r = lookup('lnk2', 'cache');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, answers(ipOn('tgt2', 'clilinks')));
    const ping = d.docker(['exec', 'lnk2', 'ping', '-c1', '-W5', 'cache']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    // A second linker with the same alias: removing the first keeps the alias for the second.
    ok(['run', '-d', '--name', 'lnk3', '--network', 'clilinks', '--link', 'tgt2:cache', 'busybox', 'sleep', '300']);
    ok(['rm', '-f', 'lnk2']);
    assert.equal(lookup('lnk3', 'cache').code, 0, 'the second linker still resolves the alias');
    // Stopping the target and starting it again: the alias comes back with it.
    ok(['restart', '-t', '1', 'tgt2']);
    assert.equal(lookup('lnk3', 'cache').code, 0, 'the alias is back once the target runs again');
  });

  await t.test('the alias survives a berthd restart and still goes with its last linker afterwards', async () => {
    await d.stop();
    await d.start();
    const r = lookup('lnk3', 'cache');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    ok(['rm', '-f', 'lnk3']);
    assert.equal(resolvesFromNew('clilinks', 'cache'), false, 'the alias is gone with its last linker');
    assert.equal(resolvesFromNew('clilinks', 'tgt2'), true, 'the target still resolves by name');
  });

  await t.test('a linker that dies while berthd is down: the start-up takes its alias away', async () => {
    ok(['run', '-d', '--name', 'lnk4', '--network', 'clilinks', '--link', 'tgt2:store', 'busybox', 'sleep', '300']);
    assert.equal(lookup('lnk4', 'store').code, 0);
    const pid = (JSON.parse(ok(['inspect', 'lnk4'])) as ContainerInspect[])[0].State.Pid;
    await d.kill9();
    process.kill(pid, 'SIGKILL');
    await d.start();
    assert.equal((JSON.parse(ok(['inspect', 'lnk4'])) as ContainerInspect[])[0].State.Running, false);
    assert.equal(resolvesFromNew('clilinks', 'store'), false, 'the alias is gone with its linker');
    assert.equal(resolvesFromNew('clilinks', 'tgt2'), true, 'the target still resolves by name');
  });

  await t.test('clean up', () => {
    for (const id of ok(['ps', '-aq']).split('\n').filter(Boolean)) ok(['rm', '-f', id]);
    for (const n of ['pylinks1', 'pylinks2', 'clilinks']) ok(['network', 'rm', n]);
  });
});
