// Container config as docker-py and the docker CLI read it back: the log driver (json-file, none, unknown ones)
// and the runtime asked for, including docker-py's top-level Runtime that older dockerd read as host config.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon } from '../helpers/daemon';
import type { ErrorBody, IdBody } from '../helpers/api-types';

/** Runs Debian's docker-py (5.0.3, only /usr/bin/python3 has it) with `client` bound to the daemon. */
function py(d: TestDaemon, code: string) {
  const prelude = `import docker\nclient = docker.DockerClient(base_url='unix://${d.sock}')\napi = client.api\n`;
  const r = spawnSync('/usr/bin/python3', ['-c', prelude + code], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  return r.stdout;
}

test('container config that clients read back', { timeout: 300_000 }, async (t) => {
  const d = await new TestDaemon('ctrcfg').startWithBusybox();
  t.after(() => d.cleanup());
  const inspect = (id: string, fmt: string) => d.dockerOk(['inspect', '-f', fmt, id]).trim();
  const createRaw = (body: object, v = '1.41') => {
    const r = d.api('POST', `/v${v}/containers/create`, body);
    assert.equal(r.status, 201, r.body);
    return (JSON.parse(r.body) as IdBody).Id;
  };

  await t.test('the log driver is json-file by default, as dockerd reports it', () => {
    const id = d.dockerOk(['create', 'busybox', 'true']).trim();
    assert.equal(inspect(id, '{{.HostConfig.LogConfig.Type}}'), 'json-file');
    assert.equal(inspect(id, '{{json .HostConfig.LogConfig.Config}}'), '{}');
    assert.equal(d.dockerOk(['info', '-f', '{{.LoggingDriver}}']).trim(), 'json-file');
    d.dockerOk(['rm', id]);
  });

  await t.test('docker-py: containers.run() without detach returns the output', () => {
    assert.equal(py(d, "print(client.containers.run('busybox', 'echo hi', remove=True))"), "b'hi\\n'\n");
    assert.equal(d.dockerOk(['ps', '-aq']), '');
  });

  await t.test("docker-py's log config tests: json-file with options, the default type, an unknown driver", () => {
    const out = py(d, `
lc = docker.types.LogConfig(type='json-file', config={'max-file': '100'})
c = api.create_container('busybox', ['true'], host_config=api.create_host_config(log_config=lc))
api.start(c)
print(api.inspect_container(c)['HostConfig']['LogConfig'])
lc = docker.types.LogConfig(type='', config={'max-file': '100'})
c = api.create_container('busybox', ['true'], host_config=api.create_host_config(log_config=lc))
print(api.inspect_container(c)['HostConfig']['LogConfig'])
lc = docker.types.LogConfig(type='json-file', config=None)
c = api.create_container('busybox', ['true'], host_config=api.create_host_config(log_config=lc))
print(api.inspect_container(c)['HostConfig']['LogConfig'])
try:
    api.create_container('busybox', ['true'], host_config=api.create_host_config(log_config=docker.types.LogConfig(type='asdf', config={})))
except docker.errors.APIError as e:
    print(e.response.status_code, e.explanation)
`);
    assert.equal(out, [
      "{'Type': 'json-file', 'Config': {'max-file': '100'}}",
      "{'Type': 'json-file', 'Config': {'max-file': '100'}}",
      "{'Type': 'json-file', 'Config': {}}",
      "400 logger: no log driver named 'asdf' is registered",
      '',
    ].join('\n'));
    d.docker(['rm', '-f', ...d.dockerOk(['ps', '-aq']).split('\n').filter(Boolean)]);
  });

  await t.test('none: output still reaches an attached client; logs are refused as dockerd refuses them', () => {
    assert.equal(d.dockerOk(['run', '--rm', '--log-driver', 'none', 'busybox', 'echo', 'attached']), 'attached\n');
    const id = d.dockerOk(['run', '-d', '--log-driver', 'none', 'busybox', 'echo', 'gone']).trim();
    d.dockerOk(['wait', id]);
    assert.equal(inspect(id, '{{.HostConfig.LogConfig.Type}}'), 'none');
    assert.match(d.dockerFail(['logs', id]), /Error response from daemon: configured logging driver does not support reading/);
    const logs = d.api('GET', `/v1.41/containers/${id}/logs?stdout=1`);
    assert.equal(logs.status, 501);
    assert.equal((JSON.parse(logs.body) as ErrorBody).message, 'configured logging driver does not support reading');
    assert.equal(d.api('POST', `/v1.41/containers/${id}/attach?logs=1&stdout=1`).status, 501);
    d.dockerOk(['rm', id]);
  });

  await t.test('unknown drivers and options are refused at create with dockerd words', () => {
    const refused = (args: string[], message: string) => {
      const err = d.dockerFail(['create', ...args, 'busybox', 'true']);
      assert.ok(err.includes(`Error response from daemon: ${message}`), err);
    };
    refused(['--log-driver', 'foo'], "logger: no log driver named 'foo' is registered");
    refused(['--log-driver', 'k8s-file'], "logger: no log driver named 'k8s-file' is registered");
    refused(['--log-opt', 'bogus=1'], "unknown log opt 'bogus' for json-file log driver");
    refused(['--log-opt', 'max-size=0'], 'max-size must be a positive number');
    refused(['--log-opt', 'max-size=lots'], "invalid size: 'lots'");
    refused(['--log-opt', 'max-file=0'], 'max-file cannot be less than 1');
    refused(['--log-opt', 'compress=true'], 'compress cannot be true when max-file is less than 2 or max-size is not set');
    refused(['--log-opt', 'mode=sometimes'], 'logger: logging mode not supported: sometimes');
    const r = d.api('POST', '/v1.41/containers/create', { Image: 'busybox', HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': 10 } } } });
    assert.equal(r.status, 400);
    assert.match((JSON.parse(r.body) as ErrorBody).message, /cannot unmarshal number into Go struct field .*LogConfig.Config of type string/);
    assert.equal(d.dockerOk(['ps', '-aq']), '');
  });

  await t.test('json-file max-size and max-file: the log on disk stays within max-size x max-file', () => {
    const id = d.dockerOk(['run', '-d', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c',
      'i=0; while [ $i -lt 3000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done']).trim();
    d.dockerOk(['wait', id]);
    assert.equal(inspect(id, '{{json .HostConfig.LogConfig}}'), '{"Type":"json-file","Config":{"max-file":"2","max-size":"10k"}}');
    const logPath = inspect(id, '{{.LogPath}}');
    assert.ok(fs.statSync(logPath).size <= 20_000, `log is ${fs.statSync(logPath).size} bytes`);
    const lines = d.dockerOk(['logs', id]).split('\n').filter(Boolean);
    assert.ok(lines.length > 0 && lines.length < 3000, `${lines.length} lines kept`);
    assert.equal(lines.at(-1), 'line-2999-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
    d.dockerOk(['rm', id]);
  });

  await t.test('Runtime: what the client asked is kept, in HostConfig or at the top level of the body', () => {
    // The real-clients check's body: Runtime at the top level, no HostConfig (dockerd up to v27 read it there).
    const top = createRaw({ Image: 'busybox', Cmd: ['sleep', '30'], Runtime: 'runc' });
    assert.equal(inspect(top, '{{.HostConfig.Runtime}}'), 'runc');
    d.dockerOk(['start', top]);
    // It runs under runc: runc's own state (under the daemon's runtime root) has it.
    const state = spawnSync('runc', [`--root=${path.join(d.runRoot, 'runtime', 'runc')}`, 'state', top], { encoding: 'utf8' });
    assert.equal(state.status, 0, state.stderr);
    assert.equal((JSON.parse(state.stdout) as { status: string }).status, 'running');
    d.dockerOk(['rm', '-f', top]);

    const inHostConfig = createRaw({ Image: 'busybox', Cmd: ['true'], HostConfig: { Runtime: 'runc' } });
    assert.equal(inspect(inHostConfig, '{{.HostConfig.Runtime}}'), 'runc');
    // docker-py's create_container(runtime=...) sends it at the top level too (its test_create_with_runtime).
    const viaPy = py(d, "c = api.create_container('busybox', ['echo', 'test'], runtime='runc')\nprint(c['Id'], api.inspect_container(c)['HostConfig']['Runtime'])").trim().split(' ');
    assert.equal(viaPy[1], 'runc');
    assert.equal(d.dockerOk(['start', '-a', viaPy[0]]), 'test\n');
    // Without one: Berth's default, crun, named as it is.
    const plain = createRaw({ Image: 'busybox', Cmd: ['true'] });
    assert.equal(inspect(plain, '{{.HostConfig.Runtime}}'), 'crun');
    const unknown = d.api('POST', '/v1.41/containers/create', { Image: 'busybox', Runtime: 'nosuch' });
    assert.equal(unknown.status, 400);
    assert.equal((JSON.parse(unknown.body) as ErrorBody).message, 'unknown or invalid runtime name: nosuch');
    d.dockerOk(['rm', inHostConfig, viaPy[0], plain]);
  });

  await t.test('top-level host config beside a HostConfig: only Memory, MemorySwap, CpuShares, CpusetCpus fill it, as moby merged them', () => {
    const id = createRaw({ Image: 'busybox', Cmd: ['true'], Memory: 64 * 1024 * 1024, CpuShares: 512, Runtime: 'runc', HostConfig: { CpuShares: 256 } });
    assert.equal(inspect(id, '{{.HostConfig.Memory}} {{.HostConfig.CpuShares}} {{.HostConfig.Runtime}}'), `${64 * 1024 * 1024} 256 crun`);
    const cpuset = createRaw({ Image: 'busybox', Cmd: ['true'], Cpuset: '0', Privileged: false });
    assert.equal(inspect(cpuset, '{{.HostConfig.CpusetCpus}}'), '0');
    d.dockerOk(['rm', id, cpuset]);
  });

  await t.test("host config keys match their fields case-insensitively, as Go's json does (docker-py sends CPURealtimePeriod)", () => {
    const out = py(d, `
c = api.create_container('busybox', 'true', host_config=api.create_host_config(cpu_rt_period=1000, cpu_rt_runtime=500))
hc = api.inspect_container(c)['HostConfig']
print(hc['CpuRealtimePeriod'], hc['CpuRealtimeRuntime'])
api.remove_container(c)
`);
    assert.equal(out, '1000 500\n');
    const id = createRaw({ Image: 'busybox', Cmd: ['true'], HostConfig: { memory: 32 * 1024 * 1024, CPUSHARES: 300, CpuShares: 400 } });
    assert.equal(inspect(id, '{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}'), `${32 * 1024 * 1024} 400`);
    d.dockerOk(['rm', id]);
  });

  await t.test('a container recorded with k8s-file (before json-file was presented) loads, shown as json-file', async () => {
    const id = d.dockerOk(['run', '-d', 'busybox', 'echo', 'from-before']).trim();
    d.dockerOk(['wait', id]);
    await d.stop();
    const file = path.join(d.dataRoot, 'containers', id, 'container.json');
    const rec = JSON.parse(fs.readFileSync(file, 'utf8')) as { hostConfig: { LogConfig: { Type: string; Config: Record<string, string> } } };
    rec.hostConfig.LogConfig = { Type: 'k8s-file', Config: {} };
    fs.writeFileSync(file, JSON.stringify(rec));
    await d.start();
    assert.equal(inspect(id, '{{.HostConfig.LogConfig.Type}}'), 'json-file');
    assert.equal(d.dockerOk(['logs', id]), 'from-before\n');
    assert.equal(d.dockerOk(['start', '-a', id]), 'from-before\n');
    d.dockerOk(['rm', id]);
  });
});
