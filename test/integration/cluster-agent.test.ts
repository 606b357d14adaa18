// The agent's worker against a real berthd: task containers made from its create bodies run on the real engine
// (name and labels, templates, a secret file bound read-only, a host-mode port, exit codes into task status).
// The engine lives inside berthd, so this test reaches it through its HTTP API with a small TaskRuntime of its own
// (events by polling: the worker's resync); task files are written by the real EngineTaskRuntime code. The
// engine-backed runtime as daemon.ts wires it is covered by the cluster's end-to-end tests.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon } from '../helpers/daemon';
import { until } from '../helpers/wait';
import { FakeClusterStore } from '../fakes/cluster-store';
import { ObjectsStore } from '../../src/cluster/store/objects-store';
import { Worker } from '../../src/cluster/agent/worker';
import { EngineTaskRuntime } from '../../src/cluster/agent/task-runtime-engine';
import type { TaskContainerState, TaskFile, TaskRuntime } from '../../src/cluster/agent/task-runtime';
import type { ContainerCreateBody } from '../../src/wire/docker';
import type { Secret, Service, Task } from '../../src/wire/swarm';

const NODE = 'node000000000000000000001';

/** A TaskRuntime over berthd's Engine API (what the engine-backed one does in-process). */
class ApiTaskRuntime implements TaskRuntime {
  private readonly files: EngineTaskRuntime;

  constructor(private readonly d: TestDaemon, filesRoot: string) {
    const unused = () => { throw new Error('not used'); };
    this.files = new EngineTaskRuntime({
      containers: { find: unused, all: unused, create: unused, start: unused, stop: unused, remove: unused, logs: unused },
      images: { has: unused }, pull: unused, events: { subscribe: unused }, filesRoot,
    });
  }

  private call(method: string, url: string, body?: unknown, ok = [200, 201, 204, 304]): unknown {
    const r = this.d.api(method, url, body);
    if (!ok.includes(r.status)) throw new Error(JSON.parse(r.body || '{}').message ?? `HTTP ${r.status}`);
    return r.body ? JSON.parse(r.body) : undefined;
  }

  async hasImage(ref: string): Promise<boolean> { return this.d.api('GET', `/images/${ref}/json`).status === 200; }
  async pullImage(ref: string): Promise<void> { throw new Error(`pull access denied for ${ref}`); }
  async create(name: string, body: ContainerCreateBody): Promise<string> {
    return (this.call('POST', `/containers/create?name=${encodeURIComponent(name)}`, body) as { Id: string }).Id;
  }
  async start(id: string): Promise<void> { this.call('POST', `/containers/${id}/start`); }
  async stop(id: string, timeoutSeconds: number): Promise<void> { this.call('POST', `/containers/${id}/stop?t=${timeoutSeconds}`); }
  async remove(id: string): Promise<void> { this.call('DELETE', `/containers/${id}?force=1&v=1`, undefined, [204, 404]); }
  async inspect(idOrName: string): Promise<TaskContainerState | undefined> {
    const r = this.d.api('GET', `/containers/${encodeURIComponent(idOrName)}/json`);
    if (r.status === 404) return undefined;
    const c = JSON.parse(r.body) as {
      Id: string; Name: string; Config: { Labels: Record<string, string> }; NetworkSettings: { Ports: Record<string, { HostPort: string }[] | null> };
      State: { Status: TaskContainerState['status']; Pid: number; ExitCode: number; Error: string; StartedAt: string; Health?: { Status: string } };
    };
    const health = c.State.Health?.Status;
    return {
      id: c.Id, name: c.Name.slice(1), labels: c.Config.Labels ?? {}, status: c.State.Status, pid: c.State.Pid, exitCode: c.State.ExitCode,
      error: c.State.Error, started: !c.State.StartedAt.startsWith('0001-'),
      ...(health === 'starting' || health === 'healthy' || health === 'unhealthy' ? { health } : {}),
      ports: Object.entries(c.NetworkSettings.Ports ?? {}).flatMap(([key, b]) => (b ?? []).slice(0, 1).map((x) => ({
        containerPort: Number(key.split('/')[0]), proto: key.split('/')[1] as 'tcp', hostPort: Number(x.HostPort),
      }))),
    };
  }
  async listByLabel(label: string, value: string): Promise<TaskContainerState[]> {
    const list = this.call('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`${label}=${value}`] }))}`) as { Id: string }[];
    const out: TaskContainerState[] = [];
    for (const c of list) { const s = await this.inspect(c.Id); if (s) out.push(s); }
    return out;
  }
  subscribe(): () => void { return () => undefined; }
  writeTaskFiles(taskId: string, files: TaskFile[]): Promise<Map<string, string>> { return this.files.writeTaskFiles(taskId, files); }
  removeTaskFiles(taskId: string): Promise<void> { return this.files.removeTaskFiles(taskId); }
  async *logs(): AsyncIterable<never> { /* not used here */ }
}

test('the agent runs tasks on a real berthd', { timeout: 180_000 }, async (t) => {
  const d = new TestDaemon('agent');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const filesRoot = path.join(d.runRoot, 'swarm', 'tasks');
  const objects = new ObjectsStore(new FakeClusterStore());
  const runtime = new ApiTaskRuntime(d, filesRoot);
  const worker = new Worker({
    nodeId: NODE, objects, runtime, node: { hostname: 'node1', os: 'linux', architecture: 'x86_64' },
    log: { info: () => undefined, error: (m) => process.stderr.write(`${m}\n`) }, resyncMs: 200,
  });
  t.after(() => worker.stop());
  await objects.create<Service>('services', {
    ID: 'svc1', CreatedAt: '', UpdatedAt: '', Endpoint: { Spec: {} },
    Spec: { Name: 'web', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 0, PublishMode: 'host' }] } },
  }, 'web');
  await objects.create<Secret>('secrets', { ID: 'sec1', CreatedAt: '', UpdatedAt: '', Spec: { Name: 'pw', Labels: {}, Data: Buffer.from('s3cr3t').toString('base64') } }, 'pw');
  await worker.start();
  const task = (id: string, slot: number, args: string[], extra: Partial<Task['Spec']['ContainerSpec']> = {}): Omit<Task, 'Version'> & { ID: string } => ({
    ID: id, CreatedAt: '', UpdatedAt: '', Labels: {}, ServiceID: 'svc1', Slot: slot, NodeID: NODE, DesiredState: 'running', Volumes: null,
    Spec: { ContainerSpec: { Image: 'busybox', Command: ['sh', '-c'], Args: args, ...extra } },
    Status: { Timestamp: '', State: 'assigned', Message: '', PortStatus: {} },
  });
  const stored = async (id: string) => (await objects.get<Task>('tasks', id))!;

  await t.test('a task with a secret, templates and a host port runs, reads its secret, and completes', async () => {
    await objects.create<Task>('tasks', task('taska00000000000000000001', 1, ['cat /run/secrets/pw; echo " $SVC $HOSTNAME"; ls -l /run/secrets/pw; sleep 1'], {
      Env: ['SVC={{.Service.Name}}'], Hostname: '{{.Node.Hostname}}-{{.Task.Slot}}',
      Secrets: [{ SecretID: 'sec1', SecretName: 'pw', File: { Name: 'pw', UID: '1000', GID: '1000', Mode: 0o400 } }],
    }));
    const name = 'web.1.taska00000000000000000001';
    const running = await until(async () => { const s = await stored('taska00000000000000000001'); return (s.Status.State === 'running' || s.Status.State === 'complete') && s; }, 'running', 300);
    assert.ok(running.Status.ContainerStatus?.ContainerID);
    const done = await until(async () => { const s = await stored('taska00000000000000000001'); return s.Status.State === 'complete' && s; }, 'complete', 300);
    assert.equal(done.Status.Message, 'finished');
    const logs = d.dockerOk(['logs', name]);
    assert.match(logs, /^s3cr3t web node1-1\n/);
    assert.match(logs, /-r-------- +1 1000 +1000 .*\/run\/secrets\/pw/);
    const labels = JSON.parse(d.dockerOk(['inspect', '-f', '{{json .Config.Labels}}', name])) as Record<string, string>;
    assert.equal(labels['com.docker.swarm.service.name'], 'web');
    assert.equal(labels['com.docker.swarm.node.id'], NODE);
    assert.equal(d.dockerOk(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', name]).trim(), 'no');
  });

  await t.test('a non-zero exit fails the task; desired remove removes its container and files', async () => {
    await objects.create<Task>('tasks', task('taskb00000000000000000001', 2, ['exit 3']));
    const failed = await until(async () => { const s = await stored('taskb00000000000000000001'); return s.Status.State === 'failed' && s; }, 'failed', 300);
    assert.equal(failed.Status.Err, 'task: non-zero exit (3)');
    for (const id of ['taska00000000000000000001', 'taskb00000000000000000001']) {
      await objects.modify<Task>('tasks', id, (cur) => ({ ...cur, DesiredState: 'remove' }));
    }
    await until(() => d.dockerOk(['ps', '-aq', '--filter', 'label=com.docker.swarm.service.id=svc1']).trim() === '', 'containers removed', 300);
    await until(() => !fs.existsSync(path.join(filesRoot, 'taska00000000000000000001')), 'files removed', 100);
  });
});
