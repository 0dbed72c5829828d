// A multi-user site (issue 26): the proxy has accounts (--users) and logs in to the node itself
// (--node …,login=…). In a real Chromium, with real clicks and typing: a viewer watches but
// every action above the level is disabled with the reason and SHUTDOWN typed in the console is
// refused by the proxy; an engineer sends; logging out locks the page again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, launchChromium, openPage, proxyBin, startProxy, stopProxy, waitPort } from './browser.mjs';

let demo, proxy, browser, url;

const hash = (pw) => execFileSync(proxyBin, ['hash-password'], { input: pw }).toString().trim();

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vscp-accounts-'));
  writeFileSync(join(dir, 'users.toml'),
    `[[user]]\nname = "vera"\npassword_hash = "${hash('view-pw')}"\nrole = "viewer"\n` +
    `[[user]]\nname = "ed"\npassword_hash = "${hash('eng-pw')}"\nrole = "engineer"\n`);
  writeFileSync(join(dir, 'node-logins.toml'), '[hall]\nuser = "admin"\npassword = "secret"\n');
  const nodePort = await freePort();
  demo = spawn(proxyBin, ['demo', '--listen', `127.0.0.1:${nodePort}`], { stdio: 'ignore' });
  await waitPort(nodePort, 'demo node');
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  proxy = await startProxy(port, ['--node', `hall=127.0.0.1:${nodePort},login=hall`,
    '--node-logins', join(dir, 'node-logins.toml'), '--users', join(dir, 'users.toml')]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (proxy) await stopProxy(proxy);
  demo?.kill();
});

async function logIn(page, user, password) {
  await page.locator('#proxy-user').fill(user);
  await page.locator('#proxy-password').fill(password);
  await page.locator('#proxy-login-submit').click();
}

async function connectHall(page) {
  await page.locator('#target').selectOption('hall');
  // the proxy logs in to this node: the page asks for no node login
  await page.locator('#node-login-hint').waitFor();
  assert.equal(await page.locator('#user').count(), 0);
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 10000 });
}

async function command(page, line, expect) {
  await page.locator('#cmd').fill(line);
  await page.locator('#cmd').press('Enter');
  await page.waitForFunction((e) => document.querySelector('#transcript').textContent.includes(e), expect, { timeout: 5000 });
}

test('a viewer watches; what is above the level is disabled with the reason or refused', async () => {
  const { page, errors } = await openPage(browser, url);
  await page.locator('#proxy-login').waitFor();
  await logIn(page, 'vera', 'wrong');
  await page.locator('#proxy-login-error').waitFor();
  assert.match(await page.locator('#proxy-login-error').textContent(), /wrong user name or password/);
  await logIn(page, 'vera', 'view-pw');
  await page.locator('#account-who').waitFor();
  assert.equal(await page.locator('#account-who').textContent(), 'vera · viewer (2)');
  await connectHall(page);
  // events arrive: a viewer may watch
  await page.waitForFunction(() => parseInt(document.querySelector('#total')?.textContent ?? '0', 10) >= 1, null, { timeout: 10000 });
  // sending, server filters, scans: disabled, and the page says why
  await page.locator('#s-class').fill('30');
  await page.locator('#s-type').fill('5');
  await page.locator('#s-data').fill('0,1,3');
  assert.ok(await page.locator('#send').isDisabled());
  assert.match(await page.locator('#send-locked').textContent(), /needs privilege 4 \(operator\); vera is viewer \(2\)/);
  await page.locator('#server-filter summary').click();
  assert.ok(await page.locator('#sf-apply').isDisabled());
  assert.match(await page.locator('#sf-locked').textContent(), /needs privilege 6/);
  assert.ok(await page.locator('#linktest-run').isDisabled());
  await page.locator('#tab-nodes').click();
  assert.ok(await page.locator('#scan').isDisabled());
  await page.locator('#tab-events').click();
  // typed by hand, a command above the level is answered by the proxy, the session goes on
  await page.locator('#cmd-level').waitFor();
  await command(page, 'SHUTDOWN', 'Not allowed (needs privilege 15)');
  await command(page, 'NOOP', '+OK');
  // logging out locks the page and ends the session
  await page.locator('#proxy-logout').click();
  await page.locator('#proxy-login').waitFor();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.startsWith('disconnected'), null, { timeout: 5000 });
  // the one failed request is the wrong password's
  assert.deepEqual(errors, ['Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
  await page.close();
});

test('an engineer sends, and still may not shut the node down', async () => {
  const { page, errors } = await openPage(browser, url);
  await page.locator('#proxy-login').waitFor();
  await logIn(page, 'ed', 'eng-pw');
  await page.locator('#account-who').waitFor();
  assert.equal(await page.locator('#account-who').textContent(), 'ed · engineer (6)');
  await connectHall(page);
  // the relay on node 1: TurnOn → its On event
  await page.locator('#s-class').fill('30');
  await page.locator('#s-type').fill('5');
  await page.locator('#s-data').fill('0,1,3');
  assert.ok(await page.locator('#send').isEnabled());
  assert.equal(await page.locator('#send-locked').count(), 0);
  await page.locator('#send').click();
  await page.waitForFunction(() => [...document.querySelectorAll('#log .typ')].some((e) => e.textContent.startsWith('ON (3)')), null, { timeout: 5000 });
  await page.locator('#server-filter summary').click();
  assert.ok(await page.locator('#sf-apply').isEnabled());
  await command(page, 'SHUTDOWN', 'Not allowed (needs privilege 15)');
  await command(page, 'STAT', '+OK');
  assert.deepEqual(errors, []);
  await page.close();
});
