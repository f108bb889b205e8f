// polder web components: <polder-vote>, <polder-map>, <polder-groups>,
// <polder-consensus> and <polder-timeline>. One <script type="module">
// tag defines them all. Shadow DOM, no inline script or style, live over
// Server-Sent Events, Dutch and English.

import { client, DEFAULT_BASE, ApiError } from './api.js';
import { t, langOf, pct, when, num, groupName, langName } from './i18n.js';
import { sheet } from './styles.js';

const SVG = 'http://www.w3.org/2000/svg';
let uid = 0;
const nextId = (prefix) => `polder-${prefix}-${(uid += 1)}`;

/** Builds an element: `h('p', {class: 'x'}, 'text', child)`. Text is never parsed as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/**
 * A wrapper for a wide table: when it has to scroll sideways it becomes a
 * focusable, labelled region, so that keyboard users can scroll it too.
 */
function tableWrap(label, table, attrs = {}) {
  const wrap = h('div', { class: 'table-wrap', ...attrs }, table);
  const update = () => {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      wrap.setAttribute('tabindex', '0');
      wrap.setAttribute('role', 'region');
      wrap.setAttribute('aria-label', label);
    } else {
      wrap.removeAttribute('tabindex');
      wrap.removeAttribute('role');
      wrap.removeAttribute('aria-label');
    }
  };
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(update).observe(wrap);
  return wrap;
}

/** The element of a statement text, with its language tag. */
function statementText(lang, statement, id, tag = 'span', fallbackLang = null) {
  if (!statement) return h(tag, {}, t(lang, 'unknownStatement', { id }));
  const tagged = statement.lang || fallbackLang;
  const attrs = tagged ? { lang: tagged } : {};
  return h(tag, attrs, statement.text);
}

function langBadge(lang, statement) {
  if (!statement || !statement.lang) return null;
  return h('span', { class: 'tag', title: t(lang, 'langTag', { lang: langName(lang, statement.lang) }) },
    h('span', { 'aria-hidden': 'true' }, statement.lang),
    h('span', { class: 'visually-hidden' }, t(lang, 'langTag', { lang: langName(lang, statement.lang) })));
}

/** Shared behaviour: shadow root, language, API client, restart on attribute change. */
class PolderElement extends HTMLElement {
  static get observedAttributes() { return ['conversation', 'lang', 'api', 'at']; }

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.root.adoptedStyleSheets = [sheet()];
    this.cleanups = [];
  }

  get language() { return langOf(this); }

  t(key, vars) { return t(this.language, key, vars); }

  get client() {
    return client(this.getAttribute('api') || DEFAULT_BASE, this.getAttribute('conversation') || '');
  }

  connectedCallback() {
    this.connected = true;
    this.restart();
  }

  disconnectedCallback() {
    this.connected = false;
    this.stop();
  }

  attributeChangedCallback(name, before, after) {
    if (this.connected && before !== after) {
      // A new `at` only reloads the data; everything else rebuilds.
      if (name === 'at' && this.reload) this.reload();
      else this.restart();
    }
  }

  restart() {
    this.stop();
    if (!this.getAttribute('conversation')) return;
    clearTimeout(this.restartTimer);
    // Attributes often change together: start once they settle.
    this.restartTimer = setTimeout(() => this.start(), 0);
  }

  stop() {
    this.generation = (this.generation || 0) + 1;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  /** A polite live region inside the shadow root. */
  liveRegion() {
    return h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  }

  announce(text) {
    if (!this.status) return;
    // Clear first so that repeating the same text is announced again.
    this.status.textContent = '';
    setTimeout(() => { this.status.textContent = text; }, 50);
  }

  /** The identity the vote widget keeps, for "you are here". */
  identity() {
    return this.client.identity(this.getAttribute('xid') || undefined);
  }

  headingLevel(fallback) {
    const level = Number(this.getAttribute('heading-level'));
    return level >= 2 && level <= 6 ? level : fallback;
  }
}

/* ------------------------------------------------------------------ */
/* <polder-vote>                                                      */
/* ------------------------------------------------------------------ */

const VOTES = ['agree', 'disagree', 'pass'];
const MAX_STATEMENT_CHARS = 2000;

class PolderVote extends PolderElement {
  static get observedAttributes() { return [...super.observedAttributes, 'xid', 'xid-signature']; }

  start() {
    const lang = this.language;
    this.status = this.liveRegion();
    this.body = h('div', { class: 'panel', part: 'card' });
    this.writeBox = h('div');
    this.root.replaceChildren(this.status, this.body, this.writeBox);
    this.options = {
      xid: this.getAttribute('xid') || undefined,
      signature: this.getAttribute('xid-signature') || undefined,
      onProgress: (state, tries) => this.showJoining(state, tries),
    };
    const generation = this.generation;
    this.client.conversationInfo().then((info) => {
      if (generation !== this.generation) return;
      this.info = info;
      if (info.closed) { this.showMessage(this.t('closed')); return; }
      if (this.identity() || this.options.xid || this.hasAttribute('autostart')) this.begin();
      else this.showStart();
    }).catch((error) => { if (generation === this.generation) this.showError(error); });
    void lang;
  }

  showStart() {
    const button = h('button', { type: 'button', class: 'start', onclick: () => this.begin() }, this.t('start'));
    this.body.replaceChildren(h('p', { class: 'hint' }, this.t('startHint')), button);
  }

  showJoining(state, tries) {
    const now = Date.now();
    if (state === 'checking' && tries > 0 && now - (this.lastProgress || 0) < 1500) return;
    this.lastProgress = now;
    const text = state === 'checking'
      ? (tries > 0 ? this.t('checkingProgress', { n: num(this.language, tries) }) : this.t('checking'))
      : this.t('joining');
    if (!this.joinStatus) {
      this.joinStatus = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
      this.body.replaceChildren(this.joinStatus);
    }
    this.joinStatus.textContent = text;
  }

  async begin() {
    const focusAfter = this.root.activeElement !== null || document.activeElement === this;
    try {
      this.showJoining('joining', 0);
      await this.client.asParticipant(this.options, async () => {});
      this.joinStatus = null;
      this.renderWrite();
      await this.loadNext({ focus: focusAfter, announce: this.t('joined') });
    } catch (error) {
      this.joinStatus = null;
      this.showError(error);
    }
  }

  async loadNext({ focus = false, announce = '' } = {}) {
    const next = await this.client.asParticipant(this.options, (token) => this.client.next(token));
    this.current = next.statement;
    if (!next.statement) {
      const done = h('p', { class: 'done', tabindex: '-1' }, this.t('done'));
      this.body.replaceChildren(this.progress(next.voted, next.voted), done, h('p', { class: 'hint' }, this.t('doneHint')));
      if (focus) done.focus();
      this.announce([announce, this.t('done')].filter(Boolean).join(' '));
      return;
    }
    // A statement without a language tag is in the conversation's first language, if it has one.
    const fallbackLang = this.info && this.info.settings && (this.info.settings.languages || [])[0];
    const full = { ...next.statement, lang: next.statement.lang || fallbackLang || null };
    const total = next.voted + next.remaining;
    const textId = nextId('text');
    const headingId = nextId('heading');
    const lang = this.language;
    const text = h('p', { class: 'statement', id: textId, tabindex: '-1', 'aria-describedby': headingId },
      statementText(lang, full, full.id), ' ', langBadge(lang, full));
    const buttons = VOTES.map((vote) => h('button', {
      type: 'button', class: vote, 'data-vote': vote, 'aria-describedby': textId,
      onclick: (event) => this.cast(vote, event.currentTarget),
    }, this.t(vote)));
    this.body.replaceChildren(
      this.progress(next.voted, total),
      h('p', { class: 'visually-hidden', id: headingId }, this.t('statementOf', { n: next.voted + 1, total })),
      text,
      h('div', { class: 'choices', role: 'group', 'aria-label': this.t('voteGroup') }, buttons),
    );
    this.textEl = text;
    if (focus) text.focus();
    if (announce) this.announce(announce);
  }

  progress(voted, total) {
    const labelId = nextId('progress');
    return h('div', {},
      h('div', { class: 'progress-line' },
        h('span', { id: labelId }, this.t('progressLabel')),
        h('span', { 'aria-hidden': 'true' }, this.t('progressText', { voted, total }))),
      h('progress', { max: Math.max(total, 1), value: voted, 'aria-labelledby': labelId,
        'aria-valuetext': this.t('progressText', { voted, total }) }));
  }

  async cast(vote, button) {
    if (!this.current || this.busy) return;
    this.busy = true;
    button.setAttribute('aria-disabled', 'true');
    try {
      const id = this.current.id;
      await this.client.asParticipant(this.options, (token) => this.client.vote(token, id, vote));
      this.dispatchEvent(new CustomEvent('polder-vote', { bubbles: true, composed: true, detail: { statement: id, vote } }));
      await this.loadNext({ focus: true, announce: this.t('votedNext', { vote: this.t(vote) }) });
    } catch (error) {
      button.removeAttribute('aria-disabled');
      this.announce(this.errorText(error));
      this.showInlineError(error);
    } finally {
      this.busy = false;
    }
  }

  renderWrite() {
    if (!this.info || !this.info.settings || !this.info.settings.allow_statements) {
      this.writeBox.replaceChildren();
      return;
    }
    const level = this.headingLevel(2);
    const headingId = nextId('write');
    const fieldId = nextId('field');
    const hintId = nextId('hint');
    const countId = nextId('count');
    const field = h('textarea', { id: fieldId, name: 'text', maxlength: MAX_STATEMENT_CHARS, rows: 3,
      'aria-describedby': `${hintId} ${countId}` });
    const count = h('p', { class: 'note', id: countId }, this.t('charsLeft', { n: MAX_STATEMENT_CHARS }));
    const message = h('p', { role: 'status', 'aria-live': 'polite' });
    field.addEventListener('input', () => {
      count.textContent = this.t('charsLeft', { n: MAX_STATEMENT_CHARS - field.value.length });
    });
    const form = h('form', { class: 'write panel', 'aria-labelledby': headingId, novalidate: true },
      h(`h${level}`, { id: headingId }, this.t('writeTitle')),
      h('p', { class: 'hint', id: hintId }, this.t('writeHint')),
      h('label', { for: fieldId }, this.t('writeLabel')),
      field,
      h('div', { class: 'row' }, count, h('button', { type: 'submit' }, this.t('writeSubmit'))),
      message);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = field.value.trim();
      if (!text) {
        message.className = 'error';
        message.textContent = this.t('writeEmpty');
        field.setAttribute('aria-invalid', 'true');
        field.focus();
        return;
      }
      field.removeAttribute('aria-invalid');
      try {
        await this.client.asParticipant(this.options, (token) => this.client.submit(token, text, this.language));
        field.value = '';
        count.textContent = this.t('charsLeft', { n: MAX_STATEMENT_CHARS });
        message.className = 'status';
        message.textContent = this.t('writeSent');
      } catch (error) {
        message.className = 'error';
        message.textContent = this.errorText(error);
      }
    });
    this.writeBox.replaceChildren(form);
  }

  errorText(error) {
    if (error instanceof ApiError) {
      if (error.code === 'offline') return this.t('offline');
      if (error.code === 'rate_limited') return this.t('rateLimited');
      if (error.code === 'conversation_not_found') return this.t('notFound');
      if (error.code === 'conversation_closed') return this.t('closed');
      if (error.code === 'not_allowed') return this.t('inviteOnly');
    }
    return this.t('error', { detail: error.message });
  }

  showMessage(text) {
    this.body.replaceChildren(h('p', { class: 'status' }, text));
  }

  showInlineError(error) {
    const old = this.body.querySelector('.error');
    if (old) old.remove();
    this.body.append(h('p', { class: 'error' }, this.errorText(error)));
  }

  showError(error) {
    const message = h('p', { class: 'error', tabindex: '-1' }, this.errorText(error));
    const retry = h('button', { type: 'button', class: 'secondary', onclick: () => this.restart() }, this.t('retry'));
    this.body.replaceChildren(message, retry);
    this.announce(this.errorText(error));
  }
}

/* ------------------------------------------------------------------ */
/* Report widgets: live or at a stored moment                         */
/* ------------------------------------------------------------------ */

class ReportElement extends PolderElement {
  start() {
    this.status = this.liveRegion();
    this.content = h('div', { class: 'content' }, h('p', { class: 'hint' }, this.t('loading')));
    this.root.replaceChildren(this.content, this.status);
    this.firstRender = true;
    // Statements without a language tag are in the conversation's first language.
    this.fallbackLang = null;
    this.infoLoaded = this.client.conversationInfo()
      .then((info) => { this.fallbackLang = ((info.settings && info.settings.languages) || [])[0] || null; })
      .catch(() => {});
    const stop = this.client.live((report) => {
      if (!this.getAttribute('at')) this.show(report, true);
    });
    this.cleanups.push(stop);
    const onVoted = () => { this.mineStale = true; };
    this.client.addEventListener('voted', onVoted);
    this.cleanups.push(() => this.client.removeEventListener('voted', onVoted));
    this.reload();
  }

  async reload() {
    const at = this.getAttribute('at');
    const ticket = (this.ticket = (this.ticket || 0) + 1);
    for (let attempt = 0; attempt < 40; attempt += 1) {
      try {
        const report = await this.client.report(at || undefined);
        if (ticket === this.ticket) await this.show(report, !this.firstRender);
        return;
      } catch (error) {
        if (ticket !== this.ticket) return;
        if (error instanceof ApiError && error.code === 'report_not_found' && !at) {
          this.content.replaceChildren(h('p', { class: 'hint' }, this.t('reportPending')));
          await new Promise((resolve) => setTimeout(resolve, 500));
          continue;
        }
        this.content.replaceChildren(h('p', { class: 'error' }, this.t('error', { detail: error.message })));
        return;
      }
    }
  }

  async show(report, announce) {
    const ids = report.statements.map((st) => st.id);
    const statements = await this.client.statements(ids).catch(() => new Map());
    await this.infoLoaded;
    await this.render(report, statements, announce);
    this.firstRender = false;
    this.dataset.tick = String(report.meta.tick);
    this.dataset.votes = String(report.meta.n_votes);
    this.dispatchEvent(new CustomEvent('polder-update', { detail: { tick: report.meta.tick } }));
  }
}

/* ------------------------------------------------------------------ */
/* <polder-map>                                                       */
/* ------------------------------------------------------------------ */

const GROUP_STROKES = ['#005a8c', '#a84300', '#006e50', '#9c4f7f', '#7a5400', '#2c6f94'];
const GROUP_FILLS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'];
const PAD = 36;

/** The map's drawing size: narrow containers get a squarer, smaller canvas so labels stay legible. */
function canvasFor(width) {
  return width && width < 520 ? { W: 380, H: 360 } : { W: 640, H: 420 };
}

function convexHull(points) {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper = [];
  for (const p of pts.reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

function patternFor(index, id) {
  const color = GROUP_FILLS[index % GROUP_FILLS.length];
  const kind = index % 6;
  const lines = [];
  if (kind === 0) lines.push(s('path', { d: 'M0,10 L10,0', stroke: color, 'stroke-width': 2 }));
  if (kind === 1) lines.push(s('circle', { cx: 5, cy: 5, r: 1.8, fill: color }));
  if (kind === 2) lines.push(s('path', { d: 'M0,5 L10,5', stroke: color, 'stroke-width': 2 }));
  if (kind === 3) lines.push(s('path', { d: 'M0,0 L10,10 M10,0 L0,10', stroke: color, 'stroke-width': 1.5 }));
  if (kind === 4) lines.push(s('path', { d: 'M5,0 L5,10', stroke: color, 'stroke-width': 2 }));
  if (kind === 5) lines.push(s('path', { d: 'M0,0 L10,10', stroke: color, 'stroke-width': 2 }));
  return s('pattern', { id, width: 10, height: 10, patternUnits: 'userSpaceOnUse' },
    s('rect', { width: 10, height: 10, fill: color, 'fill-opacity': 0.14 }), lines);
}

class PolderMap extends ReportElement {
  static get observedAttributes() { return [...super.observedAttributes, 'xid']; }

  start() {
    super.start();
    this.tableOpen = false;
  }

  async render(report, statements, announce) {
    const lang = this.language;
    const at = this.getAttribute('at');
    const groups = report.groups || [];
    let clusters = [];
    if (!at) {
      try {
        const pca = await this.client.pca2();
        const b = pca['base-clusters'] || pca.base_clusters;
        // math/pca2 flips both axes for Polis; flip back to polder's native axes.
        clusters = b.id.map((id, i) => ({ id, x: -b.x[i], y: -b.y[i], count: b.count[i] }));
      } catch { clusters = []; }
    }
    let mine = null;
    const me = this.identity();
    if (me && !at) {
      try { mine = await this.client.me(me.token); } catch { mine = null; }
    }
    const groupOfCluster = new Map();
    groups.forEach((g, gi) => (g.base_clusters || []).forEach((c) => groupOfCluster.set(c, gi)));

    const xs = []; const ys = [];
    for (const c of clusters) { xs.push(c.x); ys.push(c.y); }
    for (const g of groups) { xs.push(g.center[0]); ys.push(g.center[1]); }
    if (mine && mine.projection) { xs.push(mine.projection[0]); ys.push(mine.projection[1]); }
    const { W, H } = canvasFor(this.clientWidth);
    const minX = Math.min(...xs, -1); const maxX = Math.max(...xs, 1);
    const minY = Math.min(...ys, -1); const maxY = Math.max(...ys, 1);
    // Without points, groups are circles: leave room for their radius.
    const pad = clusters.length ? PAD : PAD + 64;
    const scale = Math.min((W - 2 * pad) / (maxX - minX || 1), (H - 2 * pad) / (maxY - minY || 1));
    const ox = (W - (maxX - minX) * scale) / 2; const oy = (H - (maxY - minY) * scale) / 2;
    const px = (x) => ox + (x - minX) * scale;
    const py = (y) => H - (oy + (y - minY) * scale);

    const total = groups.reduce((n, g) => n + g.size, 0);
    const titleId = nextId('map-title');
    const descId = nextId('map-desc');
    const defs = s('defs');
    const regions = s('g', { class: 'regions' });
    const labels = s('g', { class: 'labels' });
    groups.forEach((g, gi) => {
      const pid = nextId('pattern');
      defs.append(patternFor(gi, pid));
      const stroke = GROUP_STROKES[gi % GROUP_STROKES.length];
      const pts = clusters.filter((c) => groupOfCluster.get(c.id) === gi).map((c) => [px(c.x), py(c.y)]);
      const cx = px(g.center[0]); const cy = py(g.center[1]);
      if (pts.length >= 3) {
        // Grow the hull outwards so the dots on its edge sit inside the region.
        const hull = convexHull(pts).map(([x, y]) => {
          const dx = x - cx; const dy = y - cy; const d = Math.hypot(dx, dy) || 1;
          return [x + (dx / d) * 14, y + (dy / d) * 14];
        });
        regions.append(s('polygon', { class: 'region', points: hull.map((p) => p.map((v) => v.toFixed(1)).join(',')).join(' '),
          fill: `url(#${pid})`, stroke, 'stroke-linejoin': 'round' }));
      } else {
        const r = Math.max(18, Math.sqrt(g.size / Math.max(total, 1)) * 90);
        regions.append(s('circle', { class: 'region', cx, cy, r, fill: `url(#${pid})`, stroke }));
      }
      labels.append(s('text', { class: 'label', x: cx, y: cy, 'text-anchor': 'middle', 'dominant-baseline': 'central' },
        groupName(gi)));
    });
    const points = s('g', { class: 'points' });
    for (const c of clusters) {
      points.append(s('circle', { class: 'point', cx: px(c.x), cy: py(c.y), r: (2 + Math.sqrt(c.count) * 1.1).toFixed(1) }));
    }
    const meLayer = s('g', { class: 'me' });
    let youText = me ? this.t('youNotYet') : '';
    const myGroupIndex = mine && mine.group_id !== null && mine.group_id !== undefined
      ? groups.findIndex((g) => g.id === mine.group_id) : -1;
    if (mine && mine.projection) {
      const mx = px(mine.projection[0]); const my = py(mine.projection[1]);
      meLayer.append(
        s('circle', { class: 'me-ring', cx: mx, cy: my, r: 11 }),
        s('circle', { class: 'me-dot', cx: mx, cy: my, r: 4 }),
        // The label goes on the side with more room.
        s('text', { class: 'me-label', x: mx > W * 0.6 ? mx - 15 : mx + 15, y: my < 30 ? my + 26 : my - 14,
          'text-anchor': mx > W * 0.6 ? 'end' : 'start' }, this.t('youAreHere')));
      this.dataset.me = 'shown';
    } else {
      delete this.dataset.me;
    }
    if (myGroupIndex >= 0) youText = this.t('youInGroup', { group: groupName(myGroupIndex) });

    const summary = at
      ? this.t('mapSnapshot', { when: when(lang, report.meta.last_vote_timestamp || Number(at)) })
      : (groups.length ? this.t('mapSummary', { groups: groups.length, people: num(lang, total) }) : this.t('mapSummaryNone'));
    const svg = s('svg', { class: 'map', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}` },
      s('title', { id: titleId }, this.t('mapTitle')),
      s('desc', { id: descId }, `${this.t('mapDesc')} ${summary} ${youText}`),
      defs, regions, points, labels, meLayer);

    // The data table alternative, behind a toggle that keeps its state across updates.
    const tableId = nextId('map-table');
    const rows = groups.map((g, gi) => h('tr', {},
      h('th', { scope: 'row' }, this.t('group', { name: groupName(gi) })),
      h('td', { class: 'num' }, num(lang, g.size)),
      h('td', { class: 'num' }, pct(lang, g.size / Math.max(total, 1))),
      h('td', { class: 'num' }, `${g.center[0].toFixed(2)}, ${g.center[1].toFixed(2)}`),
      h('td', {}, gi === myGroupIndex ? this.t('yes') : this.t('no'))));
    const table = h('table', {},
      h('caption', {}, this.t('tableCaption')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, this.t('colGroup')),
        h('th', { scope: 'col', class: 'num' }, this.t('colPeople')),
        h('th', { scope: 'col', class: 'num' }, this.t('colShare')),
        h('th', { scope: 'col', class: 'num' }, this.t('colCentre')),
        h('th', { scope: 'col' }, this.t('colYou')))),
      h('tbody', {}, rows));
    const wrap = tableWrap(this.t('tableCaption'), table, { id: tableId, hidden: !this.tableOpen });
    const toggle = h('button', { type: 'button', class: 'secondary toggle', 'aria-expanded': String(this.tableOpen), 'aria-controls': tableId },
      this.tableOpen ? this.t('hideTable') : this.t('showTable'));
    toggle.addEventListener('click', () => {
      this.tableOpen = !this.tableOpen;
      wrap.hidden = !this.tableOpen;
      toggle.setAttribute('aria-expanded', String(this.tableOpen));
      toggle.textContent = this.tableOpen ? this.t('hideTable') : this.t('showTable');
    });
    const hadFocus = this.root.activeElement && this.root.activeElement.classList.contains('toggle');
    this.content.replaceChildren(
      h('figure', {}, svg, h('figcaption', {}, summary, youText ? ` ${youText}` : '')),
      toggle, wrap);
    if (hadFocus) toggle.focus();
    this.dataset.groups = String(groups.length);
    this.dataset.points = String(clusters.length);
    if (announce) this.announce(this.t('mapUpdated', { groups: groups.length, people: num(lang, total) }));
  }
}

/* ------------------------------------------------------------------ */
/* <polder-groups>                                                    */
/* ------------------------------------------------------------------ */

function percentCell(lang, share, cls) {
  const fill = h('span', { class: `fill ${cls}` });
  fill.style.width = `${Math.round((share || 0) * 100)}%`;
  return h('td', { class: 'num' }, pct(lang, share), h('span', { class: 'bar', 'aria-hidden': 'true' }, fill));
}

class PolderGroups extends ReportElement {
  async render(report, statements, announce) {
    const lang = this.language;
    const groups = report.groups || [];
    const level = this.headingLevel(3);
    if (!groups.length) {
      this.content.replaceChildren(h('p', {}, this.t('groupsNone')));
      return;
    }
    const total = groups.reduce((n, g) => n + g.size, 0);
    const sections = groups.map((g, gi) => {
      const name = groupName(gi);
      const headingId = nextId('group');
      const rows = (g.representative || []).map((r) => {
        const st = statements.get(r.statement_id);
        return h('tr', {},
          h('td', {}, statementText(lang, st, r.statement_id, 'span', this.fallbackLang), ' ', langBadge(lang, st),
            h('span', { class: 'note' }, ` — ${this.t('standsOut', { how: this.t(r.repful_for === 'agree' ? 'byAgreeing' : 'byDisagreeing') })}`)),
          percentCell(lang, r.group_agree, 'group'),
          percentCell(lang, r.others_agree, 'others'));
      });
      return h('section', { class: 'group', 'data-g': gi % 6, 'aria-labelledby': headingId },
        h(`h${level}`, { id: headingId }, this.t('group', { name })),
        h('p', {}, this.t('groupSize', { n: num(lang, g.size), pct: pct(lang, g.size / Math.max(total, 1)) })),
        tableWrap(this.t('groupCaption', { name }), h('table', {},
          h('caption', {}, this.t('groupCaption', { name })),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, this.t('colStatement')),
            h('th', { scope: 'col', class: 'num' },
              h('span', { class: 'long' }, this.t('colInGroup', { name })),
              h('span', { class: 'short', 'aria-hidden': 'true' }, this.t('colInGroupShort', { name }))),
            h('th', { scope: 'col', class: 'num' },
              h('span', { class: 'long' }, this.t('colOthers', { name })),
              h('span', { class: 'short', 'aria-hidden': 'true' }, this.t('colOthersShort'))))),
          h('tbody', {}, rows))));
    });
    this.content.replaceChildren(...sections);
    this.dataset.groups = String(groups.length);
    if (announce) this.announce(this.t('groupsUpdated'));
  }
}

/* ------------------------------------------------------------------ */
/* <polder-consensus>                                                 */
/* ------------------------------------------------------------------ */

class PolderConsensus extends ReportElement {
  async render(report, statements, announce) {
    const lang = this.language;
    const groups = report.groups || [];
    const level = this.headingLevel(3);
    const byId = new Map(report.statements.map((st) => [st.id, st]));
    const share = (v) => (v && v.seen ? v.agree / v.seen : 0);
    const block = (entries, key) => {
      if (!entries.length) return null;
      const headingId = nextId('consensus');
      const rows = entries.map((e) => {
        const st = statements.get(e.statement_id);
        const data = byId.get(e.statement_id);
        const perGroup = groups.map((g) => {
          const v = data && (data.by_group || []).find((b) => b.group_id === g.id);
          return percentCell(lang, share(v), 'group');
        });
        return h('tr', {},
          h('td', {}, statementText(lang, st, e.statement_id, 'span', this.fallbackLang), ' ', langBadge(lang, st)),
          percentCell(lang, share(data && data.votes), 'others'),
          perGroup);
      });
      return h('section', { 'aria-labelledby': headingId },
        h(`h${level}`, { id: headingId }, this.t(key)),
        tableWrap(`${this.t(key)}: ${this.t('consensusCaption')}`, h('table', {},
          h('caption', { class: 'visually-hidden' }, `${this.t(key)}: ${this.t('consensusCaption')}`),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, this.t('colStatement')),
            h('th', { scope: 'col', class: 'num' }, this.t('colAll')),
            groups.map((g, gi) => h('th', { scope: 'col', class: 'num' }, this.t('group', { name: groupName(gi) }))))),
          h('tbody', {}, rows))));
    };
    const consensus = report.consensus || { agree: [], disagree: [] };
    const parts = [block(consensus.agree || [], 'consensusAgree'), block(consensus.disagree || [], 'consensusDisagree')].filter(Boolean);
    this.content.replaceChildren(...(parts.length ? parts : [h('p', {}, this.t('consensusNone'))]));
    this.dataset.statements = String((consensus.agree || []).length + (consensus.disagree || []).length);
    if (announce) this.announce(this.t('consensusUpdated'));
  }
}

/* ------------------------------------------------------------------ */
/* <polder-timeline>: a slider over the stored snapshots               */
/* ------------------------------------------------------------------ */

class PolderTimeline extends PolderElement {
  start() {
    this.status = this.liveRegion();
    this.content = h('div', { class: 'panel timeline' });
    this.root.replaceChildren(this.content, this.status);
    this.live = true;
    this.load();
    const stop = this.client.live(() => {
      clearTimeout(this.refresh);
      this.refresh = setTimeout(() => this.load(), 1500);
    });
    this.cleanups.push(stop);
  }

  async load() {
    let snaps = [];
    try { snaps = await this.client.snapshots(); } catch { snaps = []; }
    const changed = !this.snaps || snaps.length !== this.snaps.length;
    this.snaps = snaps;
    if (changed || !this.input) this.render();
  }

  describe(index) {
    const lang = this.language;
    if (index >= this.snaps.length) return this.t('timelineLive');
    const snap = this.snaps[index];
    return this.t('timelineAt', { when: when(lang, snap.computed_ms), votes: num(lang, snap.vote_count) });
  }

  render() {
    const lang = this.language;
    const inputId = nextId('slider');
    const outputId = nextId('output');
    const n = this.snaps.length;
    const value = this.live ? n : Math.min(this.index ?? n, n);
    const input = h('input', { type: 'range', id: inputId, min: 0, max: n, step: 1, value,
      'aria-valuetext': this.describe(value), 'aria-describedby': outputId, disabled: n === 0 });
    const output = h('output', { id: outputId, for: inputId }, this.describe(value));
    input.addEventListener('input', () => {
      const i = Number(input.value);
      input.setAttribute('aria-valuetext', this.describe(i));
      output.textContent = this.describe(i);
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.select(i), 250);
    });
    const liveButton = h('button', { type: 'button', class: 'secondary', onclick: () => {
      input.value = String(this.snaps.length);
      input.dispatchEvent(new Event('input'));
    } }, this.t('timelineLiveButton'));
    const print = h('button', { type: 'button', class: 'secondary', onclick: () => window.print() }, this.t('printButton'));
    const hadFocus = this.root.activeElement === this.input;
    const parts = [h('label', { for: inputId }, this.t('timelineLabel')), input, output];
    if (n === 0) parts.push(h('p', { class: 'hint' }, this.t('timelineNone')));
    parts.push(h('div', { class: 'row' }, liveButton, print));
    this.content.replaceChildren(...parts);
    this.input = input;
    if (hadFocus) input.focus();
    this.dataset.snapshots = String(n);
    void lang;
  }

  select(index) {
    this.index = index;
    this.live = index >= this.snaps.length;
    const at = this.live ? null : String(this.snaps[index].computed_ms);
    const conversation = this.getAttribute('conversation');
    for (const el of document.querySelectorAll('polder-map, polder-groups, polder-consensus')) {
      if (el.getAttribute('conversation') !== conversation) continue;
      if (at) el.setAttribute('at', at);
      else el.removeAttribute('at');
    }
    this.announce(this.live ? this.t('liveShown') : this.t('snapshotShown', { when: this.describe(index) }));
  }
}

const definitions = {
  'polder-vote': PolderVote,
  'polder-map': PolderMap,
  'polder-groups': PolderGroups,
  'polder-consensus': PolderConsensus,
  'polder-timeline': PolderTimeline,
};
for (const [name, element] of Object.entries(definitions)) {
  if (!customElements.get(name)) customElements.define(name, element);
}

export { PolderVote, PolderMap, PolderGroups, PolderConsensus, PolderTimeline };
