// Browser end-to-end tests: the real console in Debian's headless chromium against
// `vscp-proxy --demo` on 127.0.0.1. Screenshots land in tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launchChromium, openPage, startProxy, stopProxy } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'tests', 'e2e', 'artifacts');
mkdirSync(artifacts, { recursive: true });

let proxy, browser, port, url;

before(async () => {
  port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  proxy = await startProxy(port, ['--demo']);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (proxy) await stopProxy(proxy);
});

async function openConsole(password = 'secret') {
  const { page, errors } = await openPage(browser, url);
  await page.waitForSelector('#target option', { state: 'attached' });
  await page.fill('#user', 'admin');
  await page.fill('#password', password);
  await page.click('#connect');
  return { page, errors };
}

async function statusHas(page, text, timeout = 10000) {
  await page.waitForFunction((t) => document.querySelector('#status')?.textContent.includes(t), text, { timeout });
}

test('connects, logs in, streams and decodes measurements', async () => {
  const { page, errors } = await openConsole();
  await statusHas(page, 'streaming');
  await page.waitForFunction(() => [...document.querySelectorAll('#log .val')].some((e) => e.textContent.includes('°C')), null, { timeout: 5000 });
  await page.waitForFunction(() => document.querySelector('#vers')?.textContent.match(/\d+\.\d+\.\d+/), null, { timeout: 5000 });
  await page.click('#log .ev');
  assert.match(await page.textContent('#detail'), /raw line/);
  await page.screenshot({ path: join(artifacts, '01-streaming.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('TurnOn to the relay brings its On event; raw NOOP answers +OK', async () => {
  const { page } = await openConsole();
  await statusHas(page, 'streaming');
  await page.getByRole('button', { name: 'relay on' }).click();
  await page.click('#send');
  await page.waitForFunction(() => [...document.querySelectorAll('#log .typ')].some((e) => e.textContent.startsWith('ON (3)')), null, { timeout: 5000 });
  await page.getByRole('button', { name: 'who is there' }).click();
  await page.click('#send');
  await page.waitForFunction(() => [...document.querySelectorAll('#log .guid')].some((e) => e.textContent.startsWith('temp (node 1)')), null, { timeout: 5000 });
  await page.fill('#cmd', 'NOOP');
  await page.press('#cmd', 'Enter');
  await page.waitForFunction(() => document.querySelector('#transcript').textContent.includes('+OK'), null, { timeout: 5000 });
  await page.fill('#cmd', 'BOGUS');
  await page.press('#cmd', 'Enter');
  await page.waitForFunction(() => document.querySelector('#transcript').textContent.includes('Unknown command'), null, { timeout: 5000 });
  await statusHas(page, 'streaming');
  await page.screenshot({ path: join(artifacts, '02-send-and-console.png') });
  await page.close();
});

test('client filter hides rows, clearing shows them; export has the shown rows', async () => {
  const { page } = await openConsole();
  await statusHas(page, 'streaming');
  await page.waitForFunction(() => document.querySelectorAll('#log .ev').length >= 3, null, { timeout: 8000 });
  await page.fill('#f-class', '20');
  await page.waitForFunction(() => !document.querySelector('#hidden').textContent.startsWith('0 '));
  const classes = await page.$$eval('#log .cls', (els) => els.map((e) => e.textContent));
  assert.ok(classes.every((c) => c.includes('(20)')), classes.join());
  await page.screenshot({ path: join(artifacts, '03-client-filter.png') });
  await page.click('#f-clear');
  await page.waitForFunction(() => document.querySelector('#hidden').textContent.startsWith('0 '));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trim().split('\n');
  assert.ok(lines.length >= 4, csv);
  assert.match(lines[0], /^seq,received_ms,priority,class/);
  await page.close();
});

test('server-side filter reduces the stream', async () => {
  const { page } = await openConsole();
  await statusHas(page, 'streaming');
  await page.locator('#server-filter summary').click();
  await page.locator('#sf-class').fill('CLASS1.INFORMATION');
  assert.match(await page.locator('#sf-preview').textContent(), /SFLT 0,20,0,00:00/);
  await page.locator('#sf-apply').click();
  await page.waitForFunction(() => document.querySelector('#notices')?.textContent.includes('server filter applied'), null, { timeout: 8000 });
  await statusHas(page, 'streaming');
  await page.click('#clear');
  await new Promise((r) => setTimeout(r, 6000)); // sensors report every 2–3 s, heartbeats every 5 s
  const classes = await page.$$eval('#log .cls', (els) => els.map((e) => e.textContent));
  assert.ok(classes.length > 0, 'heartbeats still arrive');
  assert.ok(classes.every((c) => c.includes('(20)')), classes.join());
  await page.screenshot({ path: join(artifacts, '04-server-filter.png') });
  await page.close();
});

test('linktest page reports the demo node conformant', async () => {
  const { page } = await openConsole();
  await page.click('#linktest-run');
  await page.waitForFunction(() => document.querySelector('#linktest-summary')?.textContent.includes('0 failed'), null, { timeout: 40000 });
  assert.match(await page.textContent('#linktest'), /rcvloop-keepalive/);
  await page.locator('#linktest').screenshot({ path: join(artifacts, '09-linktest.png') });
  await page.close();
});

test('narrow window, keyboard only; an imported log scrolls and shows the rows in view', async () => {
  const page = await browser.newPage({ viewport: { width: 480, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('#target option', { state: 'attached' });
  // offline first: a saved log of 300 temperature events and one entry that is not an event
  const saved = Array.from({ length: 300 }, (_, i) => ({
    seq: i, received_ms: 1700000000000 + i * 1000,
    line: `96,10,6,${i},,,FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01,136,0,${i % 256}`,
  }));
  saved.push({ line: 'not an event' });
  await page.setInputFiles('#import', { name: 'log.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(saved)) });
  await page.waitForFunction(() => document.querySelector('#shown').textContent.startsWith('300 '));
  assert.match(await page.textContent('#notices'), /1 entries were not events/);
  // rows shown must sit inside the log's box wherever it is scrolled to
  const rowsInView = () => page.evaluate(() => {
    const box = document.querySelector('#log').getBoundingClientRect();
    return [...document.querySelectorAll('#log .ev')].filter((r) => {
      const b = r.getBoundingClientRect();
      return b.bottom > box.top && b.top < box.bottom;
    }).length;
  });
  // 480 px is a phone's width: each row is a two-line card
  const rowHeight = await page.$eval('#log .ev', (e) => e.offsetHeight);
  assert.equal(rowHeight, 44);
  // the row 30 px below the log's top edge (inside the first 44 px card): 0 at the start,
  // 100 once scrolled by 100 rows
  const rowAtTop = () => page.evaluate(() => {
    const box = document.querySelector('#log').getBoundingClientRect();
    return document.elementFromPoint(box.left + 20, box.top + 30)?.closest('.ev')?.querySelector('.data').textContent;
  });
  for (const [top, row] of [[0, '88 00 00'], [100 * rowHeight, '88 00 64']]) {
    await page.$eval('#log', (el, t) => { el.scrollTop = t; el.dispatchEvent(new Event('scroll')); }, top);
    await page.waitForFunction(() => !document.querySelector('#follow').checked);
    await page.waitForTimeout(100);
    const shown = await rowsInView();
    assert.ok(shown >= 10, `rows in view at scrollTop ${top}: ${shown}`);
    assert.equal(await rowAtTop(), row, `row near the top at scrollTop ${top}`);
  }
  // the keyboard walks the rows; the selected one stays in view and fills the detail pane
  // the log scrolls at the start of the next animation frame: wait for it (a busy machine may take a while)
  const selectedInView = (what) => page.waitForFunction(() => {
    const sel = document.querySelector('#log .ev.sel');
    if (!sel) return false;
    const box = document.querySelector('#log').getBoundingClientRect();
    const b = sel.getBoundingClientRect();
    return b.top >= box.top - 1 && b.bottom <= box.bottom + 1;
  }, null, { timeout: 5000 }).then(() => true, () => assert.fail(what));
  await page.focus('#log');
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.querySelector('#log .ev.sel .data')?.textContent === '88 00 00');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.querySelector('#log .ev.sel .data')?.textContent === '88 00 02');
  assert.match(await page.textContent('#detail'), /raw line96,10,6,2,,/);
  await page.keyboard.press('End');
  await page.waitForFunction(() => document.querySelector('#log .ev.sel .data')?.textContent === '88 00 2B'); // row 299
  await selectedInView('last row scrolled into view');
  await page.keyboard.press('PageUp');
  await page.waitForFunction(() => document.querySelector('#log .ev.sel .data')?.textContent !== '88 00 2B');
  await selectedInView('PageUp keeps the selection in view');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('#log .ev.sel'));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page is ${overflow}px wider than a 480px window`);
  await page.screenshot({ path: join(artifacts, '05-narrow-import.png'), fullPage: true });
  // keyboard only: log in, then a command with its history
  await page.focus('#user');
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('admin');
  await page.keyboard.press('Tab');
  await page.keyboard.type('secret');
  await page.keyboard.press('Enter'); // submits the connection form
  await statusHas(page, 'streaming');
  await page.focus('#cmd');
  await page.keyboard.type('VERS');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#transcript').textContent.includes('> VERS'));
  await page.keyboard.press('ArrowUp');
  assert.equal(await page.inputValue('#cmd'), 'VERS');
  assert.deepEqual(errors, []);
  await page.close();
});

test('nodes: scan finds the demo nodes; registers read, write (checked), undo, save and load', async () => {
  const { page, errors } = await openConsole();
  await statusHas(page, 'streaming');
  await page.click('#tab-nodes');
  await page.waitForSelector('#interfaces option', { state: 'attached' });
  await page.fill('#scan-from', '1');
  await page.fill('#scan-to', '8');
  await page.click('#scan');
  await page.waitForFunction(() => /done: 8 of 8 nicknames asked, 3 found/.test(document.querySelector('#scan-progress')?.textContent ?? ''), null, { timeout: 15000 });
  // a scan names the nodes it finds after their MDF files (the user may rename them)
  const names = await page.$$eval('#node-table tbody tr .node-name', (inputs) => inputs.map((i) => i.value));
  for (const n of ['temp', 'humid', 'relay']) assert.ok(names.includes(n), names.join());
  await page.screenshot({ path: join(artifacts, '10-nodes.png') });

  // node 1: its standard registers decoded, then the whole page
  await page.click('#node-table tr[data-nickname="1"] button');
  await page.waitForFunction(() => document.querySelector('#reg-standard')?.textContent.includes('vscp-link.local/demo/temp.xml'), null, { timeout: 10000 });
  assert.match(await page.textContent('#reg-standard'), /FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01/);
  await page.click('#reg-read');
  await page.waitForFunction(() => document.querySelector('#reg-7f').value !== '' && /last batch took \d+ ms/.test(document.querySelector('#reg-figures').textContent), null, { timeout: 10000 });
  const figures = await page.textContent('#reg-figures');
  console.log(`# register page read through the proxy: ${figures}`);
  assert.equal(await page.inputValue('#reg-00'), '02', 'report interval of the temperature node');
  assert.equal(await page.inputValue('#reg-ff'), '00');

  // report every second instead of every two: previewed, written, checked by the answer
  await page.fill('#reg-00', '01');
  await page.press('#reg-00', 'Tab');
  await page.waitForFunction(() => document.querySelector('#reg-diff')?.textContent.includes('reg 0x00: 02 → 01'));
  await page.fill('#reg-91', '07'); // the nickname register is read-only on the demo nodes
  await page.press('#reg-91', 'Tab');
  await page.click('#reg-write');
  await page.waitForFunction(() => (document.querySelector('#reg-writes')?.querySelectorAll('li').length ?? 0) === 2, null, { timeout: 10000 });
  const writes = await page.textContent('#reg-writes');
  assert.match(writes, /✔ page 0 reg 0x00 = 01 \(checked\)/);
  assert.match(writes, /✘ page 0 reg 0x91: wrote 07, node has 01/);
  await page.screenshot({ path: join(artifacts, '11-registers.png'), fullPage: true });

  // the log shows node 1 measuring every second now
  await page.click('#tab-events');
  await page.fill('#f-class', '10');
  await page.fill('#f-node', '1');
  await page.click('#clear');
  await new Promise((r) => setTimeout(r, 5500));
  const shown = parseInt(await page.textContent('#shown'), 10);
  // every 2 s it would be at most 3 in 5.5 s
  assert.ok(shown >= 4, `node 1 measured ${shown} times in 5.5 s`);
  await page.click('#f-clear');

  // undo writes the old interval back
  await page.click('#tab-nodes');
  await page.click('#reg-undo');
  await page.waitForFunction(() => document.querySelector('#reg-00').value === '02', null, { timeout: 10000 });

  // save, change the file, load it: the difference becomes an edit to review
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#reg-save')]);
  const saved = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(saved.registers['0:0'], 2);
  assert.equal(saved.registers['0:145'], 1);
  saved.registers['0:2'] = 42;
  await page.setInputFiles('#reg-load', { name: 'regs.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(saved)) });
  await page.waitForFunction(() => document.querySelector('#reg-diff')?.textContent.includes('reg 0x02: 01 → 2A'));
  await page.click('#reg-discard');
  await page.setInputFiles('#reg-load', { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"registers": 5}') });
  await page.waitForFunction(() => document.querySelector('#notices')?.textContent.includes('not a register file'));
  assert.deepEqual(errors, []);
  await page.close();
});

test('MDF: loaded from the node URL through the proxy; it names registers, a remote variable round-trips, a DM row is written', async () => {
  const { page, errors } = await openConsole();
  await statusHas(page, 'streaming');
  await page.click('#tab-nodes');
  await page.fill('#scan-from', '1');
  await page.fill('#scan-to', '3');
  await page.click('#scan');
  await page.waitForFunction(() => /3 found/.test(document.querySelector('#scan-progress')?.textContent ?? ''), null, { timeout: 15000 });

  await page.click('#node-table tr[data-nickname="1"] button');
  await page.waitForSelector('#mdf-fetch', { timeout: 10000 });
  await page.click('#mdf-fetch');
  await page.waitForFunction(() => document.querySelector('#mdf-name')?.textContent.includes('temp'), null, { timeout: 10000 });
  await page.click('#reg-read');
  await page.waitForFunction(() => document.querySelector('#reg-7f').value !== '' && /last batch took \d+ ms/.test(document.querySelector('#reg-figures').textContent), null, { timeout: 10000 });
  const regs = await page.textContent('#mdf-registers');
  assert.match(regs, /Report interval/);
  assert.match(regs, /every 2 s \(default\)/, 'the value list names the value');
  assert.equal(await page.getAttribute('#reg-00', 'title'), '0x00 (0) — Report interval');

  // a signed 16-bit remote variable over registers 4 and 5: edit, write, read back
  await page.fill('#var-alarm_threshold', '-15');
  await page.press('#var-alarm_threshold', 'Tab');
  await page.waitForFunction(() => document.querySelector('#reg-diff')?.textContent.includes('reg 0x05: 00 → F1'));
  await page.click('#reg-write');
  await page.waitForFunction(() => (document.querySelector('#reg-writes')?.textContent.match(/✔/g) ?? []).length >= 2, null, { timeout: 10000 });
  await page.click('#reg-read');
  await page.waitForFunction(() => /last batch took/.test(document.querySelector('#reg-figures').textContent) && document.querySelector('#var-alarm_threshold')?.value === '-15', null, { timeout: 10000 });
  await page.locator('#registers').screenshot({ path: join(artifacts, '12-mdf-remote-variables.png') });

  // the relay's decision matrix: row 0 gets the action "Relay on"
  await page.click('#node-table tr[data-nickname="3"] button');
  await page.waitForFunction(() => document.querySelector('#registers h2')?.textContent.includes('node 3'));
  await page.waitForSelector('#mdf-fetch', { timeout: 10000 });
  await page.click('#mdf-fetch');
  await page.waitForFunction(() => document.querySelector('#mdf-name')?.textContent.includes('relay'), null, { timeout: 10000 });
  await page.click('#reg-read');
  await page.waitForSelector('#dmatrix tr[data-row="0"] select.dm-action', { timeout: 10000 });
  await page.selectOption('#dmatrix tr[data-row="0"] select.dm-action', '1');
  await page.waitForFunction(() => document.querySelector('#reg-diff')?.textContent.includes('reg 0x26: 00 → 01'));
  await page.click('#reg-write');
  await page.waitForFunction(() => document.querySelector('#reg-writes')?.textContent.includes('reg 0x26 = 01 (checked)'), null, { timeout: 10000 });
  assert.match(await page.inputValue('#dmatrix tr[data-row="0"] select.dm-action'), /^1$/);
  await page.locator('#dmatrix').screenshot({ path: join(artifacts, '13-decision-matrix.png') });

  // a broken MDF file is refused with a reason; the editor keeps working
  await page.setInputFiles('#mdf-load', { name: 'bad.xml', mimeType: 'text/xml', buffer: Buffer.from('<vscp><module><registers><reg page="x"/></registers></module></vscp>') });
  await page.waitForFunction(() => document.querySelector('#notices')?.textContent.includes('MDF not loaded: page of register'));
  assert.match(await page.textContent('#mdf-name'), /relay/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('charts: a picked measurement is drawn with its unit, hover shows values, CSV has the points', async () => {
  const { page, errors } = await openConsole();
  await statusHas(page, 'streaming');
  await page.click('#tab-charts');
  const row = '#chart-streams tr[data-quantity="6"]';
  await page.waitForSelector(row, { timeout: 10000 });
  assert.match(await page.textContent(row), /node 1 \(demo bus\) temperature sensor 0\s*°C/);
  await page.click(`${row} input[type=checkbox]`);
  await page.waitForFunction((r) => parseInt(document.querySelector(`${r} .points`).textContent, 10) >= 3, row, { timeout: 15000 });
  await new Promise((r) => setTimeout(r, 400)); // the next drawing
  const drawn = await page.evaluate(() => {
    const c = document.querySelector('#chart');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let line = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] === 11 && d[i + 1] === 102 && d[i + 2] === 208) line++;
    return line;
  });
  assert.ok(drawn > 20, `series colour on ${drawn} pixels`);
  const box = await page.locator('#chart').boundingBox();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  await page.waitForFunction(() => /temperature sensor 0: [\d.]+ °C/.test(document.querySelector('#chart-hover').textContent), null, { timeout: 5000 });
  await page.locator('#charts').screenshot({ path: join(artifacts, '14-chart.png') });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#chart-csv')]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'time_ms,time_utc,series,value,unit');
  assert.ok(csv.length >= 4, csv.join('\n'));
  assert.match(csv[1], /^\d+,\d{4}-\d\d-\d\dT[\d:.]+Z,"node 1 \(demo bus\) temperature sensor 0",[\d.]+,°C$/);
  await page.click('#chart-pause');
  assert.equal(await page.textContent('#chart-pause'), 'resume');
  assert.deepEqual(errors, []);
  await page.close();
});

test('periodic send: every 200 ms, 5 times, each answered by the relay', async () => {
  const { page, errors } = await openConsole();
  await statusHas(page, 'streaming');
  await page.getByRole('button', { name: 'relay on' }).click();
  await page.fill('#s-every', '200');
  await page.fill('#s-times', '5');
  assert.equal(await page.textContent('#send'), 'Start');
  await page.click('#send');
  await page.waitForFunction(() => document.querySelector('#repeats li .count')?.textContent === 'every 200 ms: 5/5 sent, done', null, { timeout: 10000 });
  await page.fill('#s-every', '20');
  assert.match(await page.textContent('#s-error'), /at least 100/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('wrong password shows the reason', async () => {
  const { page } = await openConsole('wrong');
  await statusHas(page, 'login failed');
  assert.match(await page.textContent('#notices'), /Invalid username or password/);
  await page.screenshot({ path: join(artifacts, '06-wrong-password.png') });
  await page.close();
});

test('proxy stop shows disconnected, restart reconnects', async () => {
  const { page } = await openConsole();
  await statusHas(page, 'streaming');
  await stopProxy(proxy);
  proxy = null;
  await statusHas(page, 'reconnecting');
  await page.screenshot({ path: join(artifacts, '07-proxy-down.png') });
  proxy = await startProxy(port, ['--demo']);
  await statusHas(page, 'streaming', 20000);
  await page.screenshot({ path: join(artifacts, '08-reconnected.png') });
  await page.close();
});
