// Local task logs: lines with their task's context, stream selection, and the rendering `docker service logs` parses.
import test from 'node:test';
import assert from 'node:assert/strict';
import { FakeTaskRuntime } from '../fakes/task-runtime';
import { localTaskLogs, renderLogLine, type TaskLogLine } from '../../src/cluster/agent/task-logs';

async function collect(it: AsyncIterable<TaskLogLine>): Promise<TaskLogLine[]> {
  const out: TaskLogLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

async function setup() {
  const runtime = new FakeTaskRuntime();
  runtime.images.add('busybox:latest');
  const labels = (task: string) => ({
    'com.docker.swarm.task.id': task, 'com.docker.swarm.service.id': 'svc1', 'com.docker.swarm.node.id': 'node1',
  });
  const a = await runtime.create('web.1.ta', { Image: 'busybox:latest', Labels: labels('ta') });
  const b = await runtime.create('web.2.tb', { Image: 'busybox:latest', Labels: labels('tb') });
  runtime.log(a, 'stdout', 'hello\n', 1_000_000_000n);
  runtime.log(a, 'stderr', 'oops\n', 2_000_000_000n);
  runtime.log(b, 'stdout', 'from b\n', 1_500_000_000n);
  return runtime;
}

test('a service\'s lines carry node, service and task IDs; stdout/stderr selection; one task by its ID', async () => {
  const runtime = await setup();
  const all = await collect(localTaskLogs(runtime, { serviceId: 'svc1' }, { follow: false, stdout: true, stderr: true }));
  assert.deepEqual(all.map((l) => [l.taskId, l.stream, l.line.toString()]), [['ta', 'stdout', 'hello\n'], ['ta', 'stderr', 'oops\n'], ['tb', 'stdout', 'from b\n']]);
  assert.deepEqual([all[0]!.serviceId, all[0]!.nodeId], ['svc1', 'node1']);
  const out = await collect(localTaskLogs(runtime, { taskId: 'ta' }, { follow: false, stdout: true, stderr: false }));
  assert.deepEqual(out.map((l) => l.line.toString()), ['hello\n']);
  const merged = await collect(localTaskLogs(runtime, { serviceId: 'svc1' }, { follow: true, stdout: true, stderr: true }));
  assert.equal(merged.length, 3);
});

test('rendered as dockerd does: timestamp, then sorted query-escaped details, then the line', () => {
  const line: TaskLogLine = { taskId: 't 1', serviceId: 's', nodeId: 'n', stream: 'stdout', timeNano: 1_700_000_000_000_000_123n, line: Buffer.from('hi\n') };
  assert.equal(renderLogLine(line, { timestamps: false, details: false }).toString(), 'hi\n');
  assert.equal(
    renderLogLine(line, { timestamps: true, details: true }).toString(),
    '2023-11-14T22:13:20.000000123Z com.docker.swarm.node.id=n,com.docker.swarm.service.id=s,com.docker.swarm.task.id=t+1 hi\n',
  );
});
