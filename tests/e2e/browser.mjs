// What the browser tests share: a free loopback port, Debian's chromium launched headless, and
// a page with its script errors collected.
import { spawn } from 'node:child_process';
import { before, after } from 'node:test';
import { connect, createServer } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

/** Resolves once something listens on 127.0.0.1:`port` (at most 10 s; `what` names it in the error). */
export async function waitPort(port, what) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

/**
 * The child processes of one test file: `run(cmd, args)` starts one (`p.lastErr()` gives the
 * end of its stderr), `killAll()` ends every one of them.
 */
export function processes() {
  const list = [];
  return {
    run(cmd, args) {
      const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
      p.lastErr = () => err;
      list.push(p);
      return p;
    },
    killAll() { for (const p of list) p.kill('SIGKILL'); },
  };
}

/** Debian's chromium, headless (playwright gives every launch a fresh, empty profile). */
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new 1400×900 page at `url`; `errors` collects its uncaught errors and console errors. */
export async function openPage(browser, url) {
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  return { page, errors };
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The release proxy binary and the built console. */
export const proxyBin = join(root, 'target', 'release', 'vscp-proxy');

/**
 * Starts the release proxy on 127.0.0.1:`port` serving the console built into it, with
 * `args` (e.g. `['--demo']`); resolves to the process once it says where the console is.
 * `bin` and `cwd` start another copy of the binary elsewhere.
 */
export function startProxy(port, args, { bin = proxyBin, cwd = undefined } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, [...args, '--listen', `127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let out = '';
    const timer = setTimeout(() => reject(new Error('proxy did not start: ' + out)), 10000);
    p.stdout.on('data', (d) => { out += d; if (out.includes('console at')) { clearTimeout(timer); resolve(p); } });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => reject(new Error(`proxy exited ${code}: ${out}`)));
  });
}

/** Stops a proxy started by `startProxy` and waits for it to exit. */
export function stopProxy(p) {
  return new Promise((resolve) => { p.once('exit', resolve); p.kill('SIGTERM'); });
}

/**
 * Hooks for a test file that needs a `--demo` proxy (with `args`) and a browser: started
 * before its tests, stopped after; the returned object gets `url`, `port`, `proxy` and `browser`.
 * (The console inside the binary is compressed from the first request.)
 */
export function withDemo(args = []) {
  const demo = {};
  before(async () => {
    demo.port = await freePort();
    demo.url = `http://127.0.0.1:${demo.port}/`;
    demo.proxy = await startProxy(demo.port, ['--demo', ...args]);
    demo.browser = await launchChromium();
  });
  after(async () => {
    await demo.browser?.close();
    if (demo.proxy) await stopProxy(demo.proxy);
  });
  return demo;
}

/**
 * A scripted link server on 127.0.0.1:`port`: writes `greeting`, answers each command word from
 * `replies` (`+OK - Success.` for the rest), starts `stream(sock)` on RCVLOOP (it returns a timer
 * that QUITLOOP and QUIT stop), and hands SEND to `onSend(sock, argument)` when given.
 */
export function linkServer(port, { greeting, replies, stream, onSend }) {
  const s = createServer((sock) => {
    let timer = null;
    let buf = '';
    sock.write(greeting);
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        const [word, ...rest] = line.split(/\s+/);
        const w = word.toUpperCase();
        if (w === 'RCVLOOP') { sock.write('+OK - Receive loop entered.\r\n'); timer = stream(sock); }
        else if (w === 'QUITLOOP') { clearInterval(timer); sock.write('+OK - Quit receive loop.\r\n'); }
        else if (w === 'QUIT') { clearInterval(timer); sock.end('+OK - Goodbye.\r\n'); }
        else if (w === 'SEND' && onSend) onSend(sock, rest.join(' '));
        else sock.write((replies[w] ?? ['+OK - Success.']).join('\r\n') + '\r\n');
      }
    });
    sock.on('close', () => clearInterval(timer));
    sock.on('error', () => clearInterval(timer));
  });
  return new Promise((resolve) => s.listen(port, '127.0.0.1', () => resolve(s)));
}

/** Counts the bytes (bodies and headers) of every response `page` receives, in `.total`. */
export function countBytes(page) {
  const bytes = { total: 0 };
  page.on('requestfinished', async (req) => {
    const s = await req.sizes().catch(() => null);
    if (s) bytes.total += s.responseBodySize + s.responseHeadersSize;
  });
  return bytes;
}
