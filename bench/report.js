#!/usr/bin/env node
// Prints the bench's table and the summary of ratios from a results directory written by scripts/bench.sh.
// Usage: node bench/report.js RESULTS_DIR
// RESULTS_DIR: timing.json and exec.json (bench/timeit.js), rss/<label>.json (bench/rss.js), idle/<engine> (containers
// started), cpu/<engine>-<window>.json (bench/stats-window.sh), versions.txt and notes.txt (free text lines),
// trace-run.txt and trace-exec.txt (bench/trace-table.js: berthd's phase medians during each timing),
// config.json ({ runs, warmup, idle, peers, command, exec_runs, exec_command, stats_seconds, stats_rounds, stats_settle }).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2];
const readJson = (f) => { try { return JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); } catch { return undefined; } };
const readText = (f) => { try { return fs.readFileSync(path.join(dir, f), 'utf8').trim(); } catch { return ''; } };

const cfg = readJson('config.json') ?? {};
const timing = readJson('timing.json') ?? {};
const execTiming = readJson('exec.json') ?? {};
const cpu = (engine, win) => readJson(`cpu/${engine}-${win}.json`);
const rss = (label) => readJson(`rss/${label}.json`);
const idleCount = (engine) => { const t = readText(`idle/${engine}`); return t === '' ? undefined : Number(t); };

// The contenders, in the order printed; names match those scripts/bench.sh gives bench/timeit.js.
const ROWS = [
  ['berth-docker', 'Berth, docker CLI v28'],
  ['berth-cli', 'Berth, bin/berth'],
  ['docker-cli', 'docker CLI v28 alone (`docker version`)'],
  ['dockerd', 'dockerd (Debian), docker CLI v28'],
  ['podman', 'podman (Debian)'],
  ['floor', 'raw crun + overlay  (floor)'],
  ['crun-only', 'raw crun, no overlay'],
];
const peerRow = (k) => k === 'dockerd' || k === 'podman';

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const fmt = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
const mib = (kib) => (kib === undefined ? undefined : kib / 1024);

const out = [];
const line = (s = '') => out.push(s);
/** A table of bench/timeit.js results, one row per contender ([key, label]); peers' rows only with PEERS=1. */
function timingTable(rows, results) {
  line(`${pad('contender', 42)}${lpad('median', 9)}${lpad('p90', 9)}${lpad('mean', 9)}${lpad('min', 9)}${lpad('max', 9)}${lpad('n', 5)}`);
  for (const [key, label] of rows) {
    if (peerRow(key) && !cfg.peers) continue;
    const t = results[key];
    if (!t || t.error) {
      line(`${pad(label, 42)}${lpad('n/a', 9)}    ${t?.error ? `(${t.error.slice(0, 160)})` : '(see notes)'}`);
      continue;
    }
    line(`${pad(label, 42)}${lpad(fmt(t.median), 9)}${lpad(fmt(t.p90), 9)}${lpad(fmt(t.mean), 9)}${lpad(fmt(t.min), 9)}${lpad(fmt(t.max), 9)}${lpad(t.n, 5)}${t.failures ? `  (${t.failures} failed)` : ''}`);
  }
}

line('');
line(`== Berth bench: \`${cfg.command ?? 'run --rm busybox true'}\`  (${cfg.runs} interleaved runs after ${cfg.warmup} warm-up each; wall ms)`);
line('');
timingTable(ROWS, timing);
/** berthd's own phase medians (BERTH_TRACE=1) during a timing, Berth's runs with either client. */
function traceTable(file) {
  const text = readText(file);
  if (!text) return;
  line('');
  for (const l of text.split('\n')) line(`  ${l}`);
}
traceTable('trace-run.txt');

// ---------- exec ----------
const EXEC_ROWS = [
  ['berth-docker', 'Berth, docker CLI v28'],
  ['berth-cli', 'Berth, bin/berth'],
  ['dockerd', 'dockerd (Debian), docker CLI v28'],
  ['podman', 'podman (Debian)'],
];
line('');
line(`== \`${cfg.exec_command ?? 'exec c true'}\` into one running busybox \`sleep 3600\` per engine  (${cfg.exec_runs} interleaved runs after ${cfg.warmup} warm-up each; wall ms)`);
line('');
timingTable(EXEC_ROWS, execTiming);
traceTable('trace-exec.txt');

line('');
line(`== Memory: VmRSS in MiB  (fresh = after start and busybox import; after runs = 0 containers, after the timing; idle = with ${cfg.idle} idle \`sleep 3600\` containers)`);
line('');
line(`${pad('process(es)', 44)}${lpad('fresh', 9)}${lpad('after runs', 12)}${lpad('idle', 9)}`);
const DAEMONS = ['berthd', 'dockerd', 'containerd'];
const mem = (label, key, note = '') => {
  const cells = ['fresh', 'after', 'idle'].map((phase) => {
    const r = rss(`${key}-${phase}`);
    // A daemon that is not there (crashed, or never started) is n/a, not 0 MiB.
    return fmt(r && (r.count > 0 || !DAEMONS.includes(key)) ? mib(r.kib) : undefined);
  });
  line(`${pad(label, 44)}${lpad(cells[0], 9)}${lpad(cells[1], 12)}${lpad(cells[2], 9)}${note}`);
};
const idleNote = (engine, sup) => {
  const n = idleCount(engine);
  const r = rss(`${sup}-idle`);
  return n === undefined ? '' : `   (${n} containers started; ${r ? r.count : 'n/a'} ${sup} processes)`;
};
mem('berthd', 'berthd');
mem(`  + conmon per container (total)`, 'conmon', idleNote('berth', 'conmon'));
if (cfg.peers) {
  mem('dockerd', 'dockerd');
  mem('  + containerd', 'containerd');
  mem('  + containerd-shim-runc-v2 (total)', 'shim', idleNote('dockerd', 'shim'));
  line(`${pad('podman', 44)}${lpad('-', 9)}${lpad('-', 12)}${lpad('-', 9)}   (no daemon: a conmon per container, like Berth's)`);
}

// ---------- CPU while streaming stats ----------
const statsRounds = Array.from({ length: cfg.stats_rounds ?? 0 }, (_, k) => `stats${k + 1}`);
// A group's CPU % in one window; undefined when the window failed, the client died, or a daemon was not there.
const cpuPct = (engine, win, group) => {
  const w = cpu(engine, win);
  const g = w?.groups?.[group];
  if (!g || (win !== 'baseline' && !w.client_ok)) return undefined;
  if (DAEMONS.includes(group) && g.count === 0) return undefined;
  return g.pct;
};
const mean = (xs) => (xs.length === 0 || xs.some((x) => x === undefined) ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
const statsMean = (engine, group) => mean(statsRounds.map((w) => cpuPct(engine, w, group)));
line('');
line(`== Daemon CPU with ${cfg.idle} idle containers: CPU seconds / wall seconds in %, over ${cfg.stats_seconds} s windows  (100% = one CPU)`);
line(`   "no client": nothing asks; "stats N": \`docker stats --format '{{.ID}}' <every container>\` streaming (window opens ${cfg.stats_settle} s after it starts)`);
line('');
line(`${pad('process(es)', 44)}${lpad('no client', 11)}${statsRounds.map((w) => lpad(w.replace('stats', 'stats '), 10)).join('')}${lpad('stats mean', 12)}`);
const cpuRow = (engine, group, label) => {
  const cells = [lpad(fmt(cpuPct(engine, 'baseline', group)), 11), ...statsRounds.map((w) => lpad(fmt(cpuPct(engine, w, group)), 10)), lpad(fmt(statsMean(engine, group)), 12)];
  line(`${pad(label, 44)}${cells.join('')}`);
};
cpuRow('berth', 'berthd', 'berthd');
cpuRow('berth', 'conmon', '  + conmons (total)');
if (cfg.peers) {
  cpuRow('dockerd', 'dockerd', 'dockerd');
  cpuRow('dockerd', 'containerd', '  + containerd');
  cpuRow('dockerd', 'shim', '  + containerd-shim-runc-v2 (total)');
}
// The client's own output is no check that samples arrived (the CLI redraws on its own clock), only that it lived.
const alive = (engine) => {
  const ws = statsRounds.map((w) => cpu(engine, w));
  return ws.some((w) => !w) ? 'n/a' : ws.every((w) => w.client_ok) ? `yes (${ws[0].streamed} streams each)` : 'NO';
};
line(`   \`docker stats\` alive through every window: Berth ${alive('berth')}${cfg.peers ? `; dockerd ${alive('dockerd')}` : ''}`);

// ---------- summary ----------
const med = (k) => (timing[k] && !timing[k].error ? timing[k].median : undefined);
const ratio = (a, b) => (a === undefined || b === undefined || !b ? undefined : a / b);
const kib = (label) => rss(label)?.kib;
const sum = (...xs) => (xs.some((x) => x === undefined) ? undefined : xs.reduce((a, b) => a + b, 0));
const verdict = (r, target) => (r === undefined ? '' : r <= target ? `target <= ${target}x: met` : `target <= ${target}x: NOT met`);
// Issue 15's targets where it set one, beside issue 3's (the engine core: 0.5x dockerd and 1.5x the floor).
const issue15 = (r, target) => (r === undefined ? '' : `issue 15: <= ${target}x ${r <= target ? 'met' : 'NOT met'}`);

line('');
line('== Summary (ratios of medians; < 1 means Berth is faster or smaller)');
line('');
const rows = [];
const berth = med('berth-docker');
if (cfg.peers) {
  rows.push(['run --rm, Berth / dockerd      (docker CLI v28 on both)', ratio(berth, med('dockerd')), `${verdict(ratio(berth, med('dockerd')), 0.5)}; ${issue15(ratio(berth, med('dockerd')), 0.3)}`]);
  rows.push(['run --rm, Berth / podman', ratio(berth, med('podman')), '']);
}
rows.push(['run --rm, Berth / raw crun + overlay (floor)', ratio(berth, med('floor')), verdict(ratio(berth, med('floor')), 1.5)]);
rows.push(['run --rm, Berth / raw crun, no overlay', ratio(berth, med('crun-only')), '']);
const serverSide = berth === undefined || med('docker-cli') === undefined ? undefined : berth - med('docker-cli');
rows.push(['run --rm, (Berth - CLI alone) / floor', ratio(serverSide, med('floor')), issue15(ratio(serverSide, med('floor')), 1.3)]);
rows.push(['run --rm, bin/berth / docker CLI v28 (both on Berth)', ratio(med('berth-cli'), berth), issue15(ratio(med('berth-cli'), berth), 1.2)]);
if (cfg.peers) {
  const em = (k) => (execTiming[k] && !execTiming[k].error ? execTiming[k].median : undefined);
  rows.push(['exec, Berth / dockerd          (docker CLI v28 on both)', ratio(em('berth-docker'), em('dockerd')), issue15(ratio(em('berth-docker'), em('dockerd')), 0.5)]);
  rows.push(['exec, Berth / podman', ratio(em('berth-docker'), em('podman')), '']);
  const sumMean = (engine, groups) => sum(...groups.map((g) => statsMean(engine, g)));
  rows.push(['stats CPU, berthd / dockerd+containerd', ratio(statsMean('berth', 'berthd'), sumMean('dockerd', ['dockerd', 'containerd'])), '']);
  rows.push(['stats CPU, berthd+conmons / dockerd+containerd+shims', ratio(sumMean('berth', ['berthd', 'conmon']), sumMean('dockerd', ['dockerd', 'containerd', 'shim'])), '']);
  rows.push(['RSS idle, berthd / dockerd+containerd', ratio(kib('berthd-idle'), sum(kib('dockerd-idle'), kib('containerd-idle'))), '']);
  rows.push(['RSS idle, berthd+conmons / dockerd+containerd+shims', ratio(sum(kib('berthd-idle'), kib('conmon-idle')), sum(kib('dockerd-idle'), kib('containerd-idle'), kib('shim-idle'))), '']);
}
for (const [label, r, v] of rows) line(`  ${pad(label, 58)}${lpad(r === undefined ? 'n/a' : `${r.toFixed(2)}x`, 8)}   ${v}`);
const versions = readText('versions.txt');
const notes = readText('notes.txt');
if (versions) { line(''); line('versions:'); for (const l of versions.split('\n')) line(`  ${l}`); }
if (notes) { line(''); line('notes:'); for (const l of notes.split('\n')) line(`  ${l}`); }
line('');
process.stdout.write(`${out.join('\n')}\n`);
