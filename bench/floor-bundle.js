#!/usr/bin/env node
// Makes the raw-crun floor's bundles: Berth's own config.json for a busybox container, pointed at rootfs of their own.
// Usage: node bench/floor-bundle.js BERTH_CONTAINER_DIR BUSYBOX_TAR FLOOR_DIR
// FLOOR_DIR gets
//   rootfs/ + merged/ + bundle/config.json   the floor: an overlay (lower rootfs/) mounted per run on merged/
//   rootfs-plain/ + bundle-plain/config.json  crun alone: the extracted tar as the root, nothing mounted per run
//   etc/  copies of the container's hosts, hostname and resolv.conf, bind-mounted as Berth does
//   state/, state-plain/  crun's --root for each
//   bin/crun  a read-only bind mount of the host's crun, as Berth runs it (src/runtime/runtime-binary-view.ts): crun
//             then skips re-executing a copy of itself, so the floor gets the same saving Berth does
// The specs are the one Berth wrote, with only root.path, process.args, the /etc bind sources and cgroupsPath changed.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const [containerDir, tarFile, floor] = process.argv.slice(2);
if (!floor) { process.stderr.write('usage: floor-bundle.js BERTH_CONTAINER_DIR BUSYBOX_TAR FLOOR_DIR\n'); process.exit(2); }
const sub = (d) => path.join(floor, d);
for (const d of ['rootfs', 'rootfs-plain', 'merged', 'etc', 'bundle', 'bundle-plain', 'state', 'state-plain']) fs.mkdirSync(sub(d), { recursive: true });
execFileSync('tar', ['-xf', tarFile, '-C', sub('rootfs')]);
execFileSync('tar', ['-xf', tarFile, '-C', sub('rootfs-plain')]);

const crunView = sub('bin/crun');
fs.mkdirSync(sub('bin'), { recursive: true });
fs.writeFileSync(crunView, '');
const hostCrun = execFileSync('sh', ['-c', 'command -v crun'], { encoding: 'utf8' }).trim();
execFileSync('mount', ['--bind', hostCrun, crunView]);
execFileSync('mount', ['-o', 'remount,bind,ro', crunView]);

const berthSpec = fs.readFileSync(path.join(containerDir, 'bundle', 'config.json'), 'utf8');
for (const [bundle, root] of [['bundle', 'merged'], ['bundle-plain', 'rootfs-plain']]) {
  const spec = JSON.parse(berthSpec);
  spec.root.path = sub(root);
  spec.process.args = ['true'];
  spec.process.terminal = false;
  for (const m of spec.mounts) {
    if (m.type === 'bind' && m.source.startsWith(containerDir)) {
      const copy = path.join(sub('etc'), path.basename(m.source));
      fs.copyFileSync(m.source, copy);
      m.source = copy;
    }
  }
  spec.linux.cgroupsPath = `/berth/bench-${bundle}-${process.pid}`;
  fs.writeFileSync(path.join(sub(bundle), 'config.json'), JSON.stringify(spec));
}
