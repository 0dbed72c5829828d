// The console against a server written after vscpd 16 (vscpl2drv-tcpipsrv 15.2), scripted on
// loopback (node:net): event lines with six fields before the data (no datetime field), one in
// ten with a time of 0, other tcp/ip clients' events under their connection's GUID, and every
// SEND echoed back to its sender with a new time stamp and the client's GUID. Real clicks and
// keys: every event shows with its time, the detail shows the server's own line, the Nodes
// view lists no client connection, and a scan goes through the bus interface.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launchChromium, linkServer, openPage, startProxy, stopProxy } from './browser.mjs';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
const BUS = 'FF:FF:FF:FF:FF:FF:FF:F5:09:00:00:00:00:00:00:00';
const NODE = 'FF:FF:FF:FF:FF:FF:FF:F5:09:00:00:00:00:00:00:05';
const OTHER_CLIENT = 'FF:FF:FF:FF:FF:FF:FF:FE:7F:00:00:01:00:07:00:00';
const CONSOLE_CLIENT = 'FF:FF:FF:FF:FF:FF:FF:FE:7F:00:00:01:00:08:00:00';
let server, proxy, browser, url;
let sent = 0;
let echoed = 0;

/** Waits (up to 5 s) until `done()` holds. */
async function waitFor(done, what) {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(done(), what);
}

const ns = () => (BigInt(Date.now()) * 1000000n).toString();

/** A vscpd 16-like link server (see the file's comment). */
function vscpd16(port) {
  const replies = {
    USER: ['+OK - User name accepted, password please'],
    PASS: ['+OK - Ready to work.'],
    VERS: ['16,0,0,0', '+OK - Success.'],
    WCYD: ['00-00-00-00-00-00-80-08', '+OK - Success.'],
    INTERFACE: [
      `0,1,FF:FF:FF:FF:FF:FF:FF:FE:00:00:00:00:00:00:00:00,internal | Started at 2026-12-07T09:00:00Z`,
      `1,2,${BUS},CAN4VSCP bus | Started at 2026-12-07T09:00:00Z`,
      `7,4,${OTHER_CLIENT},tcp/ip client 127.0.0.1 | Started at 2026-12-07T09:01:00Z`,
      `8,4,${CONSOLE_CLIENT},tcp/ip client 127.0.0.1 | Started at 2026-12-07T09:02:00Z`,
      '+OK - Success.'],
    CHID: ['8', '+OK - Success.'],
    GGID: [CONSOLE_CLIENT, '+OK - Success.'],
    STAT: ['0,0,0,0,0,0,0', '+OK - Success.'],
    INFO: ['0,0,0,""', '+OK - Success.'],
  };
  const stream = (sock) => setInterval(() => {
    const time = sent % 10 === 9 ? '0' : ns();
    // a temperature of the node behind the bus, and now and then another client's event
    sock.write(`96,10,6,${sent},${time},${NODE},0x88,0x82,0x0A,0xC8\r\n`);
    if (sent % 4 === 0) sock.write(`0,20,9,0,${ns()},${OTHER_CLIENT},0,1,3\r\n`);
    sent += 1;
  }, 100);
  const onSend = (sock, event) => {
    sock.write('+OK - Success.\r\n');
    // the echo: re-stamped, the client's GUID for a `-`, six fields before the data
    const f = event.split(',');
    const guid = f[6] === '-' || f[6] === '' ? CONSOLE_CLIENT : f[6];
    sock.write(`${f[0]},${f[1]},${f[2]},${f[3] || 0},${ns()},${guid},${f.slice(7).join(',')}\r\n`);
    echoed += 1;
  };
  return linkServer(port, { greeting: 'Welcome to the VSCP daemon.\r\nVersion: 16.0.0\r\n+OK - Success.\r\n', replies, stream, onSend });
}

before(async () => {
  const nodePort = await freePort();
  server = await vscpd16(nodePort);
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  proxy = await startProxy(port, ['--node', `vscpd16=127.0.0.1:${nodePort}`]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (proxy) await stopProxy(proxy);
  server?.close();
});

test('every six-field event shows with its time and the server\'s own line; clients are not nodes', async () => {
  const { page, errors } = await openPage(browser, url);
  await page.locator('#target').selectOption('vscpd16');
  await page.locator('#user').fill('admin');
  await page.locator('#password').fill('secret');
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 10000 });
  await page.waitForFunction(() => parseInt(document.querySelector('#total')?.textContent ?? '0', 10) >= 30, null, { timeout: 15000 });
  const notices = await page.locator('#notices').textContent();
  assert.ok(!notices.includes('bad event line'), notices);
  // every temperature the server wrote is in the log (those still on their way aside)
  const shown = await page.locator('#total').textContent();
  const temps = Math.floor(sent);
  const total = parseInt(shown, 10);
  assert.ok(total >= temps + Math.floor(temps / 4) - 4, `${total} shown of ${temps} temperatures and ${Math.ceil(temps / 4)} client events`);
  // the detail: the time from the ns stamp, the line as the server wrote it
  await page.locator('#log .ev .val', { hasText: '°C' }).first().click();
  await page.locator('#detail-line').waitFor();
  const line = await page.locator('#detail-line').textContent();
  assert.match(line, new RegExp(`^96,10,6,\\d+,\\d+,${NODE},0x88,0x82,0x0A,0xC8$`), line);
  const time = await page.locator('#detail-time').textContent();
  assert.match(time, /^(20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z|not set)/, time);
  assert.match(await page.locator('#detail-unread').textContent(), /six fields before the data/);
  // one temperature in ten has a time of 0: it reads "not set"
  let notSet = false;
  const temperatures = page.locator('#log .ev', { has: page.locator('.val', { hasText: '°C' }) });
  for (let i = 0; i < 12 && !notSet; i++) {
    await temperatures.nth(i).click();
    notSet = (await page.locator('#detail-time').textContent()).startsWith('not set');
  }
  assert.ok(notSet, 'a row with time 0 says "not set"');
  // send an event: its echo (with this console's client GUID) is not a node
  await page.locator('#s-class').fill('20');
  await page.locator('#s-type').fill('3');
  await page.locator('#s-data').fill('0,1,35');
  await page.locator('#send').click();
  await waitFor(() => echoed >= 1, 'the echo of the SEND');
  await page.waitForFunction(() => parseInt(document.querySelector('#total').textContent, 10) > 0);
  await page.waitForTimeout(300); // the echo travels through the proxy into the page
  await page.locator('#tab-nodes').click();
  await page.locator('#node-table').waitFor();
  const guids = await page.$$eval('#node-table tbody tr', (rows) => rows.map((r) => r.textContent));
  assert.ok(guids.length >= 1, 'the node behind the bus is listed');
  assert.ok(!guids.some((g) => g.includes('FE:7F') || g.includes('0007') || g.includes('0008')), guids.join(' | '));
  assert.match(await page.locator('#node-clients').textContent(), /2 client connection\(s\)/);
  // a scan with no interface typed goes through the bus, and says so
  await page.locator('#scan-from').fill('1');
  await page.locator('#scan-to').fill('2');
  await page.locator('#scan').click();
  await page.locator('#scan-note').waitFor();
  assert.match(await page.locator('#scan-note').textContent(), /through CAN4VSCP bus \(type 2\)/);
  // a client connection typed as the interface: said why nothing is found
  await page.locator('#scan-interface').fill(OTHER_CLIENT);
  await page.waitForFunction(() => !document.querySelector('#scan-cancel'), null, { timeout: 15000 });
  await page.locator('#scan').click();
  await page.waitForFunction(() => document.querySelector('#scan-note')?.textContent.includes('client connection'), null, { timeout: 5000 });
  await page.screenshot({ path: join(artifacts, '40-vscpd16.png') });
  assert.deepEqual(errors, []);
  await page.close();
});
