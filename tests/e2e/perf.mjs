// Console load benchmark (not a test): `node tests/e2e/perf.mjs [seconds] [rate]` after `./x run`'s build.
// Starts `vscp-proxy --demo --demo-rate RATE`, streams for SECONDS in headless chromium and reports
// first render, the longest animation-frame gap, events shown vs. sent (obid sequence), bundle size.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const seconds = Number(process.argv[2] ?? 60);
const rate = Number(process.argv[3] ?? 10000);
const proxy = spawn(join(root, 'target/release/vscp-proxy'),
  ['--demo', '--demo-rate', String(rate), '--static', join(root, 'dist'), '--listen', '127.0.0.1:0'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((res) => proxy.stdout.on('data', (d) => {
  const m = String(d).match(/console at (\S+)/); if (m) res(m[1]);
}));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
const t0 = Date.now();
await page.goto(url);
await page.waitForSelector('#status');
const firstRender = Date.now() - t0;
await page.waitForSelector('#target option', { state: 'attached' });
await page.fill('#user', 'admin');
await page.fill('#password', 'secret');
await page.click('#connect');
await page.waitForFunction(() => document.querySelector('#status').textContent.includes('streaming'));
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
const m0 = await metrics();
await page.evaluate(() => {
  window.__gaps = [];
  // gaps between consecutive frames; the first callback has no frame before it
  let last = null;
  const start = performance.now();
  const loop = (t) => {
    if (last !== null) window.__gaps.push([t - last, Math.round(t - start)]);
    last = t;
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
});
await new Promise((r) => setTimeout(r, seconds * 1000));
const marked = await page.evaluate(() => window.__gaps);
const gaps = marked.map(([gap]) => gap);
const worst = [...marked].sort((a, b) => b[0] - a[0]).slice(0, 5)
  .map(([gap, at]) => `${Math.round(gap)} ms at ${(at / 1000).toFixed(1)} s`);
const m1 = await metrics();
const busy = Object.fromEntries(['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration']
  .map((k) => [k + '_s', Math.round((m1[k] - m0[k]) * 100) / 100]));
const total = await page.textContent('#total');
const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
const rows = JSON.parse(readFileSync(await download.path(), 'utf8'));
let gapsInSeq = 0;
const seqs = rows.filter((r) => r.class !== 30).map((r) => Number(r.line.split(',')[3]));
for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1] + 1) gapsInSeq++;
gaps.sort((a, b) => b - a);
const wasm = readdirSync(join(root, 'dist')).find((f) => f.endsWith('.wasm'));
const wasmBytes = readFileSync(join(root, 'dist', wasm));
const jsFile = readdirSync(join(root, 'dist')).find((f) => f.endsWith('.js'));
const gz = gzipSync(wasmBytes).length + gzipSync(readFileSync(join(root, 'dist', jsFile))).length;
console.log(JSON.stringify({
  seconds, rate, first_render_ms: firstRender, frames: gaps.length,
  longest_frame_ms: Math.round(gaps[0]), worst_frames: worst, p99_frame_ms: Math.round(gaps[Math.floor(gaps.length / 100)]),
  total_text: total, rows_held: rows.length, sequence_gaps: gapsInSeq,
  main_thread_busy: busy,
  wasm_raw_bytes: statSync(join(root, 'dist', wasm)).size, bundle_gzip_bytes: gz,
}, null, 1));
await browser.close();
proxy.kill();
