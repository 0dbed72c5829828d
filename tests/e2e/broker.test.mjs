// The console's "MQTT broker (websocket)" connection in Debian's headless chromium: two demo
// installations (sites 1 and 2), each with its own `vscp-proxy bridge` publishing to Debian's
// mosquitto (tcp + websocket listeners on 127.0.0.1, started here). The console sees both sites'
// nodes through the broker, sends into one site's command topic, reads a node's registers
// through the broker, and carries on after the broker is restarted; and the same through the
// proxy's `/mqtt` relay to the broker's TCP port (`--broker`), with no websocket listener needed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launchChromium, openPage, processes, waitPort } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const proxyBin = join(root, 'target', 'release', 'vscp-proxy');
const artifacts = join(root, 'tests', 'e2e', 'artifacts');
mkdirSync(artifacts, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'vscp-broker-e2e-'));

const children = processes();
const run = children.run;
let browser, broker, ports;

async function startBroker() {
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    `listener ${ports.mqtt} 127.0.0.1`, 'allow_anonymous true',
    `listener ${ports.ws} 127.0.0.1`, 'protocol websockets', '',
  ].join('\n'));
  broker = run('/usr/sbin/mosquitto', ['-c', conf]);
  await waitPort(ports.mqtt, 'mosquitto');
  await waitPort(ports.ws, 'mosquitto (websocket)');
}

function stopBroker() {
  return new Promise((resolve) => { broker.once('exit', resolve); broker.kill('SIGTERM'); });
}

before(async () => {
  ports = { mqtt: await freePort(), ws: await freePort(), a: await freePort(), b: await freePort(), console: await freePort() };
  await startBroker();
  for (const [site, port] of [['1', ports.a], ['2', ports.b]]) {
    run(proxyBin, ['demo', '--site', site, '--listen', `127.0.0.1:${port}`]);
    await waitPort(port, `demo site ${site}`);
  }
  // one bridge per installation, each with its own MQTT client id
  for (const [name, port] of [['site-a', ports.a], ['site-b', ports.b]]) {
    const toml = join(dir, `${name}.toml`);
    writeFileSync(toml, `[mqtt]\nhost = "127.0.0.1"\nport = ${ports.mqtt}\nclient_id = "bridge-${name}"\n\n`
      + `[[server]]\nname = "${name}"\naddress = "127.0.0.1:${port}"\nuser = "admin"\npassword = "secret"\n`);
    run(proxyBin, ['bridge', '--config', toml]);
  }
  run(proxyBin, ['--static', join(root, 'dist'), '--listen', `127.0.0.1:${ports.console}`, '--node', `site-a=127.0.0.1:${ports.a}`,
    '--broker', `mq=127.0.0.1:${ports.mqtt}`]);
  await waitPort(ports.console, 'console proxy');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  children.killAll();
});

const statusHas = (page, text, timeout = 15000) =>
  page.waitForFunction((t) => document.querySelector('#status')?.textContent.includes(t), text, { timeout });

/** GUIDs of the node table's rows. */
const nodeGuids = (page) => page.$$eval('#node-table tbody tr .guid', (cells) => cells.map((c) => c.title));

test('MQTT broker connection: both sites in one view, sends to a chosen site, registers through the broker, survives a broker restart', async () => {
  const { page, errors } = await openPage(browser, `http://127.0.0.1:${ports.console}/`);
  await page.selectOption('#kind', 'broker');
  await page.fill('#broker', `ws://127.0.0.1:${ports.ws}`);
  await page.fill('#topic', 'vscp/#');
  await page.click('#connect');
  await statusHas(page, 'receiving from the broker (vscp/#)');

  // every site's nodes, in one table (heartbeats every 5 s)
  await page.click('#tab-nodes');
  const site = (s, n) => `FF:FF:FF:FF:FF:FF:FF:F5:00:0${s}:00:00:00:00:00:0${n}`;
  const level2 = (s) => `FF:FF:FF:FF:FF:FF:FF:FE:00:0${s}:00:00:00:00:02:00`;
  const want = [1, 2].flatMap((s) => [site(s, 1), site(s, 2), site(s, 3), level2(s)]);
  await page.waitForFunction((w) => {
    const have = [...document.querySelectorAll('#node-table tbody tr .guid')].map((c) => c.title);
    return w.every((g) => have.includes(g));
  }, want, { timeout: 20000 });
  assert.equal((await nodeGuids(page)).length, 8);
  await page.screenshot({ path: join(artifacts, '15-broker-nodes.png') });

  // the bridges announced their servers; send TurnOn into site-b only
  await page.waitForFunction(() => document.querySelectorAll('#site option').length === 2, null, { timeout: 10000 });
  await page.selectOption('#site', 'site-b');
  await page.click('#tab-events');
  // the demo's templates are offered only on a demo target: the form is filled by hand here
  assert.equal(await page.getByRole('button', { name: 'relay on' }).count(), 0);
  await page.locator('#s-class').fill('CLASS1.CONTROL');
  await page.locator('#s-type').fill('TURNON');
  await page.locator('#s-data').fill('0,1,3');
  await page.click('#send');
  await page.waitForFunction((g) => [...document.querySelectorAll('#log .ev')].some((r) =>
    r.querySelector('.typ')?.textContent.startsWith('ON (3)') && r.querySelector('.guid')?.title === g), site(2, 3), { timeout: 10000 });
  // site 1's relay was not asked
  const site1On = await page.$$eval('#log .ev', (rows, g) => rows.filter((r) =>
    r.querySelector('.typ')?.textContent.startsWith('ON (3)') && r.querySelector('.guid')?.title === g).length, site(1, 3));
  assert.equal(site1On, 0);
  await page.screenshot({ path: join(artifacts, '16-broker-send.png') });

  // commands need a link server: the console says so and stays connected
  await page.fill('#cmd', 'VERS');
  await page.press('#cmd', 'Enter');
  await page.waitForFunction(() => document.querySelector('#transcript').textContent.includes('events only'), null, { timeout: 5000 });

  // site 2's temperature node: its standard registers read through the broker and the bridge
  await page.click('#tab-nodes');
  await page.click(`#node-table tr:has(.guid[title="${site(2, 1)}"]) button`);
  await page.waitForFunction(() => document.querySelector('#reg-standard')?.textContent.includes('vscp-link.local/demo/temp.xml'), null, { timeout: 15000 });
  assert.match(await page.textContent('#reg-standard'), new RegExp(site(2, 1)));

  // the broker restarts: the console reconnects and events flow again
  await stopBroker();
  await statusHas(page, 'reconnecting', 10000);
  await startBroker();
  await statusHas(page, 'receiving from the broker', 20000);
  await page.click('#tab-events');
  const received = () => Number.parseInt(document.querySelector('#total').textContent, 10);
  const t0 = await page.evaluate(received);
  await page.waitForFunction((t) => Number.parseInt(document.querySelector('#total').textContent, 10) > t + 3, t0, { timeout: 20000 });
  // a refused reconnect while the broker is down is logged by chromium; script errors are not allowed
  assert.deepEqual(errors.filter((e) => !e.includes('WebSocket connection')), []);
  await page.close();
});

test('MQTT broker through the proxy: the allow-listed broker is offered and both sites show', async () => {
  const { page, errors } = await openPage(browser, `http://127.0.0.1:${ports.console}/`);
  await page.selectOption('#kind', 'broker');
  const offered = await page.$$eval('#brokers option', (o) => o.map((x) => x.value));
  const via = `ws://127.0.0.1:${ports.console}/mqtt?target=mq`;
  assert.deepEqual(offered, [via]);
  // the link-server list does not offer the broker
  await page.selectOption('#kind', 'proxy');
  assert.deepEqual(await page.$$eval('#target option', (o) => o.map((x) => x.value)), ['site-a']);
  await page.selectOption('#kind', 'broker');
  await page.fill('#broker', via);
  await page.click('#connect');
  await statusHas(page, 'receiving from the broker');
  await page.click('#tab-nodes');
  await page.waitForFunction(() => {
    const have = new Set([...document.querySelectorAll('#node-table tbody tr .guid')].map((c) => c.title.slice(0, 29)));
    return have.has('FF:FF:FF:FF:FF:FF:FF:F5:00:01') && have.has('FF:FF:FF:FF:FF:FF:FF:F5:00:02');
  }, null, { timeout: 20000 });
  // a refused reconnect while the broker is down is logged by chromium; script errors are not allowed
  assert.deepEqual(errors.filter((e) => !e.includes('WebSocket connection')), []);
  await page.close();
});
