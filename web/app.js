/*
 * app.js: the iamd console's shell. Owns the session (GET/POST/DELETE
 * /console/api/session), the API client (cookie + X-CSRF-Token, IBM error
 * messages), the router (history API under /console/), the navigation, and
 * the small UI kit every view uses: elements, notifications (live regions),
 * dialogs (<dialog>), tables, pagination, tabs, form fields.
 *
 * Rules the console keeps: no inline scripts or styles (the CSP forbids them),
 * no third-party requests, no storage of secrets (API key values live only in
 * the dialog that shows them once; nothing is written to localStorage or
 * sessionStorage).
 */

const BASE = '/console';

/** The signed-in session ({iam_id, account_id, name, login?, kind, csrf_token, expires_at, idle_timeout}) and per-session caches. */
export const state = { session: null, cache: new Map() };

/* ------------------------------------------------------------------ DOM */

let idCounter = 0;
/** A document-unique id with a readable prefix. */
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * Creates an element. props: class, text, dataset, on<event> handlers, value,
 * and attributes (true sets an empty attribute; false/null/undefined skip it).
 * Children may be nodes, strings, numbers, arrays, or null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  let value;
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'value') value = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  appendChildren(el, children);
  if (value !== undefined) el.value = value;
  return el;
}

function appendChildren(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** Appends children (nodes, strings, arrays; null/false skipped). */
export function append(el, ...children) {
  appendChildren(el, children);
  return el;
}

/** Replaces the element's children. */
export function setChildren(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
  return el;
}

/* ------------------------------------------------------------------ API client */

/** An API failure: status, the server's message, its code (BXNIM… or IBM code), the body. */
export class ApiError extends Error {
  constructor(status, message, { code = null, body = null, retryAfter = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

/**
 * The message to show for a failed call, from any of the IBM error bodies:
 * Identity/Policy/Groups {errors:[{code, message_code?, message}]}, the token
 * service {errorCode, errorMessage}, OAuth {error, error_description}.
 */
export function errorFromBody(body, status) {
  let message = null;
  let code = null;
  if (body && typeof body === 'object') {
    const first = Array.isArray(body.errors) ? body.errors[0] : null;
    if (first && typeof first === 'object') {
      message = first.message || first.details || null;
      code = first.message_code || first.code || null;
    } else if (body.errorMessage) {
      message = body.errorMessage;
      code = body.errorCode || null;
    } else if (body.error_description) {
      message = body.error_description;
      code = body.error || null;
    } else if (typeof body.message === 'string') {
      message = body.message;
    } else if (body.error && typeof body.error === 'object' && Array.isArray(body.error.errors)) {
      message = body.error.errors[0]?.message ?? null;
    }
  }
  if (!message) {
    message = {
      400: 'The request was not valid.', 403: 'You are not allowed to do this.', 404: 'Not found. It may have been deleted.',
      409: 'The request conflicts with the current state. Reload and try again.', 413: 'The request is too large.',
      429: 'Too many requests. Wait a moment and try again.', 500: 'The server failed. Try again later.',
      503: 'The service is unavailable. Try again later.',
    }[status] ?? `The request failed (HTTP ${status}).`;
  }
  return { message, code };
}

/** The user-facing text of any error (ApiError or not). */
export function messageOf(err) {
  if (err instanceof ApiError) return err.code ? `${err.message} (${err.code})` : err.message;
  return err?.message ? String(err.message) : 'Something went wrong.';
}

function withQuery(path, query) {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    qs.set(k, String(v));
  }
  const s = qs.toString();
  if (!s) return path;
  return path + (path.includes('?') ? '&' : '?') + s;
}

/**
 * One API call with the session cookie and, for unsafe methods, the CSRF
 * header. Resolves {status, data, etag, headers}; rejects with ApiError. A 401
 * (outside sign-in) ends the session in the console and shows the sign-in page.
 */
export async function request(method, path, { query, body, headers = {}, ifMatch } = {}) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && state.session?.csrf_token) init.headers['X-CSRF-Token'] = state.session.csrf_token;
  if (ifMatch) init.headers['If-Match'] = ifMatch;
  let res;
  try {
    res = await fetch(withQuery(path, query), init);
  } catch {
    throw new ApiError(0, 'The server could not be reached. Check the connection and try again.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.status === 401 && !path.startsWith(`${BASE}/api/session`)) {
    sessionEnded('Your session has ended. Sign in again to continue.');
    throw new ApiError(401, 'Your session has ended.', { body: data });
  }
  if (!res.ok) {
    const { message, code } = errorFromBody(data, res.status);
    throw new ApiError(res.status, message, { code, body: data, retryAfter: res.headers.get('Retry-After') });
  }
  return { status: res.status, data, etag: res.headers.get('ETag'), headers: res.headers };
}

/** Shorthands resolving to the body. */
export const api = {
  get: async (path, query) => (await request('GET', path, { query })).data,
  post: async (path, body, opts = {}) => (await request('POST', path, { ...opts, body })).data,
  put: async (path, body, opts = {}) => (await request('PUT', path, { ...opts, body })).data,
  patch: async (path, body, opts = {}) => (await request('PATCH', path, { ...opts, body })).data,
  del: async (path, opts = {}) => (await request('DELETE', path, opts)).data,
};

/** The pagetoken in one of the Identity API's absolute first/next/previous URLs (null for the first page). */
export function pageTokenOf(url) {
  if (!url) return null;
  try {
    return new URL(url, location.origin).searchParams.get('pagetoken');
  } catch {
    return null;
  }
}

/** A value cached for the session (services, users, service IDs for pickers). */
export async function cached(key, load) {
  if (state.cache.has(key)) return state.cache.get(key);
  const promise = load();
  state.cache.set(key, promise);
  try {
    return await promise;
  } catch (err) {
    state.cache.delete(key);
    throw err;
  }
}

export function invalidate(...keys) {
  for (const k of keys) state.cache.delete(k);
}

/* ------------------------------------------------------------------ formatting */

/** Parses IBM timestamps ("2024-05-02T10:11+0000", ISO with Z or offset); null when absent or bad. */
export function parseTime(s) {
  if (!s) return null;
  const normal = String(s).replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  const t = Date.parse(normal);
  return Number.isNaN(t) ? null : new Date(t);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
/** A timestamp as the user reads it, with the raw value for the tooltip; "—" when absent. */
export function timeCell(s, empty = '—') {
  const d = parseTime(s);
  if (!d) return h('span', { class: 'muted' }, empty);
  return h('time', { datetime: d.toISOString(), title: d.toISOString() }, dateFormat.format(d));
}

export function formatTime(s) {
  const d = parseTime(s);
  return d ? dateFormat.format(d) : '—';
}

/** A Carbon-like tag. kind: green, red, gray, blue, purple, warm. */
export function tag(text, kind = 'gray') {
  return h('span', { class: `tag tag-${kind}` }, text);
}

/** The role's short name from its CRN ("crn:…:role:Viewer" → "Viewer"). */
export function roleName(role) {
  const id = typeof role === 'string' ? role : role?.display_name || role?.role_id || role?.crn || '';
  if (typeof role === 'object' && role?.display_name) return role.display_name;
  const m = /:(?:role|serviceRole|customRole):([^:]+)$/.exec(id);
  return m ? m[1] : id;
}

/* ------------------------------------------------------------------ notifications */

const MAX_TOASTS = 4;

function toast(kind, title, text) {
  const region = document.getElementById(kind === 'error' ? 'live-alert' : 'live-status');
  if (!region) return;
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Close notification' }, h('span', { class: 'icon-close', 'aria-hidden': 'true' }));
  const item = h('div', { class: `toast toast-${kind}` },
    h('span', { class: `toast-icon icon-${kind}`, 'aria-hidden': 'true' }),
    h('div', { class: 'toast-text' }, h('strong', { class: 'toast-title' }, title), text ? h('span', { class: 'toast-body' }, ` ${text}`) : null),
    close);
  close.addEventListener('click', () => item.remove());
  region.append(item);
  // Narrow screens keep fewer notifications so they do not hide the page.
  const max = window.matchMedia('(max-width: 671px)').matches ? 2 : MAX_TOASTS;
  const all = () => document.querySelectorAll('.toasts .toast');
  while (all().length > max) all()[0].remove();
  if (kind !== 'error') setTimeout(() => item.remove(), 8000);
}

/** Feedback for an action: success and info go to the polite status region, errors to the alert region. */
export const notify = {
  success: (title, text) => toast('success', title, text),
  info: (title, text) => toast('info', title, text),
  error: (title, text) => toast('error', title, text),
  /** Shows an error from a failed call (a 401 has already sent the user to sign in). */
  failure: (title, err) => {
    if (err instanceof ApiError && err.status === 401) return;
    toast('error', title, messageOf(err));
  },
};

export function clearToasts() {
  for (const id of ['live-alert', 'live-status']) document.getElementById(id)?.replaceChildren();
}

/** An inline notification (in a page or dialog). kind: error, warning, info, success. */
export function inlineNote(kind, title, text, { live = false } = {}) {
  const role = live ? (kind === 'error' ? 'alert' : 'status') : null;
  return h('div', { class: `inline-note inline-${kind}`, role },
    h('span', { class: `note-icon icon-${kind}`, 'aria-hidden': 'true' }),
    h('div', { class: 'note-text' }, h('strong', {}, title), text ? h('span', {}, ' ', text) : null));
}

/* ------------------------------------------------------------------ buttons and fields */

/** A button. kind: primary, secondary, tertiary, ghost, danger, danger-ghost. */
export function button(label, { kind = 'primary', onClick, type = 'button', icon, small = false, disabled = false, ...attrs } = {}) {
  return h('button', {
    type, class: `btn btn-${kind}${small ? ' btn-sm' : ''}`, onclick: onClick, disabled, ...attrs,
  }, label, icon ? h('span', { class: `btn-icon icon-${icon}`, 'aria-hidden': 'true' }) : null);
}

/**
 * A labelled form field. control: an input/select/textarea element (its id is
 * set); help: helper text linked with aria-describedby.
 */
export function field(label, control, { help, optional = false, class: extra } = {}) {
  const id = control.id || uid('f');
  control.id = id;
  const children = [h('label', { for: id, class: 'field-label' }, label, optional ? h('span', { class: 'optional' }, ' (optional)') : null), control];
  if (help) {
    const helpId = `${id}-help`;
    control.setAttribute('aria-describedby', helpId);
    children.push(h('p', { id: helpId, class: 'field-help' }, help));
  }
  return h('div', { class: `field${extra ? ` ${extra}` : ''}` }, children);
}

export function input(props = {}) {
  return h('input', { type: 'text', class: 'input', autocomplete: 'off', spellcheck: 'false', ...props });
}

export function textarea(props = {}) {
  return h('textarea', { class: 'input textarea', rows: 3, ...props });
}

/** A select; options: [{value, label, disabled?}] or [value…]; groups: {label, options}. */
export function select(options, props = {}) {
  const el = h('select', { class: 'input select', ...props, value: undefined });
  const add = (parent, o) => {
    const opt = typeof o === 'object' ? o : { value: o, label: o };
    parent.append(h('option', { value: opt.value, disabled: opt.disabled }, opt.label ?? opt.value));
  };
  for (const o of options) {
    if (o && o.options) {
      const group = h('optgroup', { label: o.label });
      for (const x of o.options) add(group, x);
      el.append(group);
    } else add(el, o);
  }
  if (props.value !== undefined) el.value = props.value;
  return el;
}

/** A checkbox with its label. */
export function checkbox(label, props = {}, help) {
  const id = props.id || uid('cb');
  const box = h('input', { type: 'checkbox', class: 'checkbox', ...props, id });
  return h('div', { class: 'checkbox-field' }, box, h('label', { for: id }, label, help ? h('span', { class: 'field-help block' }, help) : null));
}

/** A fieldset of radio buttons; options [{value, label, help?}]. */
export function radioGroup(legend, name, options, value, { onChange } = {}) {
  const set = h('fieldset', { class: 'radio-group' }, h('legend', { class: 'field-label' }, legend));
  for (const o of options) {
    const id = uid('rb');
    const r = h('input', { type: 'radio', name, value: o.value, id, class: 'radio', checked: o.value === value, onchange: () => onChange?.(o.value) });
    set.append(h('div', { class: 'radio-field' }, r, h('label', { for: id }, o.label, o.help ? h('span', { class: 'field-help block' }, o.help) : null)));
  }
  return set;
}

/* ------------------------------------------------------------------ dialogs */

/**
 * Opens a modal <dialog>. content: nodes for the body. When onSubmit is given
 * the dialog is a form: the primary button submits, errors thrown by onSubmit
 * are shown inside the dialog (role=alert) and the dialog stays open;
 * returning false keeps it open too. Focus goes to `initialFocus` (or the
 * first field, else the primary button) and returns where it was on close.
 * Returns {dialog, body, close(), setError(text)}.
 */
export function openDialog({
  title, label, content = [], primary = 'Save', secondary = 'Cancel', danger = false, wide = false,
  onSubmit, onClose, initialFocus, footer = true, passive = false,
}) {
  const titleId = uid('dlg-title');
  const opener = document.activeElement;
  const errorBox = h('div', { class: 'dialog-error', role: 'alert' });
  const closeX = h('button', { type: 'button', class: 'dialog-close', 'aria-label': 'Close' }, h('span', { class: 'icon-close', 'aria-hidden': 'true' }));
  const body = h('div', { class: 'dialog-body' }, content);
  const primaryBtn = onSubmit ? button(primary, { kind: danger ? 'danger' : 'primary', type: 'submit' }) : null;
  const secondaryBtn = button(onSubmit ? secondary : (passive ? 'Close' : secondary), { kind: onSubmit ? 'secondary' : 'primary', value: 'cancel' });
  const buttons = footer ? h('div', { class: 'dialog-footer' }, secondaryBtn, primaryBtn) : null;
  const form = h('form', { class: 'dialog-form', method: 'dialog', novalidate: true },
    h('div', { class: 'dialog-header' }, label ? h('p', { class: 'dialog-label' }, label) : null, h('h2', { id: titleId, class: 'dialog-title' }, title), closeX),
    body, errorBox, buttons);
  const dialog = h('dialog', { class: `dialog${wide ? ' dialog-wide' : ''}${danger ? ' dialog-danger' : ''}`, 'aria-labelledby': titleId }, form);
  let closed = false;

  function close(result) {
    if (closed) return;
    closed = true;
    if (dialog.open) dialog.close();
    dialog.remove();
    onClose?.(result);
    const target = opener && document.contains(opener) ? opener : document.querySelector('#main h1') || document.getElementById('main');
    target?.focus?.();
  }
  function setError(text) {
    setChildren(errorBox, text ? inlineNote('error', 'Error:', text) : null);
  }

  closeX.addEventListener('click', () => close(false));
  secondaryBtn.addEventListener('click', (e) => { e.preventDefault(); close(false); });
  dialog.addEventListener('cancel', (e) => { e.preventDefault(); close(false); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!onSubmit) { close(true); return; }
    if (primaryBtn.disabled) return;
    setError(null);
    primaryBtn.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const keep = await onSubmit({ form, body, setError });
      if (keep !== false) close(true);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) setError(messageOf(err));
      else close(false);
    } finally {
      primaryBtn.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });

  document.body.append(dialog);
  dialog.showModal();
  const first = initialFocus || body.querySelector('input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])') || primaryBtn || secondaryBtn;
  first.focus();
  return { dialog, body, close, setError, primaryBtn };
}

/**
 * A confirmation dialog for a destructive action. message: nodes naming what
 * is affected. action: async work run on confirm; its error stays in the
 * dialog. Resolves true when the action ran.
 */
export function confirmDialog({ title, message, confirmLabel = 'Delete', danger = true, action }) {
  return new Promise((resolve) => {
    let done = false;
    openDialog({
      title, label: danger ? 'Confirm' : null, danger, primary: confirmLabel,
      content: [h('div', { class: 'confirm-message' }, message)],
      onSubmit: async () => { await action?.(); done = true; },
      onClose: () => resolve(done),
    });
  });
}

/* ------------------------------------------------------------------ page parts */

/**
 * The page header: breadcrumbs [{label, href}], the h1 (focus target after
 * navigation), a description and actions.
 */
export function pageHeader({ crumbs = [], title, description, actions = [], status }) {
  document.title = `${title} – iamd`;
  const nav = crumbs.length
    ? h('nav', { 'aria-label': 'Breadcrumb', class: 'breadcrumb' },
      h('ol', {}, crumbs.map((c) => h('li', {}, c.href ? h('a', { href: c.href }, c.label) : h('span', {}, c.label)))))
    : null;
  return h('div', { class: 'page-header' }, nav,
    h('div', { class: 'page-title-row' },
      h('div', { class: 'page-title-group' }, h('h1', { tabindex: '-1', class: 'page-title' }, title), status ?? null),
      actions.length ? h('div', { class: 'page-actions' }, actions) : null),
    description ? h('p', { class: 'page-description' }, description) : null);
}

/** An empty state: what is missing and what to do next. */
export function emptyState(title, text, action) {
  return h('div', { class: 'empty-state' },
    h('span', { class: 'empty-icon', 'aria-hidden': 'true' }),
    h('p', { class: 'empty-title' }, title), text ? h('p', { class: 'empty-text' }, text) : null, action ?? null);
}

/**
 * A data table. columns: [{key, label, sortable?, render(row), class?}].
 * sort: {key, order:'asc'|'desc'}; onSort(key) toggles. Rows become cards on
 * narrow screens (each cell labelled by its column).
 */
export function dataTable({ label, columns, rows, sort, onSort, empty, busy = false, rowKey }) {
  if (!busy && rows.length === 0 && empty) return empty;
  const head = h('tr', {}, columns.map((c) => {
    const ariaSort = sort && sort.key === c.key ? (sort.order === 'desc' ? 'descending' : 'ascending') : null;
    if (c.sortable && onSort) {
      const icon = ariaSort ? (ariaSort === 'ascending' ? 'icon-arrow-up' : 'icon-arrow-down') : 'icon-arrows';
      return h('th', { scope: 'col', 'aria-sort': ariaSort, class: c.class },
        h('button', { type: 'button', class: 'sort-button', onclick: () => onSort(c.key) }, c.label, h('span', { class: `sort-icon ${icon}`, 'aria-hidden': 'true' })));
    }
    return h('th', { scope: 'col', class: c.class }, c.label ? c.label : h('span', { class: 'visually-hidden' }, 'Actions'));
  }));
  const body = h('tbody', {}, rows.map((row) => h('tr', { dataset: rowKey ? { key: rowKey(row) } : undefined },
    columns.map((c, i) => {
      const v = c.render ? c.render(row) : row[c.key];
      const cell = h(i === 0 ? 'th' : 'td', { class: c.class, 'data-label': c.label || null, scope: i === 0 ? 'row' : null }, v ?? h('span', { class: 'muted' }, '—'));
      return cell;
    }))));
  const table = h('table', { class: 'data-table', 'aria-busy': busy ? 'true' : null },
    label ? h('caption', { class: 'visually-hidden' }, label) : null, h('thead', {}, head), body);
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label ?? 'Table', tabindex: '0' }, table);
}

/**
 * Remembers which control inside `container` has the focus before the
 * container is redrawn; the returned function puts the focus on the control
 * with the same name in the new content (or the first enabled control), so
 * keyboard users keep their place after a list reloads.
 */
export function rememberFocus(container) {
  const active = document.activeElement;
  if (!active || active === document.body || !container.contains(active)) return () => {};
  const nameOf = (el) => (el.getAttribute('aria-label') || el.textContent || '').trim();
  const key = nameOf(active);
  const tag = active.tagName;
  return () => {
    const now = document.activeElement;
    if (now && now !== document.body && document.contains(now) && !now.closest('.loading')) {
      if (container.contains(now) || now.closest('dialog')) return;
    }
    const same = [...container.querySelectorAll(tag)].find((el) => nameOf(el) === key && !el.disabled);
    const fallback = container.querySelector('button:not([disabled]), a[href], input:not([disabled])');
    (same || fallback)?.focus();
  };
}

/** Pagination controls: {from, to, total?, hasPrev, hasNext, onPrev, onNext, label}. */
export function pager({ from, to, total, hasPrev, hasNext, onPrev, onNext, label = 'Pagination' }) {
  const of = total !== undefined && total !== null ? ` of ${total}` : '';
  const text = to < from ? 'No items' : (to === from ? `Item ${from}${of}` : `Items ${from}–${to}${of}`);
  return h('nav', { class: 'pager', 'aria-label': label },
    h('span', { class: 'pager-info' }, text),
    h('div', { class: 'pager-buttons' },
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', disabled: !hasPrev, onclick: onPrev }, h('span', { class: 'icon-chevron-left', 'aria-hidden': 'true' }), 'Previous page'),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', disabled: !hasNext, onclick: onNext }, 'Next page', h('span', { class: 'icon-chevron-right', 'aria-hidden': 'true' }))));
}

/**
 * Tabs (WAI-ARIA tab pattern: arrow keys, Home/End, automatic activation).
 * tabs: [{id, label, render(panel)}]; selected: id; onSelect(id) is called on change.
 */
export function tabs({ label, items, selected, onSelect }) {
  const base = uid('tabs');
  const list = h('div', { class: 'tabs', role: 'tablist', 'aria-label': label });
  const panel = h('div', { class: 'tab-panel', role: 'tabpanel' });
  const buttons = items.map((t) => h('button', {
    type: 'button', role: 'tab', id: `${base}-${t.id}`, class: 'tab', 'aria-controls': `${base}-panel`, dataset: { tab: t.id },
  }, t.label));
  panel.id = `${base}-panel`;
  function activate(id, { focus = false, notify: tell = true } = {}) {
    const idx = Math.max(0, items.findIndex((t) => t.id === id));
    buttons.forEach((b, i) => {
      b.setAttribute('aria-selected', String(i === idx));
      b.tabIndex = i === idx ? 0 : -1;
    });
    panel.setAttribute('aria-labelledby', buttons[idx].id);
    panel.replaceChildren();
    items[idx].render(panel);
    if (focus) buttons[idx].focus();
    if (tell) onSelect?.(items[idx].id);
  }
  buttons.forEach((b, i) => {
    b.addEventListener('click', () => activate(items[i].id));
    b.addEventListener('keydown', (e) => {
      let next = null;
      if (e.key === 'ArrowRight') next = (i + 1) % items.length;
      else if (e.key === 'ArrowLeft') next = (i - 1 + items.length) % items.length;
      else if (e.key === 'Home') next = 0;
      else if (e.key === 'End') next = items.length - 1;
      if (next !== null) { e.preventDefault(); activate(items[next].id, { focus: true }); }
    });
    list.append(b);
  });
  activate(selected ?? items[0].id, { notify: false });
  return h('div', { class: 'tabs-container' }, list, panel);
}

/**
 * An overflow menu (menu button pattern): a button that opens a list of
 * actions. items: [{label, onSelect, danger?, disabled?}]. Arrow keys move,
 * Escape closes and returns focus to the button.
 */
export function overflowMenu(label, items) {
  const menuId = uid('menu');
  const trigger = h('button', {
    type: 'button', class: 'overflow-button', 'aria-haspopup': 'true', 'aria-expanded': 'false', 'aria-controls': menuId, 'aria-label': label,
  }, h('span', { class: 'icon-overflow', 'aria-hidden': 'true' }));
  const menu = h('ul', { class: 'overflow-menu', role: 'menu', id: menuId, 'aria-label': label, hidden: true });
  const entries = items.filter(Boolean).map((it) => {
    const b = h('button', { type: 'button', role: 'menuitem', class: `overflow-item${it.danger ? ' danger' : ''}`, tabindex: '-1', 'aria-disabled': it.disabled ? 'true' : null }, it.label);
    b.addEventListener('click', () => {
      if (it.disabled) return;
      close(true);
      it.onSelect();
    });
    menu.append(h('li', { role: 'none' }, b));
    return b;
  });
  const wrap = h('div', { class: 'overflow' }, trigger, menu);
  function onOutside(e) { if (!wrap.contains(e.target)) close(false); }
  function open(focusLast = false) {
    menu.hidden = false;
    trigger.setAttribute('aria-expanded', 'true');
    wrap.classList.add('open');
    (focusLast ? entries[entries.length - 1] : entries[0])?.focus();
    document.addEventListener('pointerdown', onOutside, true);
  }
  function close(focusTrigger = true) {
    if (menu.hidden) return;
    menu.hidden = true;
    trigger.setAttribute('aria-expanded', 'false');
    wrap.classList.remove('open');
    document.removeEventListener('pointerdown', onOutside, true);
    if (focusTrigger) trigger.focus();
  }
  trigger.addEventListener('click', () => (menu.hidden ? open() : close()));
  trigger.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); open(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); open(true); }
  });
  menu.addEventListener('keydown', (e) => {
    const i = entries.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); entries[(i + 1) % entries.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); entries[(i - 1 + entries.length) % entries.length].focus(); }
    else if (e.key === 'Home') { e.preventDefault(); entries[0].focus(); }
    else if (e.key === 'End') { e.preventDefault(); entries[entries.length - 1].focus(); }
    else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
    else if (e.key === 'Tab') close(false);
  });
  return wrap;
}

/** A definition list of [term, value] pairs. */
export function details(pairs) {
  return h('dl', { class: 'details' }, pairs.filter(Boolean).map(([k, v]) => h('div', { class: 'details-row' }, h('dt', {}, k), h('dd', {}, v ?? h('span', { class: 'muted' }, '—')))));
}

/** A short loading line for a region being fetched. */
export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

/** Copies text to the clipboard; resolves true on success. */
export async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackInput) {
      fallbackInput.select();
      try { return document.execCommand('copy'); } catch { return false; }
    }
    return false;
  }
}

/** Starts a download of a JSON document (Blob URL, revoked at once after the click). */
export function downloadJson(filename, object) {
  const blob = new Blob([`${JSON.stringify(object, null, 2)}\n`], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'visually-hidden', tabindex: '-1' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/* ------------------------------------------------------------------ services (for access assignment) */

/** Services iamd builds in, for callers who may not read /v1/services (only the instance operator may). */
export const BUILTIN_SERVICES = [
  { name: 'iam-identity', display_name: 'IAM Identity Service', resource_types: ['serviceid', 'apikey', 'account', 'serviceid-group', 'profile'] },
  { name: 'iam-access-management', display_name: 'IAM Access Management', resource_types: ['customRole', 'settings'] },
  { name: 'iam-groups', display_name: 'IAM Access Groups', resource_types: ['accessgroup'] },
  { name: 'user-management', display_name: 'User Management', resource_types: ['user'] },
];

/** The registered and built-in services: /v1/services, or the built-ins when it is not readable. */
export function loadServices() {
  return cached('services', async () => {
    try {
      const data = await api.get('/v1/services');
      return (data?.services ?? []).map((s) => ({ ...s, display_name: s.display_name || s.name }));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw err;
      return BUILTIN_SERVICES.map((s) => ({ ...s, builtin: true }));
    }
  });
}

/* ------------------------------------------------------------------ shell: nav, session, router */

const routes = [
  { pattern: /^\/console\/signin$/, view: 'signin', public: true },
  { pattern: /^\/console\/serviceids$/, view: 'serviceids', nav: 'serviceids' },
  { pattern: /^\/console\/serviceids\/([^/]+)(?:\/(details|access|apikeys))?$/, view: 'serviceid', nav: 'serviceids', params: ['id', 'tab'] },
  { pattern: /^\/console\/users$/, view: 'users', nav: 'users' },
  { pattern: /^\/console\/users\/([^/]+)(?:\/(details|access|apikeys|groups))?$/, view: 'user', nav: 'users', params: ['id', 'tab'] },
  { pattern: /^\/console\/groups$/, view: 'groups', nav: 'groups' },
  { pattern: /^\/console\/groups\/([^/]+)(?:\/(details|members|access))?$/, view: 'group', nav: 'groups', params: ['id', 'tab'] },
  { pattern: /^\/console\/apikeys$/, view: 'myapikeys', nav: 'apikeys' },
  { pattern: /^\/console\/settings$/, view: 'settings', nav: 'settings' },
  { pattern: /^\/console\/explain$/, view: 'explain', nav: 'explain' },
];

const HOME = `${BASE}/serviceids`;
let afterSignIn = null;
let renderSerial = 0;

function matchRoute(pathname) {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/' || path === BASE) return { redirect: HOME };
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (m) {
      const params = {};
      (r.params ?? []).forEach((name, i) => { params[name] = m[i + 1] ? decodeURIComponent(m[i + 1]) : undefined; });
      return { route: r, params };
    }
  }
  return { notFound: true };
}

/** Goes to a console path (pushState), or replaces the current entry. */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else if (path !== location.pathname + location.search) history.pushState(null, '', path);
  render();
}

/** Replaces the URL without rendering (a tab change). */
export function replacePath(path) {
  if (path !== location.pathname) history.replaceState(null, '', path);
}

function setNavOpen(open) {
  const nav = document.getElementById('side-nav');
  const toggle = document.getElementById('nav-toggle');
  const scrim = document.getElementById('nav-scrim');
  nav.classList.toggle('open', open);
  toggle.setAttribute('aria-expanded', String(open));
  scrim.hidden = !open;
  if (open) nav.querySelector('a[aria-current], a')?.focus();
}

function showShell(signedIn) {
  document.body.classList.toggle('signed-in', signedIn);
  document.getElementById('side-nav').hidden = !signedIn;
  document.getElementById('nav-toggle').hidden = !signedIn;
  document.getElementById('header-actions').hidden = !signedIn;
  if (signedIn) {
    const s = state.session;
    const who = s.name || s.login || s.iam_id;
    setChildren(document.getElementById('header-user'), h('span', { class: 'header-user-name' }, who),
      h('span', { class: 'header-user-kind' }, s.kind === 'serviceid' ? 'Service ID' : 'User'));
  } else {
    setNavOpen(false);
  }
}

/** Called on a 401 or sign-out: forgets the session and shows the sign-in page with a message. */
export function sessionEnded(message, { kind = 'info', returnHere = true } = {}) {
  state.session = null;
  state.cache.clear();
  showShell(false);
  afterSignIn = returnHere && location.pathname !== `${BASE}/signin` ? location.pathname : null;
  history.replaceState(null, '', `${BASE}/signin`);
  if (message) pendingSignInMessage = { kind, message };
  render();
}

let pendingSignInMessage = null;
/** The message the sign-in page shows once (session ended, signed out). */
export function takeSignInMessage() {
  const m = pendingSignInMessage;
  pendingSignInMessage = null;
  return m;
}

/** Stores the new session and goes where the user was headed. */
export function signedIn(session) {
  state.session = session;
  state.cache.clear();
  showShell(true);
  clearToasts();
  const next = afterSignIn && afterSignIn !== `${BASE}/signin` ? afterSignIn : HOME;
  afterSignIn = null;
  navigate(next, { replace: true });
}

async function signOut() {
  try {
    await request('DELETE', `${BASE}/api/session`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      notify.failure('Sign out failed.', err);
      return;
    }
  }
  sessionEnded('You have signed out.', { kind: 'success', returnHere: false });
}

async function render() {
  const serial = ++renderSerial;
  const main = document.getElementById('main');
  const m = matchRoute(location.pathname);
  if (m.redirect) { history.replaceState(null, '', m.redirect); return render(); }
  if (!state.session && !(m.route && m.route.public)) {
    afterSignIn = location.pathname;
    history.replaceState(null, '', `${BASE}/signin`);
    return render();
  }
  if (state.session && m.route?.view === 'signin') { history.replaceState(null, '', HOME); return render(); }
  setNavOpen(false);
  for (const a of document.querySelectorAll('#side-nav a')) {
    if (m.route && a.dataset.nav === m.route.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const container = h('div', { class: 'page' });
  main.replaceChildren(container);
  if (m.notFound) {
    container.append(pageHeader({ title: 'Page not found' }),
      emptyState('There is no page at this address.', 'Use the navigation to find what you need.', h('a', { href: HOME, class: 'btn btn-primary' }, 'Go to service IDs')));
    focusTitle(container);
    return;
  }
  try {
    const mod = await import(`${BASE}/views/${m.route.view}.js`);
    if (serial !== renderSerial) return;
    await mod.render(container, m.params);
  } catch (err) {
    if (serial !== renderSerial) return;
    if (err instanceof ApiError && err.status === 401) return;
    container.replaceChildren(pageHeader({ title: 'This page could not be shown' }),
      inlineNote('error', 'Error:', messageOf(err), { live: true }));
  }
  if (serial === renderSerial) focusTitle(container);
}

let firstRender = true;
function focusTitle(container) {
  // After the first page load the browser's focus stays at the top; after a
  // navigation the new page's heading takes it, so screen readers announce it.
  if (firstRender) { firstRender = false; return; }
  if (document.querySelector('dialog[open]')) return;
  const title = container.querySelector('h1');
  title?.focus({ preventScroll: false });
}

function onDocumentClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest?.('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(`${BASE}/`) || /\.[a-z0-9]+$/i.test(url.pathname)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}

async function boot() {
  document.addEventListener('click', onDocumentClick);
  window.addEventListener('popstate', () => render());
  document.getElementById('sign-out').addEventListener('click', signOut);
  const toggle = document.getElementById('nav-toggle');
  toggle.addEventListener('click', () => setNavOpen(toggle.getAttribute('aria-expanded') !== 'true'));
  document.getElementById('nav-scrim').addEventListener('click', () => setNavOpen(false));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && toggle.getAttribute('aria-expanded') === 'true' && !document.querySelector('dialog[open]')) {
      setNavOpen(false);
      toggle.focus();
    }
  });
  try {
    const res = await request('GET', `${BASE}/api/session`);
    state.session = res.data;
  } catch {
    state.session = null;
  }
  showShell(!!state.session);
  await render();
}

boot();
