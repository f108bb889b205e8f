// Browser tests of polder's pages and web components, in headless Chromium:
//  1. vote through the whole demo conversation with the keyboard alone;
//  2. the map ("you are here") and the report widgets update over SSE;
//  3. the report's time slider switches to a stored snapshot and back;
//  4. axe-core (WCAG 2.1 A/AA) finds nothing on every page and widget;
//  5. no Content-Security-Policy violation and no script error anywhere.
// Usage: node run.mjs   (POLDER_BIN=path skips the cargo build)
// Exit code 1 on any failure.

import crypto from 'node:crypto';
import { unitChecks } from './unit.mjs';
import { buildBinary, startServer, launchBrowser, axe, watch, until, log, joinViaApi, CONVERSATION } from './lib.mjs';

const started = Date.now();
const failures = [];
const problems = [];
const audits = [];

function check(ok, message) {
  if (!ok) failures.push(message);
  log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
}

async function audit(page, label) {
  const violations = await axe(page);
  audits.push({ label, count: violations.length });
  check(violations.length === 0, `axe: ${label}: ${violations.length} violation(s)`);
  for (const v of violations) {
    console.log(`    ${v.impact} ${v.id}: ${v.help}`);
    for (const node of v.nodes.slice(0, 5)) console.log(`      ${node}`);
  }
}

/** The focused element, looking into shadow roots. */
const DEEP_FOCUS = `(() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a;
})()`;

async function focused(page) {
  return page.evaluate(`(() => { const a = ${DEEP_FOCUS}; return a ? {
    tag: a.tagName.toLowerCase(), vote: a.dataset ? a.dataset.vote || null : null,
    cls: a.className || '', text: (a.textContent || '').trim().slice(0, 80), type: a.type || null } : null; })()`);
}

/** Presses Tab until `match(focus)` holds; fails after `limit` presses. */
async function tabTo(page, match, what, limit = 40) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f && match(f)) return f;
  }
  throw new Error(`Tab never reached ${what}`);
}

const shadow = (selector, inner) => `(() => { const host = document.querySelector(${JSON.stringify(selector)});
  return host && host.shadowRoot ? host.shadowRoot.querySelector(${JSON.stringify(inner)}) : null; })()`;

async function main() {
  await unitChecks(check);
  const binary = buildBinary();
  const server = await startServer(binary);
  const { base } = server;
  log(`polder serve at ${base}`);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    watch(page, problems, 'participant');
    await page.setViewport({ width: 1280, height: 900 });

    // Landing, both languages.
    for (const [lang, expect] of [['en', 'Open conversations'], ['nl', 'Open gesprekken']]) {
      const response = await page.goto(`${base}/?lang=${lang}`, { waitUntil: 'load' });
      const csp = response.headers()['content-security-policy'] || '';
      check(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), `landing (${lang}) has a strict CSP`);
      const text = await page.evaluate(() => document.body.innerText);
      check(text.includes(expect) && (await page.evaluate(() => document.documentElement.lang)) === lang,
        `landing page speaks ${lang}`);
      check(text.includes('Polderdam'), `landing (${lang}) lists the demo conversation`);
      await audit(page, `landing page (${lang})`);
    }
    const nl = await browser.newPage();
    await nl.setExtraHTTPHeaders({ 'Accept-Language': 'nl-NL,nl;q=0.9,en;q=0.5' });
    await nl.goto(`${base}/c/${CONVERSATION}`, { waitUntil: 'load' });
    check((await nl.evaluate(() => document.documentElement.lang)) === 'nl', 'Accept-Language: nl gives a Dutch page');
    await nl.close();

    // Participant page: keyboard only from the top of the page.
    await page.goto(`${base}/c/${CONVERSATION}`, { waitUntil: 'load' });
    await until(page, `!!${shadow('polder-vote', 'button.start')}`, null, { what: 'the start button' });
    await until(page, () => document.querySelector('polder-map')?.dataset.tick, null, { what: 'the first map' });
    const firstTick = Number(await page.evaluate(() => document.querySelector('polder-map').dataset.tick));
    await audit(page, 'participant page, before joining');
    await tabTo(page, (f) => f.cls.includes('start'), 'the start button');
    await page.keyboard.press('Enter');
    await until(page, `!!${shadow('polder-vote', '.statement')}`, null, { what: 'the first statement' });
    await audit(page, 'participant page, voting card');

    const keys = ['Enter', ' '];
    const plan = ['agree', 'disagree', 'pass'];
    let votes = 0;
    for (let i = 0; i < 100; i += 1) {
      const done = await page.evaluate(`!!${shadow('polder-vote', '.done')}`);
      if (done) break;
      await until(page, `(() => { const a = ${DEEP_FOCUS}; return a && a.classList && a.classList.contains('statement'); })()`,
        null, { what: `focus on statement ${i + 1}` });
      const want = plan[(i * 7 + Math.floor(i / 3)) % 3];
      const f = await tabTo(page, (x) => x.vote === want, `the ${want} button`, 4);
      const before = await page.evaluate(`${shadow('polder-vote', '.statement')}.textContent`);
      await page.keyboard.press(keys[i % 2]);
      votes += 1;
      await until(page, `(() => { const d = ${shadow('polder-vote', '.done')}; const s = ${shadow('polder-vote', '.statement')};
        return !!d || (s && s.textContent !== ${JSON.stringify(before)}); })()`, null, { what: `statement after vote ${votes}` });
      if (i === 5) {
        await until(page, `(${shadow('polder-vote', '[role=status]')}?.textContent || '').startsWith('Vote recorded')`, null,
          { what: 'the vote announcement' })
          .then(() => check(true, 'each vote is announced in a live region ("Vote recorded: …")'))
          .catch((e) => check(false, e.message));
        await audit(page, 'participant page, after some votes');
      }
      void f;
    }
    const doneFocused = await page.evaluate(`(() => { const a = ${DEEP_FOCUS}; return !!a && a.classList.contains('done'); })()`);
    check(votes >= 20, `voted through the whole conversation with the keyboard (${votes} votes, Tab + Enter/Space only)`);
    check(doneFocused, 'focus lands on the "all done" message');

    // The map updates over SSE and shows "you are here".
    await until(page, (tick) => Number(document.querySelector('polder-map').dataset.tick) > tick
      && document.querySelector('polder-map').dataset.me === 'shown', firstTick, { what: 'the map to show "you are here"', timeout: 30_000 })
      .then(() => check(true, 'map updated after the votes and shows "you are here"'))
      .catch((e) => check(false, e.message));
    // prefers-reduced-motion turns the map's transitions off.
    const durations = [];
    for (const value of ['no-preference', 'reduce']) {
      await page.emulateMediaFeatures([{ name: 'prefers-reduced-motion', value }]);
      durations.push(await page.evaluate(`getComputedStyle(${shadow('polder-map', 'circle.point')}).transitionDuration`));
    }
    await page.emulateMediaFeatures([]);
    check(durations[0] !== '0s' && durations[1] === '0s', `prefers-reduced-motion stops the map's transitions (${durations.join(' → ')})`);
    // Open the table alternative with the keyboard and audit it.
    await tabTo(page, (f) => f.cls.includes('toggle'), 'the map table toggle');
    await page.keyboard.press('Enter');
    const tableRows = await page.evaluate(`${shadow('polder-map', 'table')}?.closest('.table-wrap').hidden === false
      ? ${shadow('polder-map', 'table')}.querySelectorAll('tbody tr').length : -1`);
    check(tableRows > 0, `map table alternative opens with the keyboard (${tableRows} groups)`);
    const youRow = await page.evaluate(`[...${shadow('polder-map', 'table')}.querySelectorAll('tbody td')].some((td) => td.textContent === 'yes')`);
    check(youRow, 'the map table says which group you are in');
    await audit(page, 'participant page, all voted, map table open');

    // Report page: live updates, time slider, audit.
    const report = await browser.newPage();
    watch(report, problems, 'report');
    await report.setViewport({ width: 1280, height: 900 });
    await report.goto(`${base}/c/${CONVERSATION}/report`, { waitUntil: 'load' });
    await until(report, () => ['polder-map', 'polder-groups', 'polder-consensus']
      .every((n) => document.querySelector(n)?.dataset.tick), null, { what: 'the report widgets' });
    await until(report, () => Number(document.querySelector('polder-timeline')?.dataset.snapshots) > 0, null,
      { what: 'stored snapshots on the time slider', timeout: 30_000 });
    await audit(report, 'report page (live)');
    const tick = Number(await report.evaluate(() => document.querySelector('polder-groups').dataset.tick));
    // Somebody else votes through the API; the open report must follow over SSE.
    const joined = await joinViaApi(base, CONVERSATION);
    const statements = await (await fetch(`${base}/api/v1/conversations/${CONVERSATION}/statements`)).json();
    for (const st of statements.slice(0, 8)) {
      await fetch(`${base}/api/v1/conversations/${CONVERSATION}/votes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${joined.token}` },
        body: JSON.stringify({ statement_id: st.id, vote: st.id % 2 ? 'agree' : 'disagree' }),
      });
    }
    await until(report, (t) => ['polder-map', 'polder-groups', 'polder-consensus']
      .every((n) => Number(document.querySelector(n).dataset.tick) > t), tick, { what: 'the report to update over SSE', timeout: 30_000 })
      .then(() => check(true, 'report widgets updated live after votes elsewhere'))
      .catch((e) => check(false, e.message));
    // Time slider with the keyboard: Home = oldest snapshot, End = live.
    await tabTo(report, (f) => f.tag === 'input' && f.type === 'range', 'the time slider');
    await report.keyboard.press('Home');
    await until(report, () => document.querySelector('polder-map').hasAttribute('at')
      && document.querySelector('polder-groups').hasAttribute('at'), null, { what: 'the widgets to show a snapshot' })
      .then(() => check(true, 'time slider (Home key) shows the oldest snapshot'))
      .catch((e) => check(false, e.message));
    await until(report, () => document.querySelector('polder-groups').dataset.votes
      && Number(document.querySelector('polder-groups').dataset.votes) > 0, null, { what: 'snapshot content' });
    await audit(report, 'report page (snapshot)');
    await report.keyboard.press('End');
    await until(report, () => !document.querySelector('polder-map').hasAttribute('at'), null, { what: 'back to live' })
      .then(() => check(true, 'time slider (End key) goes back to live'))
      .catch((e) => check(false, e.message));
    await report.emulateMediaType('print');
    await audit(report, 'report page (print media)');
    await report.emulateMediaType('screen');
    const nlReport = await browser.newPage();
    watch(nlReport, problems, 'report-nl');
    await nlReport.goto(`${base}/c/${CONVERSATION}/report?lang=nl`, { waitUntil: 'load' });
    await until(nlReport, () => document.querySelector('polder-groups')?.dataset.tick, null, { what: 'the Dutch report' });
    const nlText = await nlReport.evaluate(`${shadow('polder-groups', 'h3')}.textContent`);
    check(nlText.startsWith('Groep'), `Dutch report widgets speak Dutch ("${nlText}")`);
    await audit(nlReport, 'report page (nl)');

    // Example host page: every widget, one of them in Dutch by its lang ancestor.
    // A fresh browser context: no participant token from the pages above.
    const embedContext = await browser.createBrowserContext();
    const embed = await embedContext.newPage();
    watch(embed, problems, 'embed');
    await embed.setViewport({ width: 390, height: 844 });
    await embed.goto(`${base}/examples/embed`, { waitUntil: 'load' });
    await until(embed, () => ['polder-map', 'polder-groups', 'polder-consensus']
      .every((n) => document.querySelector(n)?.dataset.tick), null, { what: 'the embedded widgets' });
    await until(embed, `!!${shadow('polder-vote', 'button')}`, null, { what: 'the embedded vote widget' });
    const consensusText = await embed.evaluate(`${shadow('polder-consensus', '.content')}.innerText`);
    check(/De meeste mensen|Nog geen gedeelde/.test(consensusText), 'the consensus widget follows its lang="nl" ancestor');
    await audit(embed, 'example embed page (all four widgets, phone width)');
    await tabTo(embed, (f) => f.cls.includes('start'), 'the embedded start button');
    await embed.keyboard.press('Space');
    await until(embed, `!!${shadow('polder-vote', '.statement')} || !!${shadow('polder-vote', '.done')}`, null, { what: 'the embedded voting card' });
    await audit(embed, 'example embed page, voting card');

    // Signed xid: an invite-only conversation, joined with the host site's signature.
    const adminKey = (server.logs().match(/demo admin key \(shown once\): (\S+)/) || [])[1];
    check(!!adminKey, 'the demo prints an admin key');
    const created = await (await fetch(`${base}/api/v1/conversations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ id: 'xid-test', topic: 'Signed ids', settings: { participation: 'invite_only', languages: ['en'] } }),
    })).json();
    for (const text of ['First statement', 'Second statement', 'Third statement']) {
      await fetch(`${base}/api/v1/conversations/xid-test/statements`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${created.moderator_key}` },
        body: JSON.stringify({ text, lang: 'en' }),
      });
    }
    // The README's Node signing snippet.
    const xidSecret = created.xid_secret;
    const conversation = 'xid-test';
    const xid = 'resident-4711';
    const signature = crypto.createHmac('sha256', Buffer.from(xidSecret, 'base64url'))
      .update(`${conversation}\n${xid}`).digest('base64url');
    const xp = await browser.newPage();
    watch(xp, problems, 'xid', [404, 401]); // 401: the deliberately wrong signature
    const withXid = async (sig) => {
      await xp.goto(`${base}/c/xid-test`, { waitUntil: 'load' });
      await xp.evaluate((x, s) => {
        const el = document.querySelector('polder-vote');
        el.setAttribute('xid', x);
        el.setAttribute('xid-signature', s);
      }, xid, sig);
    };
    await withXid('bad-signature');
    await until(xp, `!!${shadow('polder-vote', '.error')}`, null, { what: 'a refused signature' })
      .then(() => check(true, 'a wrong xid signature is refused and shown as an error'))
      .catch((e) => check(false, e.message));
    await withXid(signature);
    await until(xp, `!!${shadow('polder-vote', '.statement')}`, null, { what: 'the first statement with a signed xid' });
    await tabTo(xp, (f) => f.vote === 'agree', 'the agree button');
    await xp.keyboard.press('Enter');
    await until(xp, `(${shadow('polder-vote', '.progress-line')}?.textContent || '').includes('1 of 3')`, null, { what: 'progress 1 of 3' });
    // Another device: no stored token, same xid → same participant, votes kept.
    await xp.evaluate(() => localStorage.clear());
    await withXid(signature);
    await until(xp, `(${shadow('polder-vote', '.progress-line')}?.textContent || '').includes('1 of 3')`, null, { what: 'the same participant again' })
      .then(() => check(true, 'signed xid: joining again (no stored token) gives the same participant'))
      .catch((e) => check(false, e.message));

    // 404 page.
    const missing = await browser.newPage();
    const r404 = await missing.goto(`${base}/c/no-such-conversation`, { waitUntil: 'load' });
    check(r404.status() === 404, 'unknown conversation page answers 404');
    await audit(missing, 'not-found page');

    for (const p of problems) check(false, p);
    if (!problems.length) check(true, 'no CSP violation, page error or console error on any page');
  } finally {
    await browser.close();
    server.stop();
  }
}

try {
  await main();
} catch (error) {
  failures.push(error.stack || String(error));
  console.error(error);
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`\naxe audits: ${audits.length}, violations: ${audits.reduce((n, a) => n + a.count, 0)}`);
if (failures.length) {
  console.log(`web tests FAILED (${failures.length} failure(s)) in ${seconds} s`);
  process.exit(1);
}
console.log(`web tests passed in ${seconds} s`);
