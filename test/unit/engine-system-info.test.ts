// Unit tests of GET /info's document (src/engine/system-info.ts) from fake host facts and containers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { systemInfo } from '../../src/engine/system-info';
import type { HostFacts } from '../../src/host/system-facts';
import type { ContainerRecord } from '../../src/engine/container-record';

const host: HostFacts = {
  daemonId: async () => 'the-id', operatingSystem: async () => 'Debian GNU/Linux 12 (bookworm)', openFds: async () => 42,
  kernelVersion: () => '6.1.0', machine: () => 'x86_64', hostname: () => 'box', cpus: () => 2, memTotal: () => 1 << 30,
};
const ctr = (status: string) => ({ state: { status } }) as unknown as ContainerRecord;

test('counts, host facts and registry config as Docker\'s SystemInfo', async () => {
  const info = await systemInfo({
    containers: { all: () => [ctr('running'), ctr('paused'), ctr('exited'), ctr('created')] }, imageCount: async () => 7, host,
    dataRoot: '/var/lib/berth', cgroupVersion: '1', experimental: false, insecureRegistries: ['10.0.0.0/8', 'reg.local:5000'],
    runtimes: { crun: '/usr/bin/crun' }, defaultRuntime: 'crun',
  });
  assert.deepEqual([info.Containers, info.ContainersRunning, info.ContainersPaused, info.ContainersStopped, info.Images], [4, 1, 1, 2, 7]);
  assert.deepEqual([info.ID, info.NFd, info.KernelVersion, info.Architecture, info.Name, info.NCPU, info.OperatingSystem],
    ['the-id', 42, '6.1.0', 'x86_64', 'box', 2, 'Debian GNU/Linux 12 (bookworm)']);
  assert.deepEqual(info.RegistryConfig, {
    InsecureRegistryCIDRs: ['127.0.0.0/8', '10.0.0.0/8'],
    IndexConfigs: { 'reg.local:5000': { Name: 'reg.local:5000', Mirrors: [], Secure: false, Official: false } },
    Mirrors: [],
  });
  assert.deepEqual(info.Runtimes, { crun: { path: '/usr/bin/crun' } });
  assert.equal((info.Swarm as { LocalNodeState: string }).LocalNodeState, 'inactive');
});
