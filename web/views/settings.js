/*
 * views/settings.js: account settings. Identity (GET/PUT
 * /v1/accounts/{account}/settings/identity, If-Match): who may create
 * service IDs and API keys, allowed IP addresses, user list visibility,
 * session and token lifetimes. Access management (GET/PATCH
 * …/settings/access_management, If-Match): how identities of other accounts
 * may interact with this one.
 */
import {
  append, ApiError, api, button, field, h, inlineNote, input, loading, messageOf, notify, pageHeader, request, select,
  setChildren, state, textarea,
} from '/console/app.js';

const RESTRICT = [
  { value: 'NOT_SET', label: 'Not set (unrestricted)' },
  { value: 'NOT_RESTRICTED', label: 'Unrestricted: every user may create' },
  { value: 'RESTRICTED', label: 'Restricted: only holders of the creator role' },
];

function humanSeconds(n) {
  if (!Number.isFinite(n)) return '';
  if (n % 86400 === 0) return `${n / 86400} day${n === 86400 ? '' : 's'}`;
  if (n % 3600 === 0) return `${n / 3600} hour${n === 3600 ? '' : 's'}`;
  if (n % 60 === 0) return `${n / 60} minutes`;
  return `${n} seconds`;
}

function section(title, text, ...children) {
  const id = `${title.toLowerCase().replace(/[^a-z]+/g, '-')}title`;
  return h('section', { class: 'tile settings-section', 'aria-labelledby': id },
    h('h2', { class: 'section-title', id }, title), text ? h('p', { class: 'section-text' }, text) : null, children);
}

export async function render(container) {
  const body = h('div', { class: 'settings' }, loading());
  append(container, pageHeader({
    crumbs: [{ label: 'Manage' }, { label: 'Access (IAM)' }],
    title: 'Settings',
    description: 'Account-wide rules for identities, sessions, tokens and access from other accounts.',
  }), body);

  async function load() {
    const account = state.session.account_id;
    let identity;
    let access;
    let accessEtag;
    try {
      const [i, a] = await Promise.all([
        request('GET', `/v1/accounts/${account}/settings/identity`),
        request('GET', `/v1/accounts/${account}/settings/access_management`).catch((err) => ({ error: err })),
      ]);
      identity = i.data;
      if (a.error) access = a;
      else { access = a.data; accessEtag = a.etag; }
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      setChildren(body, inlineNote('error', 'The settings could not be loaded.', messageOf(err), { live: true }));
      return;
    }
    setChildren(body, identityForms(identity), accessForm(access, accessEtag));
  }

  /* One PUT for whichever identity form is saved, with only its fields. */
  async function putIdentity(identity, changes, note, what) {
    setChildren(note);
    try {
      await api.put(`/v1/accounts/${state.session.account_id}/settings/identity`, changes, { ifMatch: identity.entity_tag || '*' });
      notify.success(`${what} saved.`);
      await load();
      return true;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) setChildren(note, inlineNote('error', `${what} could not be saved.`, messageOf(err)));
      return false;
    }
  }

  function identityForms(identity) {
    // Restrictions
    const sid = select(RESTRICT, { name: 'restrict_create_service_id', value: identity.restrict_create_service_id });
    const key = select(RESTRICT, { name: 'restrict_create_platform_apikey', value: identity.restrict_create_platform_apikey });
    const visibility = select([
      { value: 'NOT_RESTRICTED', label: 'Users see every user of the account' },
      { value: 'RESTRICTED', label: 'Users see only themselves, unless allowed by a policy' },
    ], { name: 'restrict_user_list_visibility', value: identity.restrict_user_list_visibility });
    const ips = textarea({ name: 'allowed_ip_addresses', rows: 2, value: identity.allowed_ip_addresses ?? '' });
    const note1 = h('div', { role: 'alert' });
    const form1 = h('form', { novalidate: true },
      field('Service ID creation', sid, { help: 'Restricted: creating service IDs needs the Service ID creator role on IAM Identity, the account owner included.' }),
      field('User API key creation', key, { help: 'Restricted: creating user API keys needs the User API key creator role.' }),
      field('User list visibility', visibility),
      field('Allowed IP addresses', ips, { optional: true, help: 'Comma-separated addresses or CIDR ranges from which tokens may be used. Empty allows any address.' }),
      note1, h('div', { class: 'button-row' }, button('Save restrictions', { type: 'submit' })));
    form1.addEventListener('submit', async (e) => {
      e.preventDefault();
      const btn = form1.querySelector('button[type=submit]');
      btn.disabled = true;
      await putIdentity(identity, {
        restrict_create_service_id: sid.value, restrict_create_platform_apikey: key.value,
        restrict_user_list_visibility: visibility.value, allowed_ip_addresses: ips.value.trim(),
      }, note1, 'Identity restrictions');
      btn.disabled = false;
    });

    // Sessions and tokens
    const seconds = [
      ['session_expiration_in_seconds', 'Session maximum age', 900, 86400, 'A console session ends this long after sign-in, whatever its use.'],
      ['session_invalidation_in_seconds', 'Session idle timeout', 900, 7200, 'A console session ends after this long without use.'],
      ['max_sessions_per_identity', 'Sessions per identity', 1, 1000000, 'At most this many console sessions per user or service ID; the oldest ends first.'],
      ['system_access_token_expiration_in_seconds', 'Access token lifetime', 900, 3600, null],
      ['system_refresh_token_expiration_in_seconds', 'Refresh token lifetime', 900, 259200, null],
    ];
    const inputs = {};
    const note2 = h('div', { role: 'alert' });
    const fields = seconds.map(([name, label, min, max, help]) => {
      const raw = identity[name];
      const el = input({ name, type: 'number', inputmode: 'numeric', min, max, step: 1, value: raw && raw !== 'NOT_SET' ? raw : '' });
      inputs[name] = { el, min, max, label };
      const unit = name === 'max_sessions_per_identity' ? `${min} to ${max}` : `${min} to ${max} seconds (${humanSeconds(min)} to ${humanSeconds(max)})`;
      return field(`${label}`, el, { optional: true, help: `${help ? `${help} ` : ''}${unit}. Empty: the default.` });
    });
    const form2 = h('form', { novalidate: true }, h('div', { class: 'field-grid' }, fields), note2,
      h('div', { class: 'button-row' }, button('Save session settings', { type: 'submit' })));
    form2.addEventListener('submit', async (e) => {
      e.preventDefault();
      setChildren(note2);
      const changes = {};
      for (const [name, { el, min, max, label }] of Object.entries(inputs)) {
        const v = el.value.trim();
        if (!v) { changes[name] = 'NOT_SET'; continue; }
        const n = Number(v);
        if (!Number.isInteger(n) || n < min || n > max) {
          el.setAttribute('aria-invalid', 'true');
          setChildren(note2, inlineNote('error', 'Error:', `${label} must be a whole number from ${min} to ${max}.`));
          el.focus();
          return;
        }
        el.removeAttribute('aria-invalid');
        changes[name] = String(n);
      }
      const btn = form2.querySelector('button[type=submit]');
      btn.disabled = true;
      await putIdentity(identity, changes, note2, 'Session settings');
      btn.disabled = false;
    });

    return [
      section('Identity restrictions', 'Who may create service IDs and API keys, and from where tokens are accepted.', form1),
      section('Sessions and tokens', 'How long console sessions and tokens last. Changes apply to sessions and tokens created afterwards.', form2),
    ];
  }

  function accessForm(access, etag) {
    if (access?.error) {
      return section('Access from other accounts', null,
        inlineNote('error', 'These settings could not be loaded.', messageOf(access.error)));
    }
    const types = access?.external_account_identity_interaction?.identity_types ?? {};
    const rows = [['user', 'Users'], ['service_id', 'Service IDs'], ['service', 'Services']];
    const controls = {};
    const note = h('div', { role: 'alert' });
    const fieldsets = rows.map(([key, label]) => {
      const t = types[key] ?? { state: 'enabled', external_allowed_accounts: [] };
      const st = select([
        { value: 'enabled', label: 'Enabled' },
        { value: 'monitor', label: 'Monitor' },
        { value: 'limited', label: 'Limited' },
      ], { name: `${key}-state`, value: t.state });
      const list = textarea({ name: `${key}-accounts`, rows: 2, value: (t.external_allowed_accounts ?? []).join('\n') });
      controls[key] = { st, list };
      return h('fieldset', { class: 'settings-fieldset' }, h('legend', { class: 'field-label' }, label),
        field('State', st, { help: 'Enabled: other accounts may be given access. Monitor: allowed and recorded. Limited: only the accounts listed.' }), field('Allowed accounts', list, { optional: true, help: 'One account ID per line (32 hex characters).' }));
    });
    const form = h('form', { novalidate: true }, h('div', { class: 'field-grid three' }, fieldsets), note,
      h('div', { class: 'button-row' }, button('Save access settings', { type: 'submit' })));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      setChildren(note);
      const identityTypes = {};
      for (const [key, { st, list }] of Object.entries(controls)) {
        const accounts = list.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
        const bad = accounts.find((a) => !/^[0-9a-f]{32}$/.test(a));
        if (bad) { setChildren(note, inlineNote('error', 'Error:', `"${bad}" is not an account ID (32 lowercase hex characters).`)); list.focus(); return; }
        identityTypes[key] = { state: st.value, external_allowed_accounts: accounts };
      }
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      try {
        await api.patch(`/v1/accounts/${state.session.account_id}/settings/access_management`,
          { external_account_identity_interaction: { identity_types: identityTypes } }, { ifMatch: etag || '*' });
        notify.success('Access settings saved.');
        await load();
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 401)) setChildren(note, inlineNote('error', 'The access settings could not be saved.', messageOf(err)));
      } finally {
        btn.disabled = false;
      }
    });
    return section('Access from other accounts', 'Whether users, service IDs and services of other accounts may be given access in this account.', form);
  }

  await load();
}
