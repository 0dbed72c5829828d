// A user's first hour with the console, by mouse and keyboard only (playwright locators and
// key presses; page script only reads): the demo login offered, a failed login neither saved
// nor left behind, notices that clear and can be dismissed, a bad register value marked in the
// grid, nodes named once and known everywhere (kept across reloads, exported, imported),
// filters by name with their mistakes said, saved filters and templates, the CSV export read
// back, follow and the detail pane in view, tabs by arrow keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { withDemo } from './browser.mjs';

const demo = withDemo();

/** A new browser profile (its own local storage) at 1280×900. */
async function freshPage() {
  const context = await demo.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(demo.url);
  await page.locator('#target option').first().waitFor({ state: 'attached' });
  return { context, page, errors };
}

const statusHas = (page, text) => page.waitForFunction((t) => document.querySelector('#status')?.textContent.includes(t), text, { timeout: 10000 });

/** Logs in with the demo login the page offers. */
async function demoLogin(page) {
  await page.locator('#use-demo-login').click();
  await page.locator('#connect').click();
  await statusHas(page, 'streaming');
}

test('connection bar: demo login offered, a failed login not saved, locked while connected; notices clear and dismiss', async () => {
  const { context, page, errors } = await freshPage();
  assert.match(await page.locator('#demo-login').textContent(), /log in as “admin”, password “secret”/);
  await page.locator('#user').fill('admin');
  await page.locator('#password').fill('wrong');
  await page.locator('#connect').click();
  await page.locator('.notice.error', { hasText: 'Invalid username' }).waitFor({ timeout: 10000 });
  // a login that failed is not offered again as a saved connection
  assert.equal(await page.locator('select[aria-label="saved connections"]').count(), 0);

  await demoLogin(page);
  // the login error is gone now that a login worked; the bar says what it is connected to
  await page.locator('.notice.error', { hasText: 'Invalid username' }).waitFor({ state: 'detached', timeout: 5000 });
  assert.match(await page.locator('#connected-to').textContent(), /^admin @ demo at 127\.0\.0\.1:\d+ through http/);
  assert.equal(await page.locator('#target').count(), 0, 'the target cannot be changed while connected');

  // good news is green and can be dismissed by hand
  await page.locator('#server-filter summary').click();
  await page.locator('#sf-class').fill('information');
  await page.locator('#sf-apply').click();
  const news = page.locator('.notice.info', { hasText: 'server filter applied' });
  await news.waitFor({ timeout: 8000 });
  await news.getByRole('button', { name: /dismiss/ }).click();
  await news.waitFor({ state: 'detached' });
  await page.locator('#sf-pass-all').click();

  // a register value that is not a byte is marked in the grid, not written
  await page.locator('#tab-nodes').click();
  await page.locator('#node-table tr[data-nickname="1"] button', { hasText: 'registers' }).click();
  await page.locator('#reg-read').click();
  // typed once the page's values are in (a value arriving later would replace the text)
  await page.waitForFunction(() => document.querySelector('#reg-10')?.value !== '', null, { timeout: 10000 });
  const cell = page.locator('#reg-10');
  await cell.fill('zz');
  await cell.press('Tab');
  await page.locator('#reg-grid td.invalid #reg-10').waitFor();
  assert.equal(await cell.getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#reg-invalid').textContent(), /1 cell\(s\) hold no byte value/);
  assert.match(await page.locator('#reg-write').textContent(), /write 0 changes/);

  await page.locator('#disconnect').click();
  await statusHas(page, 'disconnected');
  // the login that worked is saved, the failed one is not
  const saved = await page.locator('select[aria-label="saved connections"] option').allTextContents();
  assert.deepEqual(saved.slice(1), [`admin@demo ${demo.url.replace(/\/$/, '')}`]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('known nodes name nodes everywhere, survive a reload, export and import; filters take names', async () => {
  const { context, page, errors } = await freshPage();
  await demoLogin(page);
  await page.locator('#tab-nodes').click();
  const name1 = page.locator('#node-table tr[data-nickname="1"] .node-name');
  await name1.waitFor({ timeout: 15000 });
  await name1.fill('Kitchen temp');
  await name1.press('Enter');
  await page.locator('#known-table tr', { hasText: 'FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01' }).waitFor();

  await page.locator('#tab-events').click();
  await page.waitForFunction(() => [...document.querySelectorAll('#log .ev .guid')].some((g) => g.textContent === 'Kitchen temp (node 1)'), null, { timeout: 15000 });

  // the node field takes the name; a type the class does not have is said, and marked
  await page.locator('#f-node').fill('kitchen');
  await page.waitForFunction(() => {
    const nodes = [...document.querySelectorAll('#log .ev .guid')].map((g) => g.textContent);
    return nodes.length > 0 && nodes.every((n) => n === 'Kitchen temp (node 1)');
  }, null, { timeout: 15000 });
  await page.locator('#f-class').fill('information');
  await page.locator('#f-type').fill('no such type');
  assert.match(await page.locator('#filter-errors').textContent(), /type: CLASS1.INFORMATION has no type named "no such type"/);
  assert.equal(await page.locator('#f-type').getAttribute('aria-invalid'), 'true');
  await page.locator('#f-class').fill('');
  await page.locator('#f-type').fill('temperature');
  await page.locator('#filter-errors').waitFor({ state: 'detached' });
  await page.locator('#filter-name').fill('kitchen temperature');
  await page.locator('#save-filter').click();

  // after a reload: the name, the saved filter
  await page.reload();
  await page.locator('#target option').first().waitFor({ state: 'attached' });
  assert.deepEqual(await page.locator('#saved-filters option').allTextContents(), ['saved filters…', 'kitchen temperature']);
  await page.locator('#saved-filters').selectOption('kitchen temperature');
  assert.equal(await page.locator('#f-node').inputValue(), 'kitchen');
  await demoLogin(page);
  await page.waitForFunction(() => [...document.querySelectorAll('#log .ev .guid')].some((g) => g.textContent === 'Kitchen temp (node 1)'), null, { timeout: 15000 });
  assert.equal(await page.locator('#shown').textContent().then((t) => parseInt(t, 10) > 0), true);

  // export, then import a file naming another node
  await page.locator('#tab-nodes').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#nodes-export').click()]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.ok(exported.some((k) => k.name === 'Kitchen temp' && k.guid.endsWith(':01')), JSON.stringify(exported));
  const other = [{ guid: 'FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:03', name: 'Hall relay' }, { guid: 'bad', name: 'x' }];
  await page.locator('#nodes-import').setInputFiles({ name: 'nodes.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(other)) });
  await page.locator('.notice', { hasText: 'known nodes: 1 imported, 1 entries without a GUID or a name skipped' }).waitFor();
  assert.equal(await page.locator('#node-table tr[data-nickname="3"] .node-name').inputValue(), 'Hall relay');
  assert.deepEqual(errors, []);
  await context.close();
});

test('templates, CSV read back, follow and detail in view, tabs by arrow keys, the command transcript follows', async () => {
  const { context, page, errors } = await freshPage();
  await demoLogin(page);
  // the demo's templates on a demo target; a form saved as the user's own template
  await page.getByRole('button', { name: 'relay on' }).click();
  await page.locator('#s-data').fill('0,1,3');
  await page.locator('#template-name').fill('my relay');
  await page.locator('#template-save').click();
  await page.getByRole('button', { name: 'my relay', exact: true }).waitFor();
  const [tpl] = await Promise.all([page.waitForEvent('download'), page.locator('#templates-export').click()]);
  assert.equal(JSON.parse(readFileSync(await tpl.path(), 'utf8'))[0].name, 'my relay');

  // the CSV export reads back as the same rows
  await page.waitForFunction(() => parseInt(document.querySelector('#shown').textContent, 10) >= 5, null, { timeout: 15000 });
  await page.locator('#pause').click();
  const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
  const text = readFileSync(await csv.path(), 'utf8');
  const rows = text.trim().split('\n').length - 1;
  await page.locator('#disconnect').click();
  await page.locator('#import').setInputFiles({ name: 'log.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
  await page.waitForFunction((n) => document.querySelector('#shown').textContent.startsWith(`${n} `), rows);

  // picking a row stops follow visibly, its detail comes into view, and follow comes back
  await page.locator('#pause').click();
  await page.locator('#use-demo-login').click();
  await page.locator('#connect').click();
  await statusHas(page, 'streaming');
  await page.locator('#log .ev').nth(2).click();
  assert.equal(await page.locator('#follow').isChecked(), false);
  assert.match(await page.locator('#follow-off').textContent(), /Not following: a row is selected/);
  await page.waitForFunction(() => {
    const b = document.querySelector('#detail').getBoundingClientRect();
    return b.top >= 0 && b.top < window.innerHeight;
  }, null, { timeout: 5000 });
  await page.locator('#jump-newest').click();
  assert.equal(await page.locator('#follow').isChecked(), true);

  // tabs answer arrow keys
  await page.locator('#tab-events').focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.activeElement?.id === 'tab-nodes' && document.querySelector('#tab-nodes').getAttribute('aria-selected') === 'true');
  await page.keyboard.press('End');
  await page.waitForFunction(() => document.activeElement?.id === 'tab-charts');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.activeElement?.id === 'tab-events');

  // °C and % are charted on two panels, each with its own value axis
  await page.locator('#tab-charts').click();
  for (const q of ['6', '35']) {
    const box = page.locator(`#chart-streams tr[data-quantity="${q}"] input[type=checkbox]`).first();
    await box.waitFor({ timeout: 15000 });
    await box.check();
  }
  assert.equal(await page.locator('#chart').getAttribute('height'), '480');
  await page.locator('#tab-events').click();

  // the command console follows its newest reply and wraps long lines
  await page.locator('#cmd').click();
  for (let i = 0; i < 12; i++) {
    await page.keyboard.type(i % 2 ? 'NOOP' : 'WCYD');
    await page.keyboard.press('Enter');
  }
  await page.keyboard.type(`SEND 0,20,3,,,,-,${Array.from({ length: 40 }, (_, i) => i).join(',')}`);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => {
    const t = document.querySelector('#transcript');
    return t.textContent.includes('SEND 0,20,3') && t.scrollTop + t.clientHeight >= t.scrollHeight - 4 && t.scrollWidth <= t.clientWidth;
  }, null, { timeout: 10000 });
  assert.deepEqual(errors, []);
  await context.close();
});
