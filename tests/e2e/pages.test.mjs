// The console's other pages end to end, in Debian's Chromium against a real
// iamd: users (invite, disable, remove), access groups (members, policies),
// My API keys, settings, Explain access, the server's error messages, and
// search, sort and pages of the service ID list.
// Each page is checked with axe-core and photographed at 1280 and 390 px.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { adminApi, assertNoProblems, capturePage, newPage, settle, signInWithApiKey, startStack, uniqueName } from './lib/harness.mjs';

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.close();
});

const account = () => stack.server.accountId;

describe('iamd console pages', () => {
  test('users, access groups, my API keys, settings and explain access', async () => {
    const { context, page } = await newPage(stack);
    try {
      await signInWithApiKey(page, stack.url, stack.server.apikey);

      // Users: invite, open, disable.
      await page.getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
      await capturePage(page, 'users');
      const login = uniqueName('bob').toLowerCase();
      await page.getByRole('button', { name: 'Invite user' }).first().click();
      const invite = page.getByRole('dialog', { name: 'Invite user' });
      await invite.getByRole('textbox', { name: 'Login name' }).fill(login);
      await invite.getByRole('textbox', { name: 'Email' }).fill(`${login}@example.com`);
      await invite.getByRole('textbox', { name: 'First name' }).fill('Bob');
      await invite.getByRole('textbox', { name: 'Last name' }).fill('Builder');
      await capturePage(page, 'user-invite-dialog');
      await invite.getByRole('button', { name: 'Invite' }).click();
      await page.getByRole('heading', { level: 1, name: 'Bob Builder' }).waitFor();
      await capturePage(page, 'user-details');
      const bobId = decodeURIComponent(new URL(page.url()).pathname.split('/')[3]);
      await page.getByRole('tab', { name: 'API keys' }).click();
      await page.getByText('Bob Builder has no API keys.').waitFor();
      await capturePage(page, 'user-apikeys');
      await page.getByRole('button', { name: 'Disable', exact: true }).click();
      await page.getByRole('dialog', { name: 'Disable user' }).getByRole('button', { name: 'Disable' }).click();
      await page.locator('.page-title-group').getByText('Disabled').waitFor();
      assert.equal((await adminApi(stack, 'GET', `/v1/accounts/${account()}/users/${bobId}`)).body.state, 'DISABLED');
      await page.getByRole('button', { name: 'Enable', exact: true }).click();
      await page.locator('.page-title-group').getByText('Active').waitFor();

      // Access groups: create, add Bob, assign the group a policy.
      await page.getByRole('link', { name: 'Access groups' }).click();
      await page.getByRole('heading', { level: 1, name: 'Access groups' }).waitFor();
      await capturePage(page, 'groups');
      const groupName = uniqueName('Developers');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const gd = page.getByRole('dialog', { name: 'Create access group' });
      await gd.getByRole('textbox', { name: 'Name' }).fill(groupName);
      await gd.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { level: 1, name: groupName }).waitFor();
      await page.getByText('This group has no members.').waitFor();
      await page.getByRole('tabpanel').getByRole('button', { name: 'Add members' }).first().click();
      const add = page.getByRole('dialog', { name: 'Add members' });
      await add.getByRole('checkbox', { name: new RegExp(`Bob Builder \\(${login}\\)`) }).check();
      await capturePage(page, 'group-add-members-dialog');
      await add.getByRole('button', { name: 'Add' }).click();
      await page.getByRole('row').filter({ hasText: 'Bob Builder' }).waitFor();
      await capturePage(page, 'group-members');
      await page.getByRole('tab', { name: 'Access policies' }).click();
      await page.getByRole('tabpanel').getByRole('button', { name: 'Assign access' }).first().click();
      const ga = page.getByRole('dialog', { name: 'Assign access' });
      await ga.getByRole('combobox', { name: 'Service' }).selectOption({ label: 'User Management (user-management)' });
      await ga.getByRole('checkbox', { name: /^Viewer/ }).check();
      await ga.getByRole('button', { name: 'Assign' }).click();
      await page.getByRole('row').filter({ hasText: 'User Management' }).waitFor();
      await capturePage(page, 'group-access');
      // Remove a second policy again, confirmed.
      await page.getByRole('tabpanel').getByRole('button', { name: 'Assign access' }).first().click();
      await ga.getByRole('combobox', { name: 'Service' }).selectOption({ label: 'All IAM account management services' });
      await ga.getByRole('checkbox', { name: /^Viewer/ }).check();
      await ga.getByRole('button', { name: 'Assign' }).click();
      const second = page.getByRole('row').filter({ hasText: 'All IAM account management services' });
      await second.getByRole('button').click();
      await page.getByRole('menuitem', { name: 'Remove' }).click();
      const rmPolicy = page.getByRole('dialog', { name: 'Remove access policy' });
      await rmPolicy.getByText(groupName).first().waitFor();
      await rmPolicy.getByRole('button', { name: 'Remove' }).click();
      await second.waitFor({ state: 'detached' });
      await page.getByRole('row').filter({ hasText: 'User Management' }).waitFor();

      // My API keys
      await page.getByRole('link', { name: 'My API keys' }).click();
      await page.getByRole('heading', { level: 1, name: 'My API keys' }).waitFor();
      await page.getByRole('row').filter({ hasText: 'bootstrap-admin' }).waitFor();
      await capturePage(page, 'my-apikeys');

      // Settings: change the idle timeout.
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
      await settle(page);
      await capturePage(page, 'settings');
      await page.getByRole('spinbutton', { name: /Session idle timeout/ }).fill('1800');
      await page.getByRole('button', { name: 'Save session settings' }).click();
      await page.getByRole('status').getByText('Session settings saved.').waitFor();
      const settings = (await adminApi(stack, 'GET', `/v1/accounts/${account()}/settings/identity`)).body;
      assert.equal(settings.session_invalidation_in_seconds, '1800');
      await page.getByRole('spinbutton', { name: /Session idle timeout/ }).fill('12');
      await page.getByRole('button', { name: 'Save session settings' }).click();
      await page.getByText('Session idle timeout must be a whole number from 900 to 7200.').waitFor();

      // Explain access: Bob may read users through his group, but not remove them.
      await page.getByRole('link', { name: 'Explain access' }).click();
      await page.getByRole('heading', { level: 1, name: 'Explain access' }).waitFor();
      await settle(page);
      await capturePage(page, 'explain');
      await page.getByRole('combobox', { name: 'Subject' }).selectOption({ label: `Bob Builder (${login})` });
      await page.getByRole('combobox', { name: 'Action' }).fill('user-management.user.read');
      await page.getByRole('button', { name: 'Explain' }).click();
      await page.getByRole('heading', { name: 'Permitted', exact: true }).waitFor();
      const granted = page.getByRole('table', { name: 'Policies that grant the action' });
      await granted.getByRole('link', { name: groupName }).waitFor();
      await granted.getByText('Viewer').waitFor();
      await capturePage(page, 'explain-permitted');
      await page.getByRole('combobox', { name: 'Action' }).fill('user-management.user.delete');
      await page.getByRole('button', { name: 'Explain' }).click();
      await page.getByRole('heading', { name: 'Not permitted' }).waitFor();
      await page.getByRole('table', { name: 'Policies that almost grant the action' }).getByText(/user-management\.user\.delete/).waitFor();
      await capturePage(page, 'explain-denied');

      // Remove Bob: confirmed by name.
      await page.goto(`${stack.url}/console/users/${bobId}`);
      await page.getByRole('heading', { level: 1, name: 'Bob Builder' }).waitFor();
      await page.getByRole('button', { name: 'Remove' }).click();
      const rm = page.getByRole('dialog', { name: 'Remove user' });
      await rm.getByText('Bob Builder').waitFor();
      await rm.getByRole('button', { name: 'Remove user' }).click();
      await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
      assert.equal((await adminApi(stack, 'GET', `/v1/accounts/${account()}/users/${bobId}`)).status, 404);
      assertNoProblems(page);
    } finally {
      await context.close();
    }
  });

  test('the server\'s error message is shown when an action fails', async () => {
    const { context, page } = await newPage(stack);
    try {
      await signInWithApiKey(page, stack.url, stack.server.apikey);
      const name = uniqueName('dup-group');
      assert.equal((await adminApi(stack, 'POST', `/v2/groups?account_id=${account()}`, { name })).status, 201);
      await page.getByRole('link', { name: 'Access groups' }).click();
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const gd = page.getByRole('dialog', { name: 'Create access group' });
      await gd.getByRole('textbox', { name: 'Name' }).fill(name);
      await gd.getByRole('button', { name: 'Create' }).click();
      // The dialog stays open with iamd's own message (409 conflict).
      const err = gd.getByRole('alert');
      await err.getByText(/Error:/).waitFor();
      const text = await err.innerText();
      assert.match(text, /name/i, `the server's message: ${text}`);
      await capturePage(page, 'error-in-dialog');
      await gd.getByRole('button', { name: 'Cancel' }).click();
      await gd.waitFor({ state: 'detached' });
      // An unknown page and an unknown service ID say so.
      await page.goto(`${stack.url}/console/serviceids/ServiceId-00000000-0000-4000-8000-000000000000`);
      await page.getByText('This service ID does not exist or was deleted.').waitFor();
      await page.goto(`${stack.url}/console/nowhere`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      assertNoProblems(page);
    } finally {
      await context.close();
    }
  });

  test('search, sort and pages of the service ID list', async () => {
    const prefix = uniqueName('paged');
    for (let i = 0; i < 23; i++) {
      const res = await adminApi(stack, 'POST', '/v1/serviceids', { account_id: account(), name: `${prefix}-${String(i).padStart(2, '0')}` });
      assert.equal(res.status, 201);
    }
    const { context, page } = await newPage(stack);
    try {
      await signInWithApiKey(page, stack.url, stack.server.apikey);
      const search = page.getByRole('searchbox', { name: 'Search service IDs by name' });
      await search.fill(prefix);
      await search.press('Enter');
      // Every row is one of ours: the filter applied.
      await page.waitForFunction((p) => {
        const rows = [...document.querySelectorAll('tbody tr')];
        return rows.length === 20 && rows.every((r) => r.querySelector('th').textContent.startsWith(p));
      }, prefix);
      await page.getByRole('link', { name: `${prefix}-00` }).waitFor();
      await page.getByText('Items 1–20').waitFor();
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.getByRole('link', { name: `${prefix}-22` }).waitFor();
      await page.getByText('Items 21–23').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
      await page.getByRole('button', { name: 'Previous page' }).click();
      await page.getByRole('link', { name: `${prefix}-00` }).waitFor();
      // Sort by name, descending: the last one first.
      await page.getByRole('button', { name: 'Name', exact: true }).click();
      await page.locator('th[aria-sort="descending"]').waitFor();
      await page.getByRole('link', { name: `${prefix}-22` }).waitFor();
      const first = await page.locator('tbody tr').first().getByRole('link').innerText();
      assert.equal(first, `${prefix}-22`);
      await capturePage(page, 'serviceids-search');
      await search.fill(`${prefix}-nothing`);
      await page.getByText(`No service ID name contains "${prefix}-nothing".`).waitFor();
      assertNoProblems(page);
    } finally {
      await context.close();
    }
  });
});
