// Keyboard only: sign in and create a service ID with Tab, typing and Enter,
// never the mouse; every focused control shows a visible focus indicator;
// Escape closes dialogs and focus returns to what opened them. Also the
// responsive navigation at 390 px.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { MOBILE, adminApi, assertNoProblems, capturePage, newPage, startStack, uniqueName } from './lib/harness.mjs';

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.close();
});

/** What has the focus: its accessible-ish name, tag and whether a focus ring is drawn. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { name: '', tag: 'BODY', ring: false };
    const labelled = el.labels?.[0]?.textContent || el.getAttribute('aria-label') || el.textContent || '';
    const style = getComputedStyle(el);
    const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1) || /inset/.test(style.boxShadow) || style.boxShadow !== 'none';
    return { name: labelled.trim().replace(/\s+/g, ' '), tag: el.tagName, ring };
  });
}

/** Presses Tab until the focused element's name matches; fails after `max` presses. */
async function tabTo(page, pattern, max = 25) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (pattern.test(f.name)) {
      assert.ok(f.ring, `the focused ${f.tag} "${f.name}" shows a focus indicator`);
      return f;
    }
  }
  throw new Error(`Tab never reached ${pattern}`);
}

describe('keyboard-only use', () => {
  test('sign in and create a service ID with Tab and Enter only', async () => {
    const login = uniqueName('kbd').toLowerCase();
    const password = 'keyboard only password';
    const created = await adminApi(stack, 'POST', `/v1/accounts/${stack.server.accountId}/users`, {
      login, email: `${login}@example.com`, given_name: 'Kim', family_name: 'Board', password,
    });
    assert.equal(created.status, 201, created.text);
    // Kim administers IAM Identity, so the new service ID shows in the list.
    const policy = await adminApi(stack, 'POST', '/v1/policies', {
      type: 'access',
      subjects: [{ attributes: [{ name: 'iam_id', value: created.body.iam_id }] }],
      roles: [{ role_id: 'crn:v1:bluemix:public:iam::::role:Administrator' }],
      resources: [{ attributes: [{ name: 'accountId', value: stack.server.accountId }, { name: 'serviceName', value: 'iam-identity' }] }],
    });
    assert.equal(policy.status, 201, policy.text);

    const { context, page } = await newPage(stack);
    try {
      await page.goto(`${stack.url}/`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      // The first field has the focus on arrival.
      assert.equal((await focused(page)).name, 'Login name');
      await page.keyboard.type(login);
      await tabTo(page, /^Password$/);
      await page.keyboard.type(password);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Service IDs' }).waitFor();
      // After the navigation the page's heading has the focus.
      assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1');

      await tabTo(page, /^Create$/);
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Create service ID' });
      await dialog.waitFor();
      assert.equal((await focused(page)).name, 'Name', 'the dialog focuses its first field');
      // Escape closes it and gives the focus back to Create.
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      assert.equal((await focused(page)).name, 'Create');
      await page.keyboard.press('Enter');
      await dialog.waitFor();

      const name = uniqueName('keyboard-app');
      await page.keyboard.type(name);
      await tabTo(page, /^Description/);
      await page.keyboard.type('Made without a mouse');
      await tabTo(page, /^Create$/);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name }).waitFor();
      const list = await adminApi(stack, 'GET', `/v1/serviceids?account_id=${stack.server.accountId}&name=${encodeURIComponent(name)}`);
      assert.equal(list.body.serviceids.length, 1);
      assert.equal(list.body.serviceids[0].description, 'Made without a mouse');

      // Tabs follow the ARIA pattern: arrow keys move between them.
      await tabTo(page, /^Details$/);
      await page.keyboard.press('ArrowRight');
      assert.equal((await focused(page)).name, 'Access policies');
      await page.getByText(`${name} has no access yet.`).waitFor();
      assertNoProblems(page);
    } finally {
      await context.close();
    }
  });

  test('at 390 px the navigation is behind a menu button', async () => {
    const { context, page } = await newPage(stack, { viewport: MOBILE });
    try {
      await page.goto(`${stack.url}/`);
      await page.getByRole('tab', { name: 'API key' }).click();
      await page.getByRole('textbox', { name: 'API key' }).fill(stack.server.apikey);
      await page.getByRole('button', { name: 'Sign in with API key' }).click();
      await page.getByRole('heading', { level: 1, name: 'Service IDs' }).waitFor();
      const nav = page.getByRole('navigation', { name: 'Manage access (IAM)' });
      assert.equal(await nav.isVisible(), false, 'the side navigation is hidden');
      const menu = page.getByRole('button', { name: 'Menu' });
      await menu.click();
      await nav.getByRole('link', { name: 'Users' }).waitFor();
      assert.equal(await menu.getAttribute('aria-expanded'), 'true');
      await capturePage(page, 'nav-open', { widths: [MOBILE] });
      await page.keyboard.press('Escape');
      assert.equal(await nav.isVisible(), false, 'Escape closes it');
      await menu.click();
      await nav.getByRole('link', { name: 'Access groups' }).click();
      await page.getByRole('heading', { level: 1, name: 'Access groups' }).waitFor();
      assert.equal(await nav.isVisible(), false, 'choosing a page closes it');
      // Nothing is wider than the screen.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
      assertNoProblems(page);
    } finally {
      await context.close();
    }
  });
});
