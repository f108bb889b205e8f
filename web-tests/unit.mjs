// Checks of the web components' plain modules that need no browser:
// every string in both languages, the proof-of-work solver and its
// SHA-256 fallback. Run by run.mjs before the browser tests.

import crypto from 'node:crypto';
import { STRINGS } from '../crates/polder-server/web/i18n.js';
import { solve, leadingZeroBits, sha256Fallback } from '../crates/polder-server/web/pow.js';

export async function unitChecks(check) {
  const en = Object.keys(STRINGS.en).sort();
  const nl = Object.keys(STRINGS.nl).sort();
  const missing = en.filter((k) => !nl.includes(k)).concat(nl.filter((k) => !en.includes(k)));
  check(missing.length === 0, `i18n: every string in en and nl (${en.length} keys; missing: ${missing.join(', ') || 'none'})`);
  const untranslated = en.filter((k) => STRINGS.en[k] === STRINGS.nl[k] && !/^\W*$/.test(STRINGS.en[k]));
  check(untranslated.length <= 2, `i18n: Dutch strings differ from English (same: ${untranslated.join(', ') || 'none'})`);
  for (const text of ['', 'abc', 'x'.repeat(55), 'x'.repeat(64), 'polder:123', 'ü'.repeat(100)]) {
    const want = crypto.createHash('sha256').update(text).digest('hex');
    const got = Buffer.from(sha256Fallback(new TextEncoder().encode(text))).toString('hex');
    if (want !== got) { check(false, `sha256 fallback of ${JSON.stringify(text.slice(0, 10))}`); return; }
  }
  check(true, 'pow: the plain-JavaScript SHA-256 matches node:crypto');
  const nonce = await solve('test-challenge', 12);
  const digest = crypto.createHash('sha256').update(`test-challenge:${nonce}`).digest();
  let smaller = false;
  for (let n = 0; n < Number(nonce); n += 1) {
    if (leadingZeroBits(crypto.createHash('sha256').update(`test-challenge:${n}`).digest()) >= 12) smaller = true;
  }
  check(leadingZeroBits(digest) >= 12 && !smaller, `pow: smallest nonce with 12 leading zero bits is ${nonce}`);
}
