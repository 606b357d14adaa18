// Debian's chromium driven headless by puppeteer-core for the dashboard's browser tests: its own profile directory,
// killed by its PID if closing it fails.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { tempDir } from './tmp';

export const CHROMIUM = '/usr/bin/chromium';

/** Headless chromium with a profile of its own, as root (hence --no-sandbox). */
export class TestBrowser {
  browser: Browser | undefined;
  pid: number | undefined;
  readonly profile = tempDir('berth-chromium-');

  async start(): Promise<Browser> {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (make deps does)`);
    this.browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: this.profile,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    });
    this.pid = this.browser.process()?.pid;
    return this.browser;
  }

  async newPage(width = 1400, height = 900): Promise<Page> {
    const page = await this.browser!.newPage();
    await page.setViewport({ width, height });
    return page;
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => {});
    if (this.pid !== undefined) { try { process.kill(this.pid, 'SIGKILL'); } catch { /* already gone */ } }
  }
}
