// The proxy as a user gets it: the one binary copied alone into an empty folder and started
// from another working directory, its console inside. The first request right after start is
// compressed; the console loads in headless chromium and connects with real clicks; the same
// settings from a --config file behave as the flags; SIGHUP with an account removed ends that
// account's session only. Prints first-load bytes, start-to-first-byte, idle RSS and size.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countBytes, freePort, launchChromium, proxyBin, startProxy, stopProxy } from './browser.mjs';

const alone = mkdtempSync(join(tmpdir(), 'vscp-alone-'));
const elsewhere = mkdtempSync(join(tmpdir(), 'vscp-cwd-'));
const bin = join(alone, 'vscp-proxy');
copyFileSync(proxyBin, bin);
chmodSync(bin, 0o755);
let browser;

after(async () => { await browser?.close(); });

/** The HTTP status of `/` asked for by the Host name `host`. */
function status(port, host) {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => { res.resume(); resolve(res.statusCode); })
      .on('error', reject).end();
  });
}

/** Logs in to the demo target with real input and waits for streamed events. */
async function connect(page, user = 'admin', password = 'secret') {
  await page.locator('#target option').first().waitFor({ state: 'attached' });
  await page.locator('#user').fill(user);
  await page.locator('#password').fill(password);
  await page.locator('#connect').click();
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 15000 });
  await page.waitForFunction(() => document.querySelectorAll('#log .ev').length >= 3, null, { timeout: 15000 });
}

test('the binary alone serves its console compressed from the first request, and it connects', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const started = performance.now();
  const proxy = await startProxy(port, ['--demo'], { bin, cwd: elsewhere });
  try {
    // right after start: the page, then its wasm, compressed
    const index = await fetch(url, { headers: { 'accept-encoding': 'br, gzip' } });
    const firstByte = performance.now() - started;
    const html = await index.text();
    assert.equal(index.status, 200, html);
    const wasm = html.match(/[\w-]+_bg\.wasm/)?.[0];
    assert.ok(wasm, html);
    const w = await fetch(url + wasm, { method: 'HEAD', headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(w.headers.get('content-encoding'), 'br', 'compressed at once');
    assert.match(w.headers.get('cache-control'), /immutable/);
    console.log(`start to first byte of /: ${firstByte.toFixed(0)} ms (binary start included)`);

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const bytes = countBytes(page);
    await page.goto(url);
    await connect(page);
    console.log(`first load right after start: ${(bytes.total / 1024).toFixed(1)} KiB transferred`);
    assert.ok(bytes.total <= 420 * 1024, `${bytes.total} bytes`);
    await new Promise((r) => setTimeout(r, 2000));
    const rss = readFileSync(`/proc/${proxy.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)[1];
    console.log(`RSS with the console inside, one session: ${(rss / 1024).toFixed(1)} MiB; binary ${(statSync(bin).size / 1048576).toFixed(2)} MiB`);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await stopProxy(proxy);
  }
  // idle, nothing connected
  const idlePort = await freePort();
  const idle = await startProxy(idlePort, ['--demo'], { bin, cwd: elsewhere });
  await new Promise((r) => setTimeout(r, 1500));
  const rss = readFileSync(`/proc/${idle.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)[1];
  console.log(`idle RSS with the console inside: ${(rss / 1024).toFixed(1)} MiB`);
  await stopProxy(idle);
});

test('a --config file gives the same targets and refusals as the flags', async () => {
  const flags = ['--demo', '--node', 'hall=127.0.0.1:9', '--allow-host', 'vscp.local'];
  const file = join(alone, 'proxy.toml');
  writeFileSync(file, 'demo = true\nallow-host = ["vscp.local"]\n\n[[node]]\nname = "hall"\naddress = "127.0.0.1:9"\n');
  const answers = [];
  for (const args of [flags, ['--config', file]]) {
    const port = await freePort();
    const p = await startProxy(port, args, { bin, cwd: elsewhere });
    try {
      // the demo's own port differs from run to run
      const targets = (await (await fetch(`http://127.0.0.1:${port}/api/targets`)).json())
        .map((t) => ({ ...t, address: t.demo ? 'demo' : t.address }));
      const refused = await status(port, 'evil.example');
      const allowed = await status(port, 'vscp.local');
      answers.push(JSON.stringify({ targets, refused, allowed }));
    } finally {
      await stopProxy(p);
    }
  }
  assert.equal(answers[0], answers[1]);
  assert.match(answers[0], /"refused":421/);
  // --check prints the settings and says they are good
  const out = execFileSync(bin, ['--config', file, '--check'], { cwd: elsewhere }).toString();
  assert.match(out, /^demo = true {2}# line 1$/m);
  assert.match(out, /# good/);
});

test('SIGHUP with an account removed ends that account\'s session only', async () => {
  const hash = (pw) => execFileSync(bin, ['hash-password'], { input: pw + '\n' }).toString().trim();
  const users = join(alone, 'users.toml');
  const both = `[[user]]\nname = "stays"\npassword_hash = "${hash('a')}"\nrole = "viewer"\n\n`
    + `[[user]]\nname = "goes"\npassword_hash = "${hash('b')}"\nrole = "viewer"\n`;
  writeFileSync(users, both);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const proxy = await startProxy(port, ['--demo', '--users', users], { bin, cwd: elsewhere });
  const logs = [];
  proxy.stderr.on('data', (d) => logs.push(String(d)));
  try {
    browser ??= await launchChromium();
    const pages = {};
    for (const [name, pw] of [['stays', 'a'], ['goes', 'b']]) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await page.goto(url);
      await page.locator('#proxy-user').fill(name);
      await page.locator('#proxy-password').fill(pw);
      await page.locator('#proxy-login-submit').click();
      await page.locator('#account-who').waitFor();
      // the demo target's own login
      await page.locator('#user').fill('admin');
      await page.locator('#password').fill('secret');
      await page.locator('#connect').click();
      await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 15000 });
      pages[name] = page;
    }
    // a bad file first: refused, both sessions go on
    writeFileSync(users, 'not toml [');
    proxy.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(logs.join('').includes('users file refused'), logs.join(''));
    writeFileSync(users, both.split('\n\n')[0] + '\n');
    proxy.kill('SIGHUP');
    await pages.goes.waitForFunction(() => !document.querySelector('#status')?.textContent.includes('streaming'), null, { timeout: 10000 });
    const notices = await pages.goes.locator('#notices').textContent();
    assert.match(notices, /account goes was removed|proxy account was removed/, notices);
    const before = parseInt(await pages.stays.locator('#total').textContent(), 10);
    await pages.stays.waitForFunction((n) => parseInt(document.querySelector('#total').textContent, 10) > n, before, { timeout: 10000 });
    assert.match(await pages.stays.locator('#status').textContent(), /streaming/);
    for (const p of Object.values(pages)) await p.context().close();
  } finally {
    await stopProxy(proxy);
  }
});
