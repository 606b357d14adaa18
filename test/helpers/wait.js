// Waiting in tests: poll a condition with a generous deadline (never a timed assertion).
'use strict';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it returns something truthy; throws naming `what` after `tries` polls. */
async function until(check, what, tries = 100) {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

module.exports = { sleep, until };
