// Output formatting: go-units sizes and durations, the Go-template subset, docker's tabwriter tables,
// ports display, image rows and the JSON progress renderer.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Readable, PassThrough } from 'node:stream';
import * as units from '../../src/util/units';
import { Template } from '../../src/cli/format/template';
import { tabwrite, renderRows } from '../../src/cli/format/table';
import { displayablePorts, ContainerRow, PS_HEADERS } from '../../src/cli/commands/ps';
import { imageRows } from '../../src/cli/commands/images';
import { displayJsonMessages, JsonMessageError } from '../../src/cli/format/progress';
import type { ImageSummary } from '../../src/wire/docker';

test('humanSize matches go-units (precision 3 for tables, 4 by default)', () => {
  assert.equal(units.humanSize(4261226, 3), '4.26MB');
  assert.equal(units.humanSize(0, 3), '0B');
  assert.equal(units.humanSize(999, 3), '999B');
  assert.equal(units.humanSize(1000, 3), '1kB');
  assert.equal(units.humanSize(1234567, 4), '1.235MB');
  assert.equal(units.humanSize(77800000, 3), '77.8MB');
  assert.equal(units.humanSize(999999, 3), '1e+03kB');
  assert.equal(units.bytesSize(1536 * 1024 * 1024), '1.5GiB');
});

test('size strings to bytes', () => {
  assert.equal(units.ramInBytes('64m'), 67108864);
  assert.equal(units.ramInBytes('1g'), 1073741824);
  assert.equal(units.ramInBytes('512'), 512);
  assert.equal(units.ramInBytes('1.5k'), 1536);
  assert.equal(units.fromHumanSize('4kB'), 4000);
  assert.throws(() => units.ramInBytes('lots'));
});

test('humanDuration as docker shows ages', () => {
  assert.equal(units.humanDuration(500), 'Less than a second');
  assert.equal(units.humanDuration(1000), '1 second');
  assert.equal(units.humanDuration(5000), '5 seconds');
  assert.equal(units.humanDuration(61000), 'About a minute');
  assert.equal(units.humanDuration(45 * 60000), '45 minutes');
  assert.equal(units.humanDuration(3600000), 'About an hour');
  assert.equal(units.humanDuration(5 * 3600000), '5 hours');
  assert.equal(units.humanDuration(3 * 86400000), '3 days');
  assert.equal(units.humanDuration(21 * 86400000), '3 weeks');
  assert.equal(units.humanDuration(90 * 86400000), '3 months');
  assert.equal(units.humanDuration(3 * 365 * 86400000), '3 years');
  assert.equal(units.timeAgo(1000, 1005 * 1000), '5 seconds ago');
});

test('template subset: fields, json, functions, control flow', () => {
  const data = { ID: 'abc', State: { Status: 'running', Health: null }, Names: ['/x'], Labels: { a: 'b' }, N: 0 };
  assert.equal(new Template('{{.ID}} {{.State.Status}}').execute(data), 'abc running');
  assert.equal(new Template('{{json .State}}').execute(data), '{"Status":"running","Health":null}');
  assert.equal(new Template('{{index .Labels "a"}}|{{join .Names ","}}|{{upper .ID}}').execute(data), 'b|/x|ABC');
  assert.equal(new Template('{{if .N}}yes{{else}}no{{end}}').execute(data), 'no');
  assert.equal(new Template('{{range .Names}}[{{.}}]{{end}}').execute(data), '[/x]');
  assert.equal(new Template('{{.Labels}}').execute(data), 'map[a:b]');
  assert.equal(new Template('{{.Missing}}').execute(data), '<no value>');
  assert.equal(new Template('{{with .State}}{{.Status}}{{end}}').execute(data), 'running');
  assert.equal(new Template('{{- .ID -}}  x').execute(data), 'abcx');
  assert.equal(new Template('{{.ID | printf "%s!"}}').execute(data), 'abc!');
});

test('tabwriter: docker minwidth 10, padding 3, last cell unpadded', () => {
  assert.equal(tabwrite('CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n'),
    'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  assert.equal(tabwrite('a\tbb\nccc\td\n'), 'a         bb\nccc       d\n');
});

test('ports display groups ranges like docker', () => {
  const ports = [
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { PrivatePort: 9000, Type: 'tcp' }, { PrivatePort: 9001, Type: 'tcp' },
    { IP: '0.0.0.0', PrivatePort: 53, PublicPort: 53, Type: 'udp' },
  ];
  assert.equal(displayablePorts(ports), '0.0.0.0:53->53/udp, 9000-9001/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
});

const now = 1_700_000_100_000;
const summary = {
  Id: 'f'.repeat(64), Names: ['/web', '/other/link'], Image: 'nginx', ImageID: 'sha256:1', Command: 'nginx -g daemon off; and more',
  Created: 1_700_000_000, Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }], Labels: { a: 'b' },
  State: 'running', Status: 'Up 3 seconds', HostConfig: { NetworkMode: 'bridge' }, NetworkSettings: { Networks: { bridge: {} } }, Mounts: [],
};

test('ps table', () => {
  const def = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
  const out = renderRows([new ContainerRow(summary, true, now)], { format: '', defaultFormat: def, headers: PS_HEADERS });
  assert.equal(out,
    'CONTAINER ID   IMAGE     COMMAND                  CREATED              STATUS         PORTS                  NAMES\n' +
    'ffffffffffff   nginx     "nginx -g daemon off…"   About a minute ago   Up 3 seconds   0.0.0.0:8080->80/tcp   web\n');
  assert.equal(renderRows([new ContainerRow(summary, true, now)], { format: '', defaultFormat: def, headers: PS_HEADERS, quiet: true }), 'ffffffffffff\n');
  assert.equal(renderRows([new ContainerRow(summary, true, now)], { format: '{{.Names}} {{.Label "a"}}', defaultFormat: def, headers: PS_HEADERS }), 'web b\n');
  assert.equal(renderRows([new ContainerRow(summary, true, now)], { format: 'table {{.ID}}\\t{{.State}}', defaultFormat: def, headers: PS_HEADERS }),
    'CONTAINER ID   STATE\nffffffffffff   running\n');
  const json = JSON.parse(renderRows([new ContainerRow(summary, false, now)], { format: '{{json .}}', defaultFormat: def, headers: PS_HEADERS }));
  assert.equal(json.ID, 'f'.repeat(64));
  assert.equal(json.Names, 'web,other/link');
  assert.equal(json.Command, '"nginx -g daemon off; and more"');
});

test('images rows: tags, digests, dangling', () => {
  const images: ImageSummary[] = [
    { Id: 'sha256:' + 'a'.repeat(64), ParentId: '', RepoTags: ['busybox:latest', 'busybox:1.36'], RepoDigests: ['busybox@sha256:' + 'd'.repeat(64)], Created: 1_700_000_000, Size: 4261226, SharedSize: -1, Labels: {}, Containers: -1 },
    { Id: 'sha256:' + 'b'.repeat(64), ParentId: '', RepoTags: [], RepoDigests: [], Created: 1_700_000_000, Size: 1000, SharedSize: -1, Labels: {}, Containers: -1 },
  ];
  const rows = imageRows(images, true, now);
  const out = renderRows(rows, { format: '', defaultFormat: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}', headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE' } });
  assert.equal(out,
    'REPOSITORY   TAG       IMAGE ID       CREATED              SIZE\n' +
    'busybox      latest    aaaaaaaaaaaa   About a minute ago   4.26MB\n' +
    'busybox      1.36      aaaaaaaaaaaa   About a minute ago   4.26MB\n' +
    '<none>       <none>    bbbbbbbbbbbb   About a minute ago   1kB\n');
});

function collect() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c) => { text += c; });
  return { out, text: () => text };
}

test('progress: plain lines off a terminal, in-place redraw on one, errors thrown', async () => {
  const msgs = [
    { status: 'Pulling from library/busybox', id: 'latest' },
    { status: 'Pulling fs layer', progressDetail: {}, id: 'abc' },
    { status: 'Downloading', progressDetail: { current: 50, total: 100 }, progress: '[=>  ] 50B/100B', id: 'abc' },
    { status: 'Pull complete', progressDetail: {}, id: 'abc' },
    { status: 'Digest: sha256:x' },
  ];
  const plain = collect();
  await displayJsonMessages(Readable.from([Buffer.from(msgs.map((m) => JSON.stringify(m)).join('\r\n'))]), plain.out, { isTerminal: false });
  assert.equal(plain.text(), 'latest: Pulling from library/busybox\nabc: Pulling fs layer\nabc: Pull complete\nDigest: sha256:x\n');
  const tty = collect();
  await displayJsonMessages(Readable.from(msgs.map((m) => Buffer.from(JSON.stringify(m)))), tty.out, { isTerminal: true });
  assert.match(tty.text(), /\x1b\[1A\x1b\[2K\rabc: Downloading \[=>  \] 50B\/100B\r\x1b\[1B/);
  await assert.rejects(displayJsonMessages(Readable.from([Buffer.from('{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}')]), collect().out, { isTerminal: false }),
    (err) => err instanceof JsonMessageError && err.message === 'manifest unknown');
});
