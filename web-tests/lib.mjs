// Shared helpers of the browser tests and the screenshot generator: build
// and start `polder serve --demo` on a temporary SQLite database and a free
// port, launch the system Chromium, run axe-core.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import crypto from 'node:crypto';
import puppeteer from 'puppeteer-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..');
export const CONVERSATION = 'polderdam-harbour';
const axeSource = fs.readFileSync(path.join(HERE, 'node_modules/axe-core/axe.min.js'), 'utf8');

export function log(...args) {
  console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...args);
}

/** Builds the binary (unless POLDER_BIN names one) and returns its path. */
export function buildBinary() {
  if (process.env.POLDER_BIN) return path.resolve(process.env.POLDER_BIN);
  log('cargo build -p polder');
  const built = spawnSync('cargo', ['build', '-p', 'polder', '--locked'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('cargo build failed');
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
  return path.join(target, 'debug', 'polder');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts `polder serve --demo`; resolves once it is ready. */
export async function startServer(binary, extraEnv = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polder-web-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(binary, ['serve', '--demo', '--bind', `127.0.0.1:${port}`,
    `--database-url=sqlite://${path.join(dir, 'polder.db')}`], {
    cwd: ROOT,
    env: { ...process.env, POLDER_SNAPSHOT_INTERVAL_MS: '500', RUST_LOG: 'warn', ...extraEnv },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (process.env.POLDER_LOG) process.stderr.write(chunk);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`polder serve exited early:\n${stderr}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`polder serve did not become ready:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Wait for the demo's first report, so that pages show data at once.
  for (let i = 0; i < 300; i += 1) {
    const r = await fetch(`${base}/api/v1/conversations/${CONVERSATION}/report`);
    if (r.ok) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const stop = () => {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { base, stop, logs: () => stderr };
}

export async function launchBrowser() {
  return puppeteer.launch({
    executablePath: process.env.CHROME_BIN || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
}

/** Runs axe-core (WCAG 2.0/2.1 A and AA) on the page; returns the violations. */
export async function axe(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  }));
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(' >>> ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
  }));
}

/**
 * Records CSP violations and script errors of a page. Failed loads with a
 * status in `expected` (default: 404, the join challenge of servers
 * without proof of work) are not errors.
 */
export function watch(page, problems, label, expected = [404]) {
  page.on('pageerror', (error) => problems.push(`${label}: page error: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`${label}: CSP: ${text}`);
    else if (message.type() === 'error'
      && !expected.some((status) => text.includes(`Failed to load resource: the server responded with a status of ${status}`))) {
      problems.push(`${label}: console error: ${text}`);
    }
  });
}

/** Polls `fn` in the page until it returns a truthy value. */
export async function until(page, fn, arg, { timeout = 20_000, what = 'condition' } = {}) {
  try {
    return await page.waitForFunction(fn, { timeout, polling: 100 }, arg);
  } catch (error) {
    throw new Error(`timed out waiting for ${what}: ${error.message}`);
  }
}

/** Joins `conversation` through the API as a script would: fetches the
 * join challenge and solves the proof of work with node's SHA-256. */
export async function joinViaApi(base, conversation) {
  const url = `${base}/api/v1/conversations/${conversation}`;
  const c = await (await fetch(`${url}/join-challenge`)).json();
  let nonce = 0;
  for (;; nonce += 1) {
    const hash = crypto.createHash('sha256').update(`${c.challenge}:${nonce}`).digest();
    let bits = 0;
    for (const byte of hash) {
      if (byte === 0) { bits += 8; continue; }
      bits += Math.clz32(byte) - 24;
      break;
    }
    if (bits >= c.difficulty) break;
  }
  const res = await fetch(`${url}/participants`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ pow: { challenge: c.challenge, nonce: String(nonce) } }),
  });
  if (res.status !== 201) throw new Error(`join failed: ${res.status} ${await res.text()}`);
  return res.json();
}
