// The console on three screens a user has (a phone, a 1024×768 laptop, a desktop): the first
// rows' class, type and value read in full, measurements without float noise, the node table
// and register buttons reachable; an axe-core scan finds nothing serious; the first load is
// small. Screenshots go to tests/e2e/artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countBytes, withDemo } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const demo = withDemo([]);

/** A fresh page of this size, logged in to the demo and streaming. */
async function streaming(width, height, options = {}) {
  const context = await demo.browser.newContext({ viewport: { width, height }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const bytes = countBytes(page);
  await page.goto(demo.url);
  await page.locator('#target option').first().waitFor({ state: 'attached' });
  await page.locator('#user').fill('admin');
  await page.locator('#password').fill('secret');
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 10000 });
  // enough rows, a measurement among them
  await page.waitForFunction(() => [...document.querySelectorAll('#log .ev .val')].some((v) => v.textContent.includes('°C'))
    && document.querySelectorAll('#log .ev').length >= 6, null, { timeout: 20000 });
  return { context, page, errors, bytes };
}

/** The first rows in view: each cell's text and whether it is cut. */
function firstRows(page, n) {
  return page.evaluate((n) => {
    const box = document.querySelector('#log').getBoundingClientRect();
    const rows = [...document.querySelectorAll('#log .ev')].filter((r) => {
      const b = r.getBoundingClientRect();
      return b.top >= box.top - 1 && b.bottom <= box.bottom + 1;
    }).slice(0, n);
    const cell = (r, sel) => {
      const e = r.querySelector(sel);
      const visible = e && getComputedStyle(e).display !== 'none';
      return { text: e?.textContent ?? '', cut: !!visible && e.scrollWidth > e.clientWidth + 1, visible };
    };
    return rows.map((r) => ({ cls: cell(r, '.cls'), typ: cell(r, '.typ'), val: cell(r, '.val'), node: cell(r, '.guid') }));
  }, n);
}

for (const [width, height] of [[390, 844], [1024, 768], [1440, 900]]) {
  test(`readable at ${width}×${height}: class, type, node and value in full`, async () => {
    const { context, page, errors } = await streaming(width, height);
    // the log is not following while we read: rows stay put
    await page.locator('#follow').uncheck();
    const rows = await firstRows(page, 8);
    assert.ok(rows.length >= 5, `rows in view: ${rows.length}`);
    for (const r of rows) {
      for (const k of ['cls', 'typ', 'val', 'node']) {
        assert.ok(r[k].visible, `${k} shown at ${width}px`);
        assert.ok(!r[k].cut, `${k} cut at ${width}px: ${JSON.stringify(r[k].text)}`);
      }
      assert.ok(r.cls.text.length > 0 && r.typ.text.length > 0);
      // no float noise: at most the decimals the event carries, 2 for floats
      assert.doesNotMatch(r.val.text, /\d\.\d{3,}/, `value ${r.val.text}`);
    }
    await page.screenshot({ path: join(artifacts, `layout-${width}x${height}.png`) });
    // the node table and a node's register buttons are reachable (a real click scrolls to them)
    await page.locator('#tab-nodes').click();
    await page.locator('#node-table tbody tr').first().waitFor({ timeout: 10000 });
    await page.locator('#node-table tbody tr button', { hasText: 'registers' }).first().click();
    await page.locator('#reg-read').click();
    await page.locator('#reg-grid').waitFor();
    await page.screenshot({ path: join(artifacts, `layout-${width}x${height}-nodes.png`), fullPage: true });
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('axe-core finds no serious or critical violation in the events and nodes views', async () => {
  const { context, page } = await streaming(1440, 900, { bypassCSP: true });
  await page.addScriptTag({ path: axePath });
  const scan = () => page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  const events = await scan();
  await page.locator('#tab-nodes').click();
  await page.locator('#node-table tbody tr').first().waitFor({ timeout: 10000 });
  const nodes = await scan();
  await page.locator('#tab-charts').click();
  const charts = await scan();
  console.log(`axe-core: events ${events.length}, nodes ${nodes.length}, charts ${charts.length} serious/critical`);
  assert.deepEqual([...events, ...nodes, ...charts], []);
  await context.close();
});

test('dark theme follows the system and reads', async () => {
  const context = await demo.browser.newContext({ viewport: { width: 1024, height: 768 }, colorScheme: 'dark', bypassCSP: true });
  const page = await context.newPage();
  await page.goto(demo.url);
  await page.locator('#target option').first().waitFor({ state: 'attached' });
  assert.equal(await page.evaluate(() => document.body.className), 'dark');
  await page.addScriptTag({ path: axePath });
  const contrast = await page.evaluate(async () => (await window.axe.run(document, { runOnly: ['color-contrast'] }))
    .violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`)));
  assert.deepEqual(contrast, [], 'colour contrast on the dark theme');
  await context.close();
});

test('first load is compressed: at most 420 KB over the wire', async () => {
  const { context, bytes, page } = await streaming(1440, 900);
  await page.waitForTimeout(500);
  console.log(`first load: ${(bytes.total / 1024).toFixed(1)} KB transferred`);
  assert.ok(bytes.total <= 420 * 1024, `${bytes.total} bytes`);
  await context.close();
});
