// Firmware upload from the browser (issue 25): the real console in headless Chromium against
// `vscp-proxy --demo`, real clicks and typing. A HEX file goes to demo node 1 and the version
// the node reports afterwards is shown; a file for another device code is refused before any
// block is sent; an upload aborted midway leaves the node in its bootloader, and starting
// again finishes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPage, withDemo } from './browser.mjs';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
const demo = withDemo();

/** Intel HEX of `data` from address 0. */
function hex(data) {
  const rec = (type, addr, bytes) => {
    const b = [bytes.length, (addr >> 8) & 255, addr & 255, type, ...bytes];
    const sum = (-b.reduce((s, x) => s + x, 0)) & 255;
    return ':' + [...b, sum].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join('') + '\n';
  };
  let out = '';
  for (let off = 0; off < data.length; off += 16) {
    if (off % 0x10000 === 0) out += rec(4, 0, [(off >> 24) & 255, (off >> 16) & 255]);
    out += rec(0, off & 0xffff, [...data.subarray(off, off + 16)]);
  }
  return out + ':00000001FF\n';
}

/** A firmware file for the demo: its version in the first three bytes. */
function firmware(version, size, name = `node-${version.join('.')}.hex`) {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + 1) & 255;
  version.forEach((v, i) => { data[i] = v; });
  return { name, mimeType: 'text/plain', buffer: Buffer.from(hex(data)) };
}

async function openWizard(nickname) {
  const { page, errors } = await openPage(demo.browser, demo.url);
  await page.locator('#use-demo-login').click();
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 10000 });
  await page.locator('#tab-nodes').click();
  const open = page.locator(`tr[data-nickname="${nickname}"] .fw-open`);
  await open.waitFor({ timeout: 10000 });
  await open.click();
  await page.locator('#fw-current').waitFor({ timeout: 10000 });
  return { page, errors };
}

test('a HEX file goes to node 1; the version is read back; a wrong device code is refused first', async () => {
  const { page, errors } = await openWizard(1);
  assert.match(await page.locator('#fw-current').textContent(), /firmware 1\.2\.3, device code 0x1001, bootloader VSCP/);
  // the node's MDF lists its firmware: a file of that name takes the listed device code and version
  await page.locator('#fw-mdf').click();
  await page.locator('#fw-listed li').first().waitFor({ timeout: 10000 });
  assert.match(await page.locator('#fw-listed').textContent(), /temp 4\.5\.6 — version 4\.5\.6, device code 0x1001/);
  await page.locator('#fw-file').setInputFiles(firmware([4, 5, 6], 16 * 1024, 'temp-4.5.6.hex'));
  await page.locator('#fw-matched').waitFor();
  assert.equal(await page.locator('#fw-code').inputValue(), '0x1001');
  assert.equal(await page.locator('#fw-version').inputValue(), '4.5.6');
  // a file for another kind of device: refused, nothing can start
  await page.locator('#fw-code').fill('0x1002');
  await page.locator('#fw-refused').waitFor();
  assert.match(await page.locator('#fw-refused').textContent(), /device code 0x1002, the node has 0x1001/);
  assert.ok(await page.locator('#fw-start').isDisabled());
  // the right one: the plan says what changes, then the upload
  await page.locator('#fw-code').fill('0x1001');
  await page.locator('#fw-version').fill('4.5.6');
  await page.locator('#fw-plan').waitFor();
  assert.match(await page.locator('#fw-plan').textContent(), /firmware 1\.2\.3 → 4\.5\.6 \(device code 0x1001\): 16384 bytes of flash/);
  await page.locator('#fw-start').click();
  await page.locator('#fw-progress').waitFor();
  await page.locator('#fw-done').waitFor({ timeout: 60000 });
  assert.match(await page.locator('#fw-done').textContent(), /now runs firmware 4\.5\.6/);
  await page.screenshot({ path: join(artifacts, '25-firmware-done.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('an upload aborted midway leaves the node in its bootloader; starting again finishes it', async () => {
  const { page, errors } = await openWizard(2);
  await page.locator('#fw-file').setInputFiles(firmware([7, 0, 1], 96 * 1024));
  await page.locator('#fw-plan').waitFor();
  await page.locator('#fw-start').click();
  // midway: a few blocks programmed, then abort
  await page.waitForFunction(() => /block ([3-9]|\d\d+) of/.test(document.querySelector('#fw-progress')?.textContent ?? ''), null, { timeout: 30000 });
  assert.match(await page.locator('#fw-progress').textContent(), /bytes\/s · \d+ s left/);
  await page.locator('#fw-abort').click();
  await page.locator('#fw-aborted').waitFor({ timeout: 10000 });
  assert.match(await page.locator('#fw-aborted').textContent(), /stays in its bootloader/);
  // a way to start again: the same file, the plan from the registers read at the start
  await page.locator('#fw-start').click();
  await page.locator('#fw-done').waitFor({ timeout: 60000 });
  assert.match(await page.locator('#fw-done').textContent(), /now runs firmware 7\.0\.1/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the demo's Level II node: registers over CLASS2.PROTOCOL, standard block at 0xFFFFFF80, a write checked", async () => {
  const { page, errors } = await openPage(demo.browser, demo.url);
  await page.locator('#use-demo-login').click();
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 10000 });
  await page.locator('#tab-nodes').click();
  // the Level II node shows by its heartbeat (every 5 s), with no firmware button
  const row = page.locator('#node-table tbody tr', { hasText: '02:00' });
  await row.waitFor({ timeout: 12000 });
  assert.equal(await row.locator('.fw-open').count(), 0);
  await row.getByRole('button', { name: 'registers' }).click();
  await page.locator('#reg-level2').waitFor();
  await page.waitForFunction(() => document.querySelector('#reg-standard')?.textContent.includes('FF:FF:FF:FF:FF:FF:FF:FE:00:01:00:00:00:00:02:00'), null, { timeout: 10000 });
  await page.locator('#reg-page').fill('1');
  await page.locator('#reg-read').click();
  await page.waitForFunction(() => document.querySelector('#reg-03')?.value === '83', null, { timeout: 10000 });
  assert.match(await page.locator('#reg-level2').textContent(), /0x00000080/);
  // register 3 of page 1 is address 131
  await page.locator('#reg-03').fill('5A');
  await page.locator('#reg-03').press('Tab');
  await page.locator('#reg-write').click();
  await page.waitForFunction(() => /page 1 reg 0x03 = 5A \(checked\)/.test(document.querySelector('#reg-writes')?.textContent ?? ''), null, { timeout: 10000 });
  assert.deepEqual(errors, []);
  await page.close();
});
