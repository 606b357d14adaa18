// Interactive sessions in a real pseudo-terminal (tmux): docker run -it, resize, detach keys, attach, exec -it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { TestDaemon } from '../helpers/daemon';
import { repoRoot } from '../helpers/paths';

const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
import { sleep } from '../helpers/wait';

/** Polls the pane until `pattern` shows up; fails with the pane's text if it never does. */
async function waitForPane(session: string, pattern: RegExp, what: string) {
  let text = '';
  for (let i = 0; i < 300; i++) {
    text = tmux('capture-pane', '-p', '-J', '-t', session).stdout;
    if (pattern.test(text)) return text;
    await sleep(50);
  }
  assert.fail(`${what}: ${pattern} never appeared in the terminal:\n${text}`);
}

test('interactive sessions in a terminal', async (t) => {
  const d = new TestDaemon('tty');
  const sessions: string[] = [];
  t.after(async () => {
    for (const s of sessions) tmux('kill-session', '-t', s);
    await d.cleanup();
  });
  await d.startWithBusybox();
  // The shell in the pane gets only what the docker CLI needs; the command runs via `sh -c` so its status can be printed.
  const open = (name: string, command: string) => {
    const session = `berth-${name}-${process.pid}`;
    sessions.push(session);
    const r = tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40',
      '-e', `DOCKER_HOST=${d.env.DOCKER_HOST}`, '-e', `DOCKER_CONFIG=${d.env.DOCKER_CONFIG}`, '-e', `BERTH_HOST=${d.env.BERTH_HOST}`,
      `${command}; echo "STATUS=$?"; sleep 600`);
    assert.equal(r.status, 0, r.stderr);
    return session;
  };
  const keys = (session: string, ...k: string[]) => assert.equal(tmux('send-keys', '-t', session, ...k).status, 0);

  await t.test('docker run -it: prompt, input, resize, detach, attach, exit code', async () => {
    const s = open('run', '/usr/local/bin/docker run -it --name tty1 busybox sh');
    await waitForPane(s, /\/ # $/m, 'first prompt');
    keys(s, 'echo hello-$((40+2)); stty size', 'Enter');
    await waitForPane(s, /hello-42\n40 120\n\/ # $/m, 'command output and initial size');

    tmux('resize-window', '-t', s, '-x', '100', '-y', '30');
    // The CLI notices SIGWINCH and sends POST /containers/{id}/resize; ask until the pty has the new size.
    let sized = false;
    for (let i = 0; i < 40 && !sized; i++) {
      keys(s, 'clear; stty size', 'Enter');
      sized = /^30 100$/m.test(tmux('capture-pane', '-p', '-t', s).stdout);
      if (!sized) await sleep(100);
    }
    assert.ok(sized, `the container's terminal was never resized:\n${tmux('capture-pane', '-p', '-t', s).stdout}`);

    keys(s, 'C-p', 'C-q');
    await waitForPane(s, /STATUS=0/, 'detach with ctrl-p ctrl-q');
    assert.equal(d.dockerOk(['inspect', '-f', '{{.State.Running}}', 'tty1']).trim(), 'true');

    const a = open('attach', '/usr/local/bin/docker attach tty1');
    keys(a, 'echo again-$((1+1))', 'Enter');
    await waitForPane(a, /again-2/, 'attach output');
    keys(a, 'exit 7', 'Enter');
    await waitForPane(a, /STATUS=7/, 'exit code through attach');
    assert.equal(d.dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'tty1']).trim(), '7');
  });

  await t.test('custom --detach-keys on docker run -it', async () => {
    const s = open('keys', '/usr/local/bin/docker run -it --detach-keys ctrl-x,x --name tty2 busybox sh');
    await waitForPane(s, /\/ # $/m, 'prompt');
    keys(s, 'C-p', 'C-q');
    keys(s, 'echo still-here', 'Enter');
    await waitForPane(s, /^still-here$/m, 'ctrl-p ctrl-q is ordinary input with other detach keys');
    keys(s, 'C-x', 'x');
    await waitForPane(s, /STATUS=0/, 'detach with ctrl-x x');
    assert.equal(d.dockerOk(['inspect', '-f', '{{.State.Running}}', 'tty2']).trim(), 'true');
  });

  await t.test('docker exec -it: prompt, size, exit code', async () => {
    d.dockerOk(['run', '-d', '--name', 'tty3', 'busybox', 'sleep', '600']);
    const s = open('exec', '/usr/local/bin/docker exec -it tty3 sh');
    await waitForPane(s, /\/ # $/m, 'exec prompt');
    keys(s, 'stty size; tty; echo $TERM', 'Enter');
    await waitForPane(s, /40 120\n\/dev\/pts\/\d+\nxterm\n/, 'exec terminal');
    keys(s, 'exit 4', 'Enter');
    await waitForPane(s, /STATUS=4/, 'exec exit code');
    assert.equal(d.dockerOk(['inspect', '-f', '{{.State.Running}}', 'tty3']).trim(), 'true');
  });

  await t.test('the daemon itself honours detachKeys on the attach stream', async () => {
    d.dockerOk(['run', '-dit', '--name', 'tty4', 'busybox', 'sh']);
    const sock = net.connect(d.sock);
    let received = '';
    const closed = new Promise((resolve) => sock.on('close', resolve));
    sock.on('data', (b: Buffer) => { received += b.toString('latin1'); });
    sock.write('POST /v1.47/containers/tty4/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-a,b HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    for (let i = 0; i < 200 && !/101 UPGRADED/.test(received); i++) await sleep(25);
    sock.write('echo raw-$((2+3))\r');
    for (let i = 0; i < 200 && !/raw-5/.test(received); i++) await sleep(25);
    assert.match(received, /raw-5/);
    sock.write(Buffer.from([1, 0x62]));
    await closed;
    assert.equal(d.dockerOk(['inspect', '-f', '{{.State.Running}}', 'tty4']).trim(), 'true');
  });

  await t.test('berth run -it in a terminal', async () => {
    const s = open('berth', `${path.join(repoRoot, 'bin/berth')} run -it --rm busybox sh`);
    await waitForPane(s, /\/ # $/m, 'berth prompt');
    keys(s, 'echo via-berth; exit 3', 'Enter');
    await waitForPane(s, /via-berth[\s\S]*STATUS=3/, 'berth exit code');
    const e = open('berth-exec', `${path.join(repoRoot, 'bin/berth')} exec -it tty3 sh`);
    await waitForPane(e, /\/ # $/m, 'berth exec prompt');
    keys(e, 'stty size; exit 6', 'Enter');
    await waitForPane(e, /40 120[\s\S]*STATUS=6/, 'berth exec size and exit code');
  });
});
