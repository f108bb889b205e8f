// A small client for the polder HTTP API, shared by the web components:
// participant identity (a token kept in localStorage, first-party to the
// host page; no cookies), proof-of-work on join, and one Server-Sent
// Events stream per conversation.

import { solve } from './pow.js';

/** Where polder runs: the origin this module was loaded from. */
export const DEFAULT_BASE = new URL('.', import.meta.url).origin;

/** An API failure with the problem's `code`. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

async function request(base, path, { method = 'GET', token, body, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      signal,
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'offline', error.message);
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!response.ok) {
    throw new ApiError(response.status, json && json.code, json && json.detail);
  }
  return json;
}

const clients = new Map();

/** The shared client of one conversation on one server. */
export function client(base, conversation) {
  const key = `${base}|${conversation}`;
  if (!clients.has(key)) clients.set(key, new Client(base, conversation));
  return clients.get(key);
}

/** Conversation-scoped calls, identity and live updates. */
export class Client extends EventTarget {
  constructor(base, conversation) {
    super();
    this.base = base.replace(/\/$/, '');
    this.conversation = conversation;
    this.path = `/api/v1/conversations/${encodeURIComponent(conversation)}`;
    this.source = null;
    this.listeners = 0;
    this.statementCache = null;
    this.hiddenIds = new Set();
    this.joins = new Map();
    this.memory = new Map();
  }

  storageKey(xid) {
    return `polder:${this.base}:${this.conversation}${xid ? `:xid:${xid}` : ''}:participant`;
  }

  /** The stored participant `{participant_id, token}` or null. */
  identity(xid) {
    try {
      const raw = localStorage.getItem(this.storageKey(xid));
      if (raw) return JSON.parse(raw);
    } catch { /* storage blocked: fall back to this page view's memory */ }
    return this.memory.get(this.storageKey(xid)) || null;
  }

  forget(xid) {
    this.memory.delete(this.storageKey(xid));
    try { localStorage.removeItem(this.storageKey(xid)); } catch { /* storage blocked */ }
  }

  /**
   * Joins (once per browser, or once per signed xid): solves the join
   * challenge when the server asks for one. `onProgress(state, tries)`.
   */
  async join({ xid, signature, onProgress } = {}) {
    const known = this.identity(xid);
    if (known) return known;
    const key = this.storageKey(xid);
    if (this.joins.has(key)) return this.joins.get(key);
    const joining = (async () => {
      const body = {};
      if (xid) { body.xid = xid; body.xid_signature = signature || ''; }
      let challenge = null;
      try {
        challenge = await request(this.base, `${this.path}/join-challenge`);
      } catch (error) {
        // Servers without proof of work answer 404 (or 405): join without it.
        if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 405)) throw error;
      }
      if (challenge && challenge.challenge) {
        if (onProgress) onProgress('checking', 0);
        const nonce = await solve(challenge.challenge, challenge.difficulty || 0, {
          onProgress: (tries) => onProgress && onProgress('checking', tries),
        });
        body.pow = { challenge: challenge.challenge, nonce };
      }
      if (onProgress) onProgress('joining', 0);
      const joined = await request(this.base, `${this.path}/participants`, { method: 'POST', body });
      try {
        localStorage.setItem(this.storageKey(xid), JSON.stringify(joined));
      } catch { /* storage blocked: this page view keeps the identity in memory */ }
      this.memory.set(this.storageKey(xid), joined);
      return joined;
    })();
    this.joins.set(key, joining);
    try {
      return await joining;
    } finally {
      this.joins.delete(key);
    }
  }

  /** Runs `call(token)`; on a token the server refuses, joins again once. */
  async asParticipant(options, call) {
    let me = this.identity(options.xid) || (await this.join(options));
    try {
      return await call(me.token);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.forget(options.xid);
        me = await this.join(options);
        return call(me.token);
      }
      throw error;
    }
  }

  conversationInfo() { return request(this.base, this.path); }

  next(token) { return request(this.base, `${this.path}/next`, { token }); }

  vote(token, statementId, vote) {
    const clientKey = globalThis.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    this.dispatchEvent(new CustomEvent('voting'));
    return request(this.base, `${this.path}/votes`, {
      method: 'POST', token, body: { statement_id: statementId, vote, client_key: clientKey },
    }).then((ack) => {
      this.dispatchEvent(new CustomEvent('voted', { detail: { statementId, vote } }));
      return ack;
    });
  }

  submit(token, text, lang) {
    return request(this.base, `${this.path}/statements`, { method: 'POST', token, body: { text, lang } })
      .then((s) => { this.statementCache = null; return s; });
  }

  me(token) { return request(this.base, `${this.path}/report/me`, { token }); }

  report(at) {
    return request(this.base, `${this.path}/report${at ? `?at=${encodeURIComponent(at)}` : ''}`);
  }

  pca2() {
    return request(this.base, `/api/v3/math/pca2?conversation_id=${encodeURIComponent(this.conversation)}`);
  }

  snapshots() { return request(this.base, `${this.path}/snapshots`); }

  /**
   * Statement texts by id: cached, reloaded when an id the cache has not
   * seen shows up (ids participants are not shown are remembered as such).
   */
  async statements(ids = []) {
    if (!this.statementCache || ids.some((id) => !this.statementCache.has(id) && !this.hiddenIds.has(id))) {
      if (!this.loadingStatements) {
        this.loadingStatements = request(this.base, `${this.path}/statements`).finally(() => { this.loadingStatements = null; });
      }
      const list = await this.loadingStatements;
      this.statementCache = new Map(list.map((s) => [s.id, s]));
      this.hiddenIds = new Set(ids.filter((id) => !this.statementCache.has(id)));
    }
    return this.statementCache;
  }

  /** Subscribes to live reports; returns an unsubscribe function. */
  live(onReport) {
    const handler = (event) => onReport(event.detail);
    this.addEventListener('report', handler);
    this.listeners += 1;
    if (!this.source && typeof EventSource !== 'undefined') {
      this.source = new EventSource(`${this.base}${this.path}/events`);
      this.source.addEventListener('report', (event) => {
        try {
          const data = JSON.parse(event.data);
          this.latest = data.report;
          this.dispatchEvent(new CustomEvent('report', { detail: data.report }));
        } catch { /* a malformed frame is skipped; the next report repairs it */ }
      });
    }
    return () => {
      this.removeEventListener('report', handler);
      this.listeners -= 1;
      if (this.listeners === 0 && this.source) { this.source.close(); this.source = null; }
    };
  }
}
