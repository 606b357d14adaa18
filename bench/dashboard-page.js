#!/usr/bin/env node
// The dashboard bench's browser side: Debian's chromium headless (puppeteer-core) on the page `berth dashboard` serves.
// Usage: node bench/dashboard-page.js MODE URL PROFILE_DIR [ARG]
//   list N       time until the page shows N containers (the count, the first row), and a scroll to the last row;
//                prints { load_ms, first_row_ms, scroll_to_end_ms }
//   hold         opens the containers view, waits until sparklines draw, writes PROFILE_DIR/ready (the renderer's
//                PIDs, then all of this chromium's) and stays until SIGTERM: the shell measures CPU meanwhile
//   memory MIN   keeps the containers view open MIN minutes (live stats flowing); prints the renderer's JS heap and
//                RSS after the first 10 s and at the end: { minutes, start: {...}, end: {...} }
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const [mode, url, profile, arg] = process.argv.slice(2);
if (!mode || !url || !profile) { process.stderr.write('usage: dashboard-page.js list|hold|memory URL PROFILE_DIR [ARG]\n'); process.exit(2); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** This chromium's processes (they all carry its --user-data-dir), the renderers among them. */
function chromiumPids() {
  const all = [], renderers = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmd;
    try { cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8'); } catch { continue; }
    if (!cmd.includes(`--user-data-dir=${profile}`)) continue;
    all.push(Number(name));
    if (cmd.includes('--type=renderer')) renderers.push(Number(name));
  }
  return { all, renderers };
}

function rssKib(pids) {
  let kib = 0;
  for (const pid of pids) {
    try { kib += Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { /* gone */ }
  }
  return kib;
}

async function memoryNow(page) {
  const m = await page.metrics();
  return { js_heap_used_mib: +(m.JSHeapUsedSize / 2 ** 20).toFixed(1), js_heap_total_mib: +(m.JSHeapTotalSize / 2 ** 20).toFixed(1), dom_nodes: m.Nodes, renderer_rss_mib: +(rssKib(chromiumPids().renderers) / 1024).toFixed(1) };
}

async function main() {
  const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, userDataDir: profile, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
  const pid = browser.process()?.pid;
  const stop = async () => { await browser.close().catch(() => {}); if (pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } };
  process.once('SIGTERM', () => { void stop().then(() => process.exit(0)); });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    if (mode === 'list') {
      const n = Number(arg);
      const t0 = Date.now();
      await page.goto(url);
      await page.waitForSelector(`[data-testid=container-count][data-count="${n}"]`, { timeout: 120_000 });
      const load = Date.now() - t0;
      await page.waitForSelector('[data-testid=container-row]', { timeout: 60_000 });
      const firstRow = Date.now() - t0;
      // A scroll to the end: from setting scrollTop to the frame that shows the last row (at once when the list fits
      // the viewport and nothing scrolls: a small BENCH_DASH_LIST).
      const scroll = await page.evaluate(() => new Promise((resolve) => {
        const vp = document.querySelector('.table-viewport');
        const start = performance.now();
        vp.scrollTop = vp.scrollHeight;
        const check = () => {
          const rows = [...document.querySelectorAll('[data-testid=container-row]')];
          const last = rows[rows.length - 1];
          if (last && (vp.scrollTop > 0 || vp.scrollHeight <= vp.clientHeight) && last.getBoundingClientRect().bottom <= vp.getBoundingClientRect().bottom + 1) resolve(performance.now() - start);
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      }));
      const rowsInDom = await page.$$eval('[data-testid=container-row]', (els) => els.length);
      process.stdout.write(`${JSON.stringify({ containers: n, load_ms: load, first_row_ms: firstRow, scroll_to_end_ms: Math.round(scroll), rows_in_dom: rowsInDom })}\n`);
    } else if (mode === 'hold' || mode === 'memory') {
      await page.goto(url);
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=spark-cpu]')].some((s) => Number(s.getAttribute('data-points')) >= 2), { timeout: 60_000 });
      if (mode === 'hold') {
        const { all, renderers } = chromiumPids();
        fs.writeFileSync(path.join(profile, 'ready'), `${renderers.join(' ')}\n${all.join(' ')}\n`);
        for (;;) await sleep(60_000);
      }
      const minutes = Number(arg);
      await sleep(10_000);
      const start = await memoryNow(page);
      await sleep(Math.max(0, minutes * 60_000 - 10_000));
      const end = await memoryNow(page);
      process.stdout.write(`${JSON.stringify({ minutes, start, end })}\n`);
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  } finally {
    await stop();
  }
}

main().catch((err) => { process.stderr.write(`dashboard-page.js: ${err.stack || err}\n`); process.exit(1); });
