// The console against a link server as sloppy as a real one: a scripted server (node:net,
// loopback) that writes month 13 into every event's datetime, as one widely deployed server
// does in December. Every event must show, marked, with one notice; real clicks and keys.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launchChromium, linkServer, openPage, startProxy, stopProxy } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'tests', 'e2e', 'artifacts');
mkdirSync(artifacts, { recursive: true });

const GUID = 'FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01';
let server, proxy, browser, url;
let sent = 0;

/** A link server whose every event carries 2026-13-05 (month 13). */
function month13Server(port) {
  const replies = {
    USER: ['+OK - User name accepted, password please'],
    PASS: ['+OK - Ready to work.'],
    VERS: ['15,2,0,0', '+OK - Success.'],
    WCYD: ['00-00-00-00-00-00-80-08', '+OK - Success.'],
    INTERFACE: ['1 rows', `0,1,${GUID},month13 | Started at 2026-13-05T09:00:00Z`, '+OK - Success.'],
    CHID: ['1', '+OK - Success.'],
    GGID: [GUID, '+OK - Success.'],
    STAT: ['0,0,0,0,0,0,0', '+OK - Success.'],
    INFO: ['0,0,0,""', '+OK - Success.'],
  };
  const stream = (sock) => setInterval(() => {
    const ss = String(sent % 60).padStart(2, '0');
    sock.write(`0,10,6,${sent},2026-13-05T10:00:${ss}Z,0,${GUID},168,65,172,0,0\r\n`);
    sent += 1;
    if (sent % 5 === 0) sock.write('+OK\r\n');
  }, 100);
  return linkServer(port, { greeting: 'Welcome to the month-13 server\r\n+OK - Success.\r\n', replies, stream });
}

before(async () => {
  const nodePort = await freePort();
  server = await month13Server(nodePort);
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  proxy = await startProxy(port, ['--node', `month13=127.0.0.1:${nodePort}`, '--node', `dead=127.0.0.1:${await freePort()}`]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (proxy) await stopProxy(proxy);
  server?.close();
});

test('a server writing month 13 loses no event: rows marked, one notice, the raw text in the detail', async () => {
  const { page, errors } = await openPage(browser, url);
  await page.locator('#target').selectOption('month13');
  await page.locator('#user').fill('admin');
  await page.locator('#password').fill('secret');
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 10000 });
  // 3 s of events at 10/s
  await page.waitForFunction(() => parseInt(document.querySelector('#total')?.textContent ?? '0', 10) >= 30, null, { timeout: 10000 });
  const rows = await page.locator('#log .ev').count();
  assert.ok(rows >= 10, `${rows} rows in view`);
  const marked = await page.locator('#log .ev .unread').count();
  assert.equal(marked, rows, 'every row is marked');
  assert.ok((await page.locator('#log .val').first().textContent()).includes('°C'));
  const notices = await page.locator('#notices .notice .text').allTextContents();
  const about = notices.filter((n) => n.startsWith('Unreadable fields:'));
  assert.equal(about.length, 1, notices.join(' | '));
  assert.match(about[0], /month is not 1–12/);
  assert.ok(!notices.some((n) => n.includes('bad event line')), notices.join(' | '));
  // the browser shows every event the server wrote (those still on their way aside)
  const total = parseInt(await page.locator('#total').textContent(), 10);
  assert.ok(total >= sent - 3 && total <= sent, `${total} shown of ${sent} sent`);
  await page.locator('#log .ev').first().click();
  await page.locator('#detail-unread').waitFor();
  assert.match(await page.locator('#detail-unread').textContent(), /datetime: "2026-13-05T10:00:\d\dZ" — month is not 1–12/);
  assert.match(await page.locator('#detail-time').textContent(), /unknown: the server wrote/);
  await page.screenshot({ path: join(artifacts, '17-month13.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('an unreachable node is said in words, with what to check, and retried with back-off', async () => {
  const { page, errors } = await openPage(browser, url);
  await page.locator('#target').selectOption('dead');
  await page.locator('#user').fill('admin');
  await page.locator('#password').fill('secret');
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('node unreachable'), null, { timeout: 10000 });
  const status = await page.locator('#status').textContent();
  assert.match(status, /is the node running, and is the proxy's --node address right\?/);
  assert.ok(!status.includes('os error'), status);
  assert.match(status, /reconnect/i);
  await page.locator('#disconnect').click();
  await page.close();
  assert.deepEqual(errors, []);
});
