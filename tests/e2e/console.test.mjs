// The console end to end, in Debian's Chromium against a real iamd: it is
// served with a strict CSP; sign-in both ways, sign-out, CSRF; the service ID
// flow (create, assign a policy, create a key shown once, copy and download
// it, use it, lock, delete). Each page is checked with axe-core and
// photographed at 1280 and 390 px.

import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';

import {
  adminApi, assertNoProblems, capturePage, exchangeApiKey, newPage, settle, signInWithApiKey, signInWithPassword, startStack,
  uniqueName,
} from './lib/harness.mjs';

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.close();
});

const account = () => stack.server.accountId;

async function createUser({ login, password, given = 'Alice', family = 'Liddell' }) {
  const res = await adminApi(stack, 'POST', `/v1/accounts/${account()}/users`, {
    login, email: `${login}@example.com`, given_name: given, family_name: family, password,
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** The literal string is nowhere in the page: DOM text and attributes, form values, web storage, cookies readable by scripts. */
async function assertSecretGone(page, secret) {
  const html = await page.content();
  assert.ok(!html.includes(secret), 'the key value is in the page source');
  const found = await page.evaluate((s) => {
    const where = [];
    if (document.body.innerText.includes(s)) where.push('innerText');
    for (const el of document.querySelectorAll('input, textarea, select')) if (String(el.value).includes(s)) where.push(`value of ${el.name || el.id}`);
    for (const store of [localStorage, sessionStorage]) {
      for (let i = 0; i < store.length; i++) {
        const k = store.key(i);
        if (k.includes(s) || String(store.getItem(k)).includes(s)) where.push(`storage ${k}`);
      }
    }
    if (document.cookie.includes(s)) where.push('document.cookie');
    if (document.querySelector('dialog')) where.push('a dialog is still in the DOM');
    return where;
  }, secret);
  assert.deepEqual(found, [], `the key value is still visible: ${found.join(', ')}`);
}

/** After a forced garbage collection, the JavaScript heap holds no copy of the secret. */
async function assertSecretNotInHeap(page, secret) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.enable');
    for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
    const chunks = [];
    cdp.on('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => chunks.push(chunk));
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
    const snapshot = chunks.join('');
    // Search a long tail of the value: 40 characters cannot occur by chance.
    assert.ok(!snapshot.includes(secret.slice(-40)), 'a copy of the API key value is still in the page\'s JavaScript heap');
  } finally {
    await cdp.detach().catch(() => {});
  }
}

describe('iamd console', () => {
  test('is served by iamd with a strict Content-Security-Policy', async () => {
    for (const p of ['/', '/console', '/console/serviceids', '/console/serviceids/ServiceId-x/apikeys']) {
      const res = await fetch(`${stack.url}${p}`);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/, p);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, `${p}: CSP ${csp}`);
      assert.match(csp, /script-src 'self'/, `${p}: CSP ${csp}`);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${p}: CSP ${csp}`);
      const html = await res.text();
      assert.match(html, /<script type="module" src="\/console\/app\.js"><\/script>/);
      assert.doesNotMatch(html, /<script>|style=/, 'no inline script or style');
    }
    const js = await fetch(`${stack.url}/console/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const css = await fetch(`${stack.url}/console/styles.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
  });

  test('a user signs in with login name and password; a wrong password is refused; sign-out ends the session', async () => {
    const login = uniqueName('alice').toLowerCase();
    const password = 'correct horse battery staple';
    await createUser({ login, password });
    const { context, page } = await newPage(stack);
    try {
      await page.goto(`${stack.url}/`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/console/signin');
      await capturePage(page, 'signin');

      await page.getByRole('textbox', { name: 'Login name' }).fill(login);
      await page.getByRole('textbox', { name: 'Password' }).fill('not the password at all');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      const alert = page.locator('.signin-feedback[role=alert]');
      await alert.getByText('The login name or password is not correct.').waitFor();
      await capturePage(page, 'signin-error');

      await signInWithPassword(page, stack.url, login, password);
      await page.locator('#header-user').getByText('Alice Liddell').waitFor();
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === 'iamd_session');
      assert.ok(session, `iamd_session cookie: ${JSON.stringify(cookies.map((c) => c.name))}`);
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Strict');
      assert.equal(await page.evaluate(() => document.cookie.includes('iamd_session')), false, 'scripts cannot read the cookie');
      // A user without access sees the list's empty state, which says what to do next.
      await page.getByText('No service IDs yet.').waitFor();
      await capturePage(page, 'serviceids-empty');

      // A session that ends on the server sends the user back to sign in, with a
      // message, and then to the page they asked for.
      const first = `iamd_session=${session.value}`;
      const csrf = (await (await fetch(`${stack.url}/console/api/session`, { headers: { Cookie: first } })).json()).csrf_token;
      const ended = await fetch(`${stack.url}/console/api/session`, { method: 'DELETE', headers: { Cookie: first, 'X-CSRF-Token': csrf } });
      assert.equal(ended.status, 204);
      await page.getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByText('Your session has ended. Sign in again to continue.').waitFor();
      await capturePage(page, 'signin-session-ended');
      await page.getByRole('textbox', { name: 'Login name' }).fill(login);
      await page.getByRole('textbox', { name: 'Password' }).fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
      const again = (await context.cookies()).find((c) => c.name === 'iamd_session');
      assert.notEqual(again.value, session.value, 'a new session, a new cookie value');

      const cookieHeader = `iamd_session=${again.value}`;
      const before = await fetch(`${stack.url}/console/api/session`, { headers: { Cookie: cookieHeader } });
      assert.equal(before.status, 200);
      const who = await before.json();
      assert.equal(who.login, login);
      assert.equal(who.account_id, account());
      assert.equal(typeof who.csrf_token, 'string');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByText('You have signed out.').waitFor();
      const afterSignOut = await fetch(`${stack.url}/console/api/session`, { headers: { Cookie: cookieHeader } });
      assert.equal(afterSignOut.status, 401, 'the old cookie no longer opens a session');
      const api = await fetch(`${stack.url}/v1/serviceids?account_id=${account()}`, { headers: { Cookie: cookieHeader } });
      assert.equal(api.status, 401, 'nor does it authorize API calls');
      // Back in the app, a deep link asks to sign in again.
      await page.goto(`${stack.url}/console/users`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assertNoProblems(page);
    } finally {
      await context.close();
    }
  });

  test('a state-changing call without the CSRF header is refused', async () => {
    const res = await fetch(`${stack.url}/console/api/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ apikey: stack.server.apikey }),
    });
    assert.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie').split(';')[0];
    const session = await res.json();
    const body = JSON.stringify({ account_id: account(), name: uniqueName('csrf') });
    const without = await fetch(`${stack.url}/v1/serviceids`, { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body });
    assert.equal(without.status, 403, 'no X-CSRF-Token');
    const wrong = await fetch(`${stack.url}/v1/serviceids`, { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json', 'X-CSRF-Token': 'x'.repeat(43) }, body });
    assert.equal(wrong.status, 403, 'a wrong X-CSRF-Token');
    const right = await fetch(`${stack.url}/v1/serviceids`, { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token }, body });
    assert.equal(right.status, 201, await right.text());
    const out = await fetch(`${stack.url}/console/api/session`, { method: 'DELETE', headers: { Cookie: cookie, 'X-CSRF-Token': session.csrf_token } });
    assert.equal(out.status, 204);
  });

  test('with an API key: create a service ID, assign access, create a key shown once, lock, delete', async () => {
    const { context, page } = await newPage(stack);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
    try {
      await signInWithApiKey(page, stack.url, stack.server.apikey);
      await capturePage(page, 'serviceids');

      // Create
      const name = uniqueName('billing-app');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const create = page.getByRole('dialog', { name: 'Create service ID' });
      await create.waitFor();
      await create.getByRole('textbox', { name: 'Name' }).fill(name);
      await create.getByRole('textbox', { name: 'Description' }).fill('Billing batch jobs');
      await capturePage(page, 'serviceid-create-dialog');
      await create.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { level: 1, name }).waitFor();
      await page.getByRole('status').getByText(`Service ID "${name}" created.`).waitFor();
      const sidId = decodeURIComponent(new URL(page.url()).pathname.split('/')[3]);
      const sid = (await adminApi(stack, 'GET', `/v1/serviceids/${sidId}`)).body;
      assert.equal(sid.name, name);
      assert.equal(sid.description, 'Billing batch jobs');
      await capturePage(page, 'serviceid-details');

      // Assign access: Viewer on IAM Identity, all resources
      await page.getByRole('tab', { name: 'Access policies' }).click();
      await page.getByText(`${name} has no access yet.`).waitFor();
      assert.equal(new URL(page.url()).pathname, `/console/serviceids/${sidId}/access`);
      await capturePage(page, 'serviceid-access-empty');
      await page.getByRole('button', { name: 'Assign access' }).first().click();
      const assign = page.getByRole('dialog', { name: 'Assign access' });
      await assign.getByRole('combobox', { name: 'Service' }).selectOption({ label: 'IAM Identity Service (iam-identity)' });
      await assign.getByRole('radio', { name: 'All resources of IAM Identity Service' }).waitFor();
      await assign.getByRole('checkbox', { name: /^Viewer/ }).check();
      await assign.getByRole('checkbox', { name: /^Operator/ }).check();
      await capturePage(page, 'assign-access-dialog');
      await assign.getByRole('button', { name: 'Assign' }).click();
      await assign.waitFor({ state: 'detached' });
      await page.getByRole('status').getByText('Access assigned.').waitFor();
      const row = page.getByRole('row').filter({ hasText: 'IAM Identity Service' });
      await row.getByText('Viewer').waitFor();
      await row.getByText('Operator').waitFor();
      const policies = (await adminApi(stack, 'GET', `/v1/policies?account_id=${account()}&iam_id=${sid.iam_id}`)).body.policies;
      assert.equal(policies.length, 1);
      assert.deepEqual(policies[0].roles.map((r) => r.role_id).sort(),
        ['crn:v1:bluemix:public:iam::::role:Operator', 'crn:v1:bluemix:public:iam::::role:Viewer']);
      const attrs = Object.fromEntries(policies[0].resources[0].attributes.map((a) => [a.name, a.value]));
      assert.deepEqual(attrs, { accountId: account(), serviceName: 'iam-identity' });
      await capturePage(page, 'serviceid-access');

      // API keys: create one that expires, shown once
      await page.getByRole('tab', { name: 'API keys' }).click();
      await page.getByText(`${name} has no API keys.`).waitFor();
      await capturePage(page, 'serviceid-apikeys-empty');
      await page.getByRole('tabpanel').getByRole('button', { name: 'Create', exact: true }).click();
      const keyDialog = page.getByRole('dialog', { name: 'Create API key' });
      await keyDialog.getByRole('textbox', { name: 'Name' }).fill('billing-key-1');
      await keyDialog.getByRole('textbox', { name: 'Description' }).fill('For the nightly run');
      await keyDialog.getByRole('radio', { name: 'Expires at a date and time' }).check();
      await keyDialog.getByLabel('Expires at', { exact: true }).fill('2031-01-15T12:30');
      await capturePage(page, 'apikey-create-dialog');
      await keyDialog.getByRole('button', { name: 'Create' }).click();

      const once = page.getByRole('dialog', { name: 'API key successfully created' });
      await once.waitFor();
      await once.getByText('It cannot be shown again').waitFor();
      const value = await once.getByRole('textbox', { name: 'API key value' }).inputValue();
      assert.match(value, /^iamd_[0-9A-Za-z]{60,}$/, `a key value: ${value.slice(0, 8)}…`);
      await capturePage(page, 'apikey-once-dialog');

      await once.getByRole('button', { name: 'Copy' }).click();
      await once.getByText('Copied to the clipboard.').waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), value, 'Copy put the key on the clipboard');

      const [download] = await Promise.all([page.waitForEvent('download'), once.getByRole('button', { name: 'Download' }).click()]);
      assert.equal(download.suggestedFilename(), 'apikey.json');
      const file = JSON.parse(await fsp.readFile(await download.path(), 'utf8'));
      assert.deepEqual(Object.keys(file).sort(), ['apikey', 'createdAt', 'description', 'name']);
      assert.equal(file.apikey, value);
      assert.equal(file.name, 'billing-key-1');
      assert.equal(file.description, 'For the nightly run');
      assert.match(file.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d/);

      // The key works: exchange it for a token as the service ID.
      const token = await exchangeApiKey(stack, value);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      const claims = JSON.parse(Buffer.from(token.body.access_token.split('.')[1], 'base64url').toString('utf8'));
      assert.equal(claims.iam_id, sid.iam_id);

      // Closing the dialog removes the value from the page.
      await once.getByRole('button', { name: 'Close', exact: true }).last().click();
      await once.waitFor({ state: 'detached' });
      await page.getByRole('row').filter({ hasText: 'billing-key-1' }).waitFor();
      await settle(page);
      await assertSecretGone(page, value);
      await assertSecretNotInHeap(page, value);

      // The list shows created, expiry, last use and use count (the exchange above).
      const keyRow = page.getByRole('row').filter({ hasText: 'billing-key-1' });
      await keyRow.getByText('Active').waitFor();
      assert.match(await keyRow.innerText(), /Jan 15, 2031/);
      const cells = await keyRow.locator('td').allInnerTexts();
      assert.ok(cells.includes('1'), `use count 1 after one exchange: ${JSON.stringify(cells)}`);
      await capturePage(page, 'serviceid-apikeys');

      // Disable the key from its menu: confirmed, then the token exchange fails.
      await keyRow.getByRole('button', { name: 'Actions for API key billing-key-1' }).click();
      await page.getByRole('menuitem', { name: 'Disable' }).click();
      const disable = page.getByRole('dialog', { name: 'Disable API key' });
      await disable.getByText('billing-key-1').waitFor();
      await disable.getByRole('button', { name: 'Disable' }).click();
      await keyRow.getByText('Disabled').waitFor();
      assert.equal((await exchangeApiKey(stack, value)).status, 400, 'a disabled key gets no token');

      // A locked key cannot be deleted from the menu; unlocked, it can (confirmed by name).
      await keyRow.getByRole('button', { name: 'Actions for API key billing-key-1' }).click();
      await page.getByRole('menuitem', { name: 'Lock' }).click();
      await keyRow.getByText('Locked').waitFor();
      await keyRow.getByRole('button', { name: 'Actions for API key billing-key-1' }).click();
      assert.equal(await page.getByRole('menuitem', { name: 'Delete' }).getAttribute('aria-disabled'), 'true', 'Delete is disabled on a locked key');
      await page.getByRole('menuitem', { name: 'Unlock' }).click();
      await keyRow.getByText('Locked').waitFor({ state: 'detached' });
      await keyRow.getByRole('button', { name: 'Actions for API key billing-key-1' }).click();
      await page.getByRole('menuitem', { name: 'Delete' }).click();
      const delKey = page.getByRole('dialog', { name: 'Delete API key' });
      await delKey.getByText('billing-key-1').waitFor();
      await delKey.getByRole('button', { name: 'Delete' }).click();
      await page.getByText(`${name} has no API keys.`).waitFor();
      assert.equal((await adminApi(stack, 'GET', `/v1/apikeys?account_id=${account()}&iam_id=${sid.iam_id}`)).body.apikeys.length, 0);

      // Lock the service ID: every change control is disabled, with a message.
      await page.getByRole('button', { name: 'Lock', exact: true }).click();
      await page.getByRole('status').getByText(`Service ID "${name}" locked.`).waitFor();
      assert.equal((await adminApi(stack, 'GET', `/v1/serviceids/${sidId}`)).body.locked, true);
      await page.getByText('This service ID is locked').first().waitFor();
      assert.equal(await page.getByRole('button', { name: 'Delete', exact: true }).isDisabled(), true, 'Delete is disabled');
      assert.equal(await page.getByRole('tabpanel').getByRole('button', { name: 'Create', exact: true }).isDisabled(), true, 'Create key is disabled');
      await page.getByRole('tab', { name: 'Details' }).click();
      assert.equal(await page.getByRole('textbox', { name: 'Name' }).isDisabled(), true, 'Name is read-only');
      assert.equal(await page.getByRole('textbox', { name: 'Description' }).isDisabled(), true, 'Description is read-only');
      assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true, 'Save is disabled');
      await page.getByText('Unlock the service ID to edit it.').waitFor();
      await capturePage(page, 'serviceid-locked');
      await page.getByRole('tab', { name: 'Access policies' }).click();
      assert.equal(await page.getByRole('button', { name: 'Assign access' }).first().isDisabled(), true, 'Assign access is disabled');
      await page.getByRole('row').filter({ hasText: 'IAM Identity Service' }).getByRole('button').click();
      assert.equal(await page.getByRole('menuitem', { name: 'Remove' }).getAttribute('aria-disabled'), 'true', 'Remove is disabled');
      await page.keyboard.press('Escape');
      // The server refuses changes too; the console shows its message.
      const put = await adminApi(stack, 'PUT', `/v1/serviceids/${sidId}`, { name: 'renamed' });
      assert.ok(put.status >= 400, `a locked service ID cannot be changed: ${put.status}`);

      // Unlock and delete, with a confirmation that names it.
      await page.getByRole('button', { name: 'Unlock', exact: true }).click();
      await page.getByRole('status').getByText(`Service ID "${name}" unlocked.`).waitFor();
      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete service ID' });
      await confirm.getByText(name, { exact: true }).waitFor();
      await capturePage(page, 'serviceid-delete-dialog');
      await confirm.getByRole('button', { name: 'Delete service ID' }).click();
      await page.getByRole('heading', { level: 1, name: 'Service IDs' }).waitFor();
      await page.getByRole('status').getByText(`Service ID "${name}" deleted.`).waitFor();
      assert.equal((await adminApi(stack, 'GET', `/v1/serviceids/${sidId}`)).status, 404);
      assertNoProblems(page);
    } finally {
      await context.close();
    }
  });
});
