// Regenerates docs/screenshots/{landing,participant,report,embed}-{phone,desktop}.png
// from a fresh `polder serve --demo`.
// Usage: node web-tests/screenshots.mjs   (POLDER_BIN=path skips the cargo build)

import fs from 'node:fs';
import path from 'node:path';
import { buildBinary, startServer, launchBrowser, until, log, ROOT, CONVERSATION } from './lib.mjs';

const OUT = path.join(ROOT, 'docs', 'screenshots');
const SIZES = { phone: { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true }, desktop: { width: 1280, height: 900 } };
const WIDGETS = ['polder-map', 'polder-groups', 'polder-consensus'];

const ready = (page) => until(page, (names) => names.every((n) => !document.querySelector(n) || document.querySelector(n).dataset.tick), WIDGETS,
  { what: 'widgets', timeout: 30_000 });

const shadow = (selector, inner) => `(() => { const host = document.querySelector(${JSON.stringify(selector)});
  return host && host.shadowRoot ? host.shadowRoot.querySelector(${JSON.stringify(inner)}) : null; })()`;

async function startVoting(page, votes) {
  await until(page, `!!${shadow('polder-vote', 'button.start')}`, null, { what: 'start button' });
  await page.evaluate(`${shadow('polder-vote', 'button.start')}.click()`);
  for (let i = 0; i < votes; i += 1) {
    await until(page, `!!${shadow('polder-vote', 'button.agree')}`, null, { what: 'vote buttons' });
    const before = await page.evaluate(`${shadow('polder-vote', '.statement')}.textContent`);
    await page.evaluate(`${shadow('polder-vote', i % 3 ? 'button.agree' : 'button.disagree')}.click()`);
    await until(page, `${shadow('polder-vote', '.statement')}?.textContent !== ${JSON.stringify(before)}`, null, { what: 'next statement' });
  }
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const server = await startServer(buildBinary());
  const browser = await launchBrowser();
  try {
    for (const [size, viewport] of Object.entries(SIZES)) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport(viewport);
      await page.emulateMediaFeatures([{ name: 'prefers-reduced-motion', value: 'reduce' }]);
      const shot = async (name) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const file = path.join(OUT, `${name}-${size}.png`);
        await page.screenshot({ path: file, fullPage: true });
        log(`wrote ${path.relative(ROOT, file)}`);
      };
      await page.goto(`${server.base}/`, { waitUntil: 'load' });
      await shot('landing');
      await page.goto(`${server.base}/c/${CONVERSATION}`, { waitUntil: 'load' });
      await ready(page);
      await startVoting(page, 12);
      await until(page, () => document.querySelector('polder-map').dataset.me === 'shown', null, { what: '"you are here"', timeout: 30_000 })
        .catch(() => log('note: "you are here" not shown yet'));
      await shot('participant');
      await page.goto(`${server.base}/c/${CONVERSATION}/report`, { waitUntil: 'load' });
      await ready(page);
      await shot('report');
      await page.goto(`${server.base}/examples/embed`, { waitUntil: 'load' });
      await ready(page);
      await shot('embed');
      await context.close();
    }
  } finally {
    await browser.close();
    server.stop();
  }
}

await main();
