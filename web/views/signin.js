/*
 * views/signin.js: the sign-in page: a user's login name and password, or an
 * API key (tabs). POST /console/api/session starts the server-side session;
 * the cookie is HttpOnly, so the page keeps only what the answer says.
 */
import { append, ApiError, button, field, h, inlineNote, input, messageOf, request, setChildren, signedIn, tabs, takeSignInMessage } from '/console/app.js';

function failureText(err, kind) {
  if (err instanceof ApiError && err.status === 429) {
    const wait = Number(err.retryAfter);
    const when = Number.isFinite(wait) && wait > 0 ? `in ${wait} seconds` : 'later';
    return `Too many failed sign-in attempts. Try again ${when}.`;
  }
  if (err instanceof ApiError && err.status === 401) {
    return kind === 'apikey'
      ? 'The API key is not valid. Check that it was copied whole and is not disabled or expired.'
      : 'The login name or password is not correct.';
  }
  return messageOf(err);
}

function signInForm({ kind, fields, submitLabel, feedback }) {
  const submit = button(submitLabel, { type: 'submit', icon: 'arrow-right', class: 'btn btn-primary btn-wide' });
  const form = h('form', { class: 'signin-form', novalidate: true }, fields.map((f) => f.field), submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setChildren(feedback);
    const body = {};
    for (const f of fields) {
      const v = f.control.value;
      if (!v) {
        setChildren(feedback, inlineNote('error', 'Error:', `Enter ${f.name}.`, { live: true }));
        f.control.setAttribute('aria-invalid', 'true');
        f.control.focus();
        return;
      }
      f.control.removeAttribute('aria-invalid');
      body[f.key] = f.key === 'apikey' ? v.trim() : v;
    }
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const res = await request('POST', '/console/api/session', { body });
      for (const f of fields) f.control.value = '';
      signedIn(res.data);
    } catch (err) {
      setChildren(feedback, inlineNote('error', 'Sign-in failed.', failureText(err, kind), { live: true }));
      const pw = fields.find((f) => f.secret);
      if (pw) { pw.control.value = ''; pw.control.focus(); }
    } finally {
      submit.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
  return form;
}

export async function render(container) {
  document.title = 'Sign in – iamd';
  const feedback = h('div', { class: 'signin-feedback', role: 'alert' });
  const notice = takeSignInMessage();
  const status = h('div', { role: 'status', class: 'signin-status' },
    notice?.message ? inlineNote(notice.kind === 'success' ? 'success' : 'info', notice.message) : null);

  const passwordPanel = (panel) => {
    const login = input({ name: 'login', autocomplete: 'username', autocapitalize: 'none', required: true });
    const password = input({ name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    append(panel, signInForm({
      kind: 'password', submitLabel: 'Sign in', feedback,
      fields: [
        { key: 'login', name: 'your login name', control: login, field: field('Login name', login) },
        { key: 'password', name: 'your password', control: password, secret: true, field: field('Password', password) },
      ],
    }));
  };
  const apikeyPanel = (panel) => {
    const key = input({ name: 'apikey', type: 'password', autocomplete: 'off', required: true });
    append(panel, signInForm({
      kind: 'apikey', submitLabel: 'Sign in with API key', feedback,
      fields: [{ key: 'apikey', name: 'an API key', control: key, secret: true, field: field('API key', key, { help: 'A user or service ID API key. It is sent once to start the session and not stored by the console.' }) }],
    }));
  };

  container.classList.add('signin-page');
  append(container, h('div', { class: 'signin-card' },
    h('p', { class: 'signin-eyebrow' }, 'iamd console'),
    h('h1', { class: 'signin-title', tabindex: '-1' }, 'Sign in'),
    h('p', { class: 'signin-lead' }, 'Manage service IDs, API keys, access policies and users.'),
    status,
    tabs({
      label: 'Sign-in method',
      items: [
        { id: 'password', label: 'Login name and password', render: passwordPanel },
        { id: 'apikey', label: 'API key', render: apikeyPanel },
      ],
      onSelect: () => setChildren(feedback),
    }),
    feedback));
  container.querySelector('input')?.focus();
}
