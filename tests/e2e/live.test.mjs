// The console under real time and real input: minutes of live traffic with "follow" on, at the
// demo's normal rate and at 5,000 events/s, and Disconnect by mouse and by keyboard. Only
// playwright's locator clicks and key presses act on the page; page script only reads layout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launchChromium, openPage, startProxy, stopProxy } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'tests', 'e2e', 'artifacts');
mkdirSync(artifacts, { recursive: true });

let browser;
const proxies = [];

async function demo(rate) {
  const port = await freePort();
  proxies.push(await startProxy(port, ['--demo', '--demo-rate', String(rate)]));
  return `http://127.0.0.1:${port}/`;
}

before(async () => { browser = await launchChromium(); });
after(async () => {
  await browser?.close();
  for (const p of proxies) await stopProxy(p);
});

async function connect(url) {
  const { page, errors } = await openPage(browser, url);
  await page.locator('#target option').first().waitFor({ state: 'attached' });
  await page.locator('#user').fill('admin');
  await page.locator('#password').fill('secret');
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 10000 });
  return { page, errors };
}

/** What the user sees of the log: rows inside the box, and whether the newest row is one of them. */
function logView(page) {
  return page.evaluate(() => {
    const box = document.querySelector('#log').getBoundingClientRect();
    const rows = [...document.querySelectorAll('#log .ev')];
    const inView = rows.filter((r) => { const b = r.getBoundingClientRect(); return b.bottom > box.top + 1 && b.top < box.bottom - 1; });
    const newest = rows[rows.length - 1];
    const nb = newest?.getBoundingClientRect();
    return {
      inView: inView.length,
      newestInView: !!nb && nb.bottom <= box.bottom + 1 && nb.top >= box.top - 1,
      shown: parseInt(document.querySelector('#shown')?.textContent ?? '0', 10),
    };
  });
}

test('90 s of the demo at its normal rate with "follow": the newest rows stay in view', async () => {
  const url = await demo(0);
  const { page, errors } = await connect(url);
  assert.ok(await page.locator('#follow').isChecked());
  const t0 = Date.now();
  let checks = 0;
  while (Date.now() - t0 < 90_000) {
    await page.waitForTimeout(10_000);
    const v = await logView(page);
    if (v.shown > 0) {
      assert.ok(v.inView > 0, `after ${Math.round((Date.now() - t0) / 1000)} s: ${JSON.stringify(v)}`);
      assert.ok(v.newestInView, `after ${Math.round((Date.now() - t0) / 1000)} s the newest row is out of view: ${JSON.stringify(v)}`);
      checks += 1;
    }
    assert.ok(await page.locator('#follow').isChecked(), 'follow was unticked');
  }
  const v = await logView(page);
  assert.ok(v.shown > 25, `only ${v.shown} events in 90 s`);
  assert.ok(checks >= 8);
  await page.screenshot({ path: join(artifacts, '18-live-90s.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('5,000 events/s with "follow" for 20 s: the newest rows stay in view, follow stays on', async () => {
  const url = await demo(5000);
  const { page } = await connect(url);
  for (let i = 0; i < 10; i += 1) {
    await page.waitForTimeout(2_000);
    const v = await logView(page);
    assert.ok(v.inView > 0 && v.newestInView, `at ${2 * (i + 1)} s: ${JSON.stringify(v)}`);
    assert.ok(await page.locator('#follow').isChecked(), `follow was unticked at ${2 * (i + 1)} s`);
  }
  await page.close();
});

test('Disconnect by mouse and by keyboard stays disconnected', async () => {
  const url = await demo(0);
  const { page } = await connect(url);
  await page.locator('#disconnect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('disconnected'), null, { timeout: 5000 });
  await page.waitForTimeout(2000);
  assert.match(await page.locator('#status').textContent(), /disconnected/);
  assert.equal(await page.locator('#connect').count(), 1);
  // again, with the keyboard: focus the button, press Space
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 10000 });
  await page.locator('#disconnect').focus();
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('disconnected'), null, { timeout: 5000 });
  await page.waitForTimeout(2000);
  assert.match(await page.locator('#status').textContent(), /disconnected/);
  // and Enter
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 10000 });
  await page.locator('#disconnect').focus();
  await page.keyboard.press('Enter');
  await page.waitForTimeout(2000);
  assert.match(await page.locator('#status').textContent(), /disconnected/);
  await page.close();
});
