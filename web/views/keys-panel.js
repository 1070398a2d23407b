/*
 * views/keys-panel.js: the API keys of one identity (a service ID's "API
 * keys" tab, a user's, "My API keys"): list with created, expires, last used,
 * use count and status (GET /v1/apikeys?iam_id=, then each key with
 * include_activity=true), create (POST /v1/apikeys) with the value shown ONCE
 * (Copy, Download as IBM's apikey.json), edit, lock/unlock, disable/enable,
 * delete.
 *
 * The key value exists only in the create response and the dialog that shows
 * it: nothing stores it, and closing the dialog removes it from the DOM and
 * drops every reference to it.
 */
import {
  append, rememberFocus, ApiError, api, button, confirmDialog, copyText, dataTable, downloadJson, emptyState, field, h, inlineNote, input,
  loading, messageOf, notify, openDialog, overflowMenu, pageTokenOf, pager, parseTime, radioGroup, request, setChildren,
  state, tag, textarea, timeCell, uid,
} from '/console/app.js';

const PAGE_SIZE = 20;

function isExpired(key) {
  const t = parseTime(key.expires_at);
  return t ? t.getTime() <= Date.now() : false;
}

/** Status tags of a key: Expired / Disabled / Active, plus Locked. */
export function keyStatus(key) {
  const tags = [];
  if (isExpired(key)) tags.push(tag('Expired', 'red'));
  else if (key.disabled) tags.push(tag('Disabled', 'red'));
  else tags.push(tag('Active', 'green'));
  if (key.locked) tags.push(tag('Locked', 'purple'));
  return h('span', { class: 'tag-list' }, tags);
}

/** "2026-01-31T17:00" (datetime-local, the user's time) → "2026-01-31T16:00+0000" (IBM's format, UTC). */
function toIbmTime(local) {
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  return `${iso.slice(0, 16)}+0000`;
}

/**
 * Shows a new key's value once. The value is held by this function's closure
 * and the dialog's input only; both are cleared when the dialog closes.
 */
export function showKeyOnce(created, ownerName, { onClosed } = {}) {
  let secret = created.apikey;
  // The caller's copy of the response must not keep the value either.
  delete created.apikey;
  const fileDoc = () => ({
    name: created.name, description: created.description ?? '', createdAt: created.created_at, apikey: secret,
  });
  const valueInput = input({ readonly: true, class: 'input input-secret', 'aria-label': 'API key value', name: 'apikey-value' });
  valueInput.value = secret;
  const copied = h('p', { class: 'copy-status', role: 'status' });
  const copyBtn = button('Copy', { kind: 'secondary', icon: 'copy', onClick: async () => {
    const ok = await copyText(secret, valueInput);
    copied.textContent = ok ? 'Copied to the clipboard.' : 'Copy failed: select the value and copy it yourself.';
  } });
  const downloadBtn = button('Download', { kind: 'secondary', icon: 'download', onClick: () => {
    downloadJson('apikey.json', fileDoc());
    copied.textContent = 'Downloaded apikey.json.';
  } });
  const ctl = openDialog({
    title: 'API key successfully created',
    label: ownerName,
    passive: true,
    initialFocus: copyBtn,
    content: [
      inlineNote('warning', 'Save this API key now.', 'It cannot be shown again: iamd keeps only a hash of it. Copy it or download it, and store it somewhere safe.'),
      h('p', { class: 'dialog-text' }, 'Name: ', h('strong', {}, created.name)),
      h('div', { class: 'secret-row' }, valueInput),
      h('div', { class: 'button-row' }, copyBtn, downloadBtn),
      copied,
    ],
    onClose: () => {
      valueInput.value = '';
      secret = null;
      onClosed?.();
    },
  });
  ctl.dialog.classList.add('dialog-secret');
  return ctl;
}

/**
 * Renders the tab into `panel`. owner: {iamId, name, noun ('service ID', 'user', 'you')};
 * readOnly: {message} when the owner is locked.
 */
export async function renderKeysPanel(panel, { owner, readOnly = null, heading = 'API keys', intro }) {
  let tokens = [null];
  let page = 0;
  const list = h('div', { class: 'results' });
  const createBtn = button('Create', { icon: 'add', disabled: !!readOnly, onClick: () => createKeyDialog() });
  append(panel, 
    h('div', { class: 'section-header' },
      h('div', {}, h('h2', { class: 'section-title' }, heading),
        h('p', { class: 'section-text' }, intro ?? `API keys let an application authenticate as ${owner.name}. Each key can be locked, disabled or deleted on its own; several keys let you rotate without downtime.`)),
      createBtn),
    readOnly ? inlineNote('warning', 'Read-only.', readOnly.message) : null,
    list);

  async function load() {

    const restore = rememberFocus(list);

    try {

      await loadInner();

    } finally {

      restore();

    }

  }


  let loadSerial = 0;
  async function loadInner() {
    const serial = ++loadSerial;
    setChildren(list, loading());
    let data;
    try {
      data = await api.get('/v1/apikeys', {
        account_id: state.session.account_id, iam_id: owner.iamId, pagesize: PAGE_SIZE, sort: 'created_at', order: 'desc', pagetoken: tokens[page] ?? undefined,
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      setChildren(list, inlineNote('error', 'The API keys could not be loaded.', messageOf(err), { live: true }));
      return;
    }
    let keys = data.apikeys ?? [];
    // The list does not carry activity: read each key of this page with include_activity.
    keys = await Promise.all(keys.map(async (k) => {
      try {
        return await api.get(`/v1/apikeys/${encodeURIComponent(k.id)}`, { include_activity: 'true' });
      } catch {
        return k;
      }
    }));
    if (serial !== loadSerial) return; // a newer load is under way
    const offset = data.offset ?? page * PAGE_SIZE;
    setChildren(list, dataTable({
      label: `API keys of ${owner.name}`,
      rowKey: (k) => k.id,
      columns: [
        { key: 'name', label: 'Name', render: (k) => h('span', { class: 'cell-stack' }, h('span', { class: 'cell-strong' }, k.name), k.description ? h('span', { class: 'cell-sub' }, k.description) : null) },
        { key: 'status', label: 'Status', render: keyStatus },
        { key: 'created_at', label: 'Created', render: (k) => timeCell(k.created_at) },
        { key: 'expires_at', label: 'Expires', render: (k) => timeCell(k.expires_at, 'Never') },
        { key: 'last_used', label: 'Last used', render: (k) => timeCell(k.activity?.last_authn, k.activity ? 'Never' : '—') },
        { key: 'count', label: 'Use count', class: 'col-num', render: (k) => (k.activity ? String(k.activity.authn_count ?? 0) : '—') },
        { key: 'actions', label: '', class: 'col-actions', render: (k) => actionsMenu(k) },
      ],
      rows: keys,
      empty: emptyState(`${owner.name} has no API keys.`,
        readOnly ? readOnly.message : 'Create an API key so an application can exchange it for access tokens.',
        readOnly ? null : button('Create an API key', { kind: 'tertiary', onClick: () => createBtn.click() })),
    }), keys.length || page > 0 ? pager({
      label: 'API key pages', from: offset + 1, to: offset + keys.length, hasPrev: page > 0, hasNext: !!data.next,
      onPrev: () => { page -= 1; load(); },
      onNext: () => { tokens = tokens.slice(0, page + 1); tokens.push(pageTokenOf(data.next)); page += 1; load(); },
    }) : null);
  }

  function actionsMenu(k) {
    const ro = !!readOnly;
    return overflowMenu(`Actions for API key ${k.name}`, [
      { label: 'Edit', disabled: ro || k.locked, onSelect: () => editKey(k) },
      { label: k.locked ? 'Unlock' : 'Lock', disabled: ro, onSelect: () => simple(k, 'lock', k.locked ? 'DELETE' : 'POST', k.locked ? `API key "${k.name}" unlocked.` : `API key "${k.name}" locked.`, k.locked ? 'It can be changed and deleted again.' : 'It cannot be changed or deleted until it is unlocked.') },
      { label: k.disabled ? 'Enable' : 'Disable', disabled: ro, onSelect: () => (k.disabled
        ? simple(k, 'disable', 'DELETE', `API key "${k.name}" enabled.`, 'It can be used to get tokens again.')
        : confirmDisable(k)) },
      { label: 'Delete', danger: true, disabled: ro || k.locked, onSelect: () => deleteKey(k) },
    ]);
  }

  async function simple(k, what, method, ok, detail) {
    try {
      await request(method, `/v1/apikeys/${encodeURIComponent(k.id)}/${what}`);
      notify.success(ok, detail);
      await load();
    } catch (err) {
      notify.failure(`The API key "${k.name}" could not be changed.`, err);
    }
  }

  function confirmDisable(k) {
    confirmDialog({
      title: 'Disable API key', confirmLabel: 'Disable',
      message: [h('p', {}, 'Disable the API key ', h('strong', {}, k.name), '?'),
        h('p', {}, 'Applications using it can no longer get tokens. Tokens already issued stay valid until they expire. You can enable the key again.')],
      action: () => request('POST', `/v1/apikeys/${encodeURIComponent(k.id)}/disable`),
    }).then((done) => { if (done) { notify.success(`API key "${k.name}" disabled.`); load(); } });
  }

  function deleteKey(k) {
    confirmDialog({
      title: 'Delete API key', confirmLabel: 'Delete',
      message: [h('p', {}, 'Delete the API key ', h('strong', {}, k.name), ` of ${owner.name}?`),
        h('p', {}, 'Applications using it can no longer get tokens. This cannot be undone.')],
      action: () => api.del(`/v1/apikeys/${encodeURIComponent(k.id)}`),
    }).then((done) => { if (done) { notify.success(`API key "${k.name}" deleted.`); load(); } });
  }

  function editKey(k) {
    const name = input({ name: 'name', value: k.name, maxlength: 1000 });
    const description = textarea({ name: 'description', value: k.description ?? '', maxlength: 1000 });
    openDialog({
      title: 'Edit API key', label: k.name, primary: 'Save',
      content: [field('Name', name), field('Description', description, { optional: true })],
      onSubmit: async ({ setError }) => {
        if (!name.value.trim()) { setError('Enter a name.'); name.focus(); return false; }
        await api.put(`/v1/apikeys/${encodeURIComponent(k.id)}`, { name: name.value.trim(), description: description.value.trim() }, { ifMatch: k.entity_tag || '*' });
        notify.success(`API key "${name.value.trim()}" saved.`);
        load();
        return true;
      },
    });
  }

  function createKeyDialog() {
    const name = input({ name: 'name', maxlength: 1000, required: true });
    const description = textarea({ name: 'description', maxlength: 1000 });
    const expires = input({ type: 'datetime-local', name: 'expires_at' });
    let expiry = 'never';
    const expiresBox = h('div', { class: 'scope-detail' });
    const showExpiry = () => setChildren(expiresBox, expiry === 'on' ? field('Expires at', expires, { help: 'In your local time.' }) : null);
    let created = null;
    openDialog({
      title: 'Create API key', label: owner.name, primary: 'Create',
      content: [
        h('p', { class: 'dialog-text' }, `The key authenticates as ${owner.name}. Its value is shown once, right after it is created.`),
        field('Name', name), field('Description', description, { optional: true }),
        radioGroup('Expiration', uid('exp'), [{ value: 'never', label: 'Never expires' }, { value: 'on', label: 'Expires at a date and time' }], expiry,
          { onChange: (v) => { expiry = v; showExpiry(); if (v === 'on') expires.focus(); } }),
        expiresBox,
      ],
      onSubmit: async ({ setError }) => {
        const n = name.value.trim();
        if (!n) { name.setAttribute('aria-invalid', 'true'); setError('Enter a name for the API key.'); name.focus(); return false; }
        const body = { name: n, iam_id: owner.iamId, account_id: state.session.account_id };
        if (description.value.trim()) body.description = description.value.trim();
        if (expiry === 'on') {
          const t = toIbmTime(expires.value);
          if (!t) { setError('Enter the date and time the key expires.'); expires.focus(); return false; }
          if (new Date(expires.value).getTime() <= Date.now()) { setError('The expiry must be in the future.'); expires.focus(); return false; }
          body.expires_at = t;
        }
        created = await api.post('/v1/apikeys', body);
        return true;
      },
      onClose: (ok) => {
        if (!ok || !created) return;
        const c = created;
        created = null;
        load();
        // Reloaded again on close: the key may have been used meanwhile.
        showKeyOnce(c, owner.name, { onClosed: load });
        notify.success(`API key "${c.name}" created.`);
      },
    });
  }

  await load();
}
