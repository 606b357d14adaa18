// The convergence planner, config hash and its field diff, labels and names of src/compose/project.
import test from 'node:test';
import assert from 'node:assert/strict';
import { changedFields, fieldHashesLabel, CONFIG_FIELDS_LABEL, serviceHash, stableJson } from '../../src/compose/project/config-hash';
import { containerLabels, dependsOnLabel, networkLabels, volumeLabels } from '../../src/compose/project/labels';
import { containerName, ComposeProjectError, serviceImage, desiredScale } from '../../src/compose/project/naming';
import { orphanContainers, orphanWarning, planService, type ObservedContainer, type ServicePlanInput } from '../../src/compose/project/plan';
import { COMPOSE_VERSION, LABEL } from '../../src/compose/model';
import { withDefaultNetwork } from '../../src/compose/project/context';
import { projectOf } from '../fakes/compose-project';

const project = projectOf('app', {
  web: { image: 'busybox', environment: { A: '1' }, depends_on: { db: { condition: 'service_healthy', required: true, restart: true } } },
  db: { image: 'busybox' },
});
const web = project.services.web;

function observed(number: number, state: string, service = web, labels: Record<string, string> = {}): ObservedContainer {
  return {
    id: `id${number}`, name: `app-${service.name}-${number}`, service: service.name, number, oneoff: false, state,
    labels: { [LABEL.configHash]: serviceHash(service), [LABEL.image]: 'sha256:img', ...fieldHashesLabel(service), ...labels },
  };
}
const input = (over: Partial<ServicePlanInput>): ServicePlanInput => ({
  project, service: web, scale: 1, existing: [], configHash: serviceHash(web), imageId: 'sha256:img', recreate: 'diverged', ...over,
});

test('names: <project>-<service>-<n>, container_name for one replica only, built images <project>-<service>', () => {
  assert.equal(containerName(project, web, 3), 'app-web-3');
  const named = { ...web, container_name: 'mine' };
  assert.equal(containerName(project, named, 1, 1), 'mine');
  assert.throws(() => containerName(project, named, 1, 2), (e: Error) => e instanceof ComposeProjectError && /services\.web: container_name "mine".*scaled to 2/.test(e.message));
  assert.equal(serviceImage(project, web), 'busybox');
  assert.equal(serviceImage(project, { name: 'api', build: { context: '/x' } }), 'app-api');
  assert.equal(desiredScale({ name: 's', deploy: { replicas: 3 } }), 3);
  assert.equal(desiredScale({ name: 's', scale: 2, deploy: { replicas: 3 } }), 2);
  assert.equal(desiredScale({ name: 's', scale: 2 }, 5), 5);
});

test('labels: Compose v2 keys and values on containers, networks and volumes', () => {
  const l = containerLabels(project, web, { number: 2, oneoff: false, configHash: 'h', imageId: 'sha256:i' });
  assert.equal(l[LABEL.project], 'app');
  assert.equal(l[LABEL.service], 'web');
  assert.equal(l[LABEL.containerNumber], '2');
  assert.equal(l[LABEL.oneoff], 'False');
  assert.equal(l[LABEL.configHash], 'h');
  assert.equal(l[LABEL.image], 'sha256:i');
  assert.equal(l[LABEL.workingDir], '/srv/app');
  assert.equal(l[LABEL.configFiles], '/srv/app/compose.yaml');
  assert.equal(l[LABEL.dependsOn], 'db:service_healthy:true');
  assert.equal(l[LABEL.version], COMPOSE_VERSION);
  assert.equal(containerLabels(project, web, { number: 1, oneoff: true, configHash: 'h', imageId: '' })[LABEL.oneoff], 'True');
  assert.equal(l[LABEL.environmentFile], undefined);
  assert.equal(containerLabels(project, web, { number: 1, oneoff: false, configHash: 'h', imageId: '', envFiles: ['/a/.env', '/b/x.env'] })[LABEL.environmentFile], '/a/.env,/b/x.env');
  assert.equal(dependsOnLabel({ name: 'x', depends_on: { a: { condition: 'service_started', required: true }, b: { condition: 'service_completed_successfully', required: false } } }), 'a:service_started:false,b:service_completed_successfully:false');
  assert.deepEqual(networkLabels(project, 'default', { name: 'app_default' }), { [LABEL.project]: 'app', [LABEL.network]: 'default', [LABEL.version]: COMPOSE_VERSION });
  assert.deepEqual(volumeLabels(project, 'data', { name: 'app_data', labels: { a: 'b' } }), { a: 'b', [LABEL.project]: 'app', [LABEL.volume]: 'data', [LABEL.version]: COMPOSE_VERSION });
});

test('config hash: stable over key order, blind to scale, replicas, depends_on, build, pull_policy and profiles', () => {
  assert.equal(stableJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
  const h = serviceHash(web);
  assert.equal(serviceHash({ environment: { A: '1' }, name: 'web', image: 'busybox' }), h);
  assert.equal(serviceHash({ ...web, scale: 4, deploy: { replicas: 2 }, depends_on: {}, profiles: ['x'], pull_policy: 'always', build: { context: '/c' } }), h);
  assert.notEqual(serviceHash({ ...web, environment: { A: '2' } }), h);
  assert.notEqual(serviceHash({ ...web, deploy: { resources: { limits: { memory: '1g' } } } }), h);
  assert.match(h, /^[0-9a-f]{64}$/);
});

test('the field diff names what changed, from the stored per-field hashes', () => {
  const stored = fieldHashesLabel(web)[CONFIG_FIELDS_LABEL];
  assert.deepEqual(changedFields(stored, web), []);
  assert.deepEqual(changedFields(stored, { ...web, environment: { A: '2' } }), ['environment']);
  assert.deepEqual(changedFields(stored, { ...web, environment: { A: '2' }, command: ['sh'], image: 'alpine' }), ['command', 'environment', 'image']);
  assert.deepEqual(changedFields(stored, { ...web, scale: 3 }), []);
  assert.deepEqual(changedFields(undefined, web), []);
  assert.deepEqual(changedFields('not json', web), []);
});

test('plan: nothing changed keeps a running container, starts a stopped one, creates what is missing', () => {
  assert.deepEqual(planService(input({ existing: [observed(1, 'running')] })).map((a) => a.kind), ['keep']);
  assert.deepEqual(planService(input({ existing: [observed(1, 'exited')] })).map((a) => a.kind), ['start']);
  const created = planService(input({ scale: 2 }));
  assert.deepEqual(created.map((a) => (a.kind === 'create' ? a.name : a.kind)), ['app-web-1', 'app-web-2']);
});

test('plan: recreate with a reason naming the field, the image, --force-recreate or a recreated dependency; never with --no-recreate', () => {
  const changed = { ...web, environment: { A: '2' } };
  const [a] = planService(input({ service: changed, configHash: serviceHash(changed), existing: [observed(1, 'running')] }));
  assert.equal(a.kind, 'recreate');
  assert.equal(a.kind === 'recreate' && a.reason, 'environment changed');
  assert.equal(a.kind === 'recreate' && a.name, 'app-web-1');
  const [b] = planService(input({ imageId: 'sha256:new', existing: [observed(1, 'running')] }));
  assert.equal(b.kind === 'recreate' && b.reason, 'image changed');
  const [c] = planService(input({ recreate: 'force', existing: [observed(1, 'running')] }));
  assert.equal(c.kind === 'recreate' && c.reason, '--force-recreate');
  const [d] = planService(input({ recreatedDependency: 'db', existing: [observed(1, 'running')] }));
  assert.equal(d.kind === 'recreate' && d.reason, 'dependency db was recreated');
  const [e] = planService(input({ recreate: 'never', service: changed, configHash: serviceHash(changed), existing: [observed(1, 'running')] }));
  assert.equal(e.kind, 'keep');
  const [f] = planService(input({ service: changed, configHash: serviceHash(changed), existing: [observed(1, 'running', web, { [CONFIG_FIELDS_LABEL]: '' })] }));
  assert.equal(f.kind === 'recreate' && f.reason, 'config hash changed');
});

test('plan: scale down removes the highest numbers first; scale up numbers on from the highest', () => {
  const actions = planService(input({ scale: 1, existing: [observed(3, 'running'), observed(1, 'running'), observed(2, 'running')] }));
  assert.deepEqual(actions.map((a) => `${a.kind} ${'container' in a ? a.container.number : a.kind === 'create' ? a.number : ''}`), ['keep 1', 'remove 3', 'remove 2']);
  const up = planService(input({ scale: 3, existing: [observed(1, 'running'), observed(4, 'running')] }));
  assert.deepEqual(up.map((a) => (a.kind === 'create' ? a.name : a.kind)), ['keep', 'keep', 'app-web-5']);
});

test('orphans: containers of services no longer in the project, one-offs never', () => {
  const gone = { ...observed(1, 'running'), service: 'old', name: 'app-old-1' };
  const oneoff = { ...observed(1, 'running'), service: 'older', name: 'app-older-run-abc', oneoff: true };
  const o = orphanContainers(project, [observed(1, 'running'), gone, oneoff]);
  assert.deepEqual(o.map((c) => c.name), ['app-old-1']);
  assert.equal(orphanWarning(o), 'Found orphan containers ([app-old-1]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.');
});

test('a service without networks gets <project>_default even when the loader did not declare it', () => {
  const p = { ...projectOf('app', { a: { image: 'x' }, b: { image: 'x', network_mode: 'host' } }), networks: {} };
  assert.deepEqual(withDefaultNetwork(p).networks, { default: { name: 'app_default' } });
  const hostOnly = { ...projectOf('app', { b: { image: 'x', network_mode: 'host' } }), networks: {} };
  assert.deepEqual(withDefaultNetwork(hostOnly).networks, {});
});
