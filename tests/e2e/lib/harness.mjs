// The e2e harness: a real iamd (tests/api/lib/server.mjs: free loopback port,
// temporary data dir, bootstrap key), Debian's Chromium driven by
// playwright-core, axe-core checks, screenshots, and small API helpers that
// talk to iamd directly (never through the browser).
//
// IAMD_E2E_PROXY=1 puts tests/e2e/lib/devproxy.mjs in front of iamd (for a
// binary built without the console's session API); the suite normally runs
// against iamd itself.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { startServer, stopAndCheck } from '../../api/lib/server.mjs';
import { startDevProxy } from './devproxy.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const axeSource = fs.readFileSync(path.join(here, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export const DESKTOP = { width: 1280, height: 900 };
export const MOBILE = { width: 390, height: 844 };

/** Where screenshots go: $IAMD_TEST_OUTPUT, else <repo>/test-output/e2e. */
export const outputDir = path.resolve(process.env.IAMD_TEST_OUTPUT || path.join(repoRoot, 'test-output', 'e2e'));

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--js-flags=--expose-gc',
];

/**
 * Starts iamd (and the dev proxy when asked) and Chromium. Returns
 * {server, url (the console's origin), apiUrl (iamd), browser, close()}.
 * close() also fails the test file when iamd crashed or a sanitizer spoke.
 */
export async function startStack() {
  const server = await startServer();
  let proxy = null;
  let browser = null;
  try {
    if (process.env.IAMD_E2E_PROXY === '1') proxy = await startDevProxy({ upstream: server.url });
    // Playwright makes and removes its own temporary profile (--user-data-dir
    // is refused by launch(); each context is a fresh incognito-like profile).
    browser = await chromium.launch({
      executablePath: process.env.IAMD_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (err) {
    await proxy?.close();
    await stopAndCheck(server).catch(() => {});
    throw err;
  }
  await fsp.mkdir(outputDir, { recursive: true });
  return {
    server,
    url: proxy ? proxy.url : server.url,
    apiUrl: server.url,
    browser,
    async close() {
      await browser?.close().catch(() => {});
      await proxy?.close();
      await stopAndCheck(server);
    },
  };
}

/**
 * A new browser context and page at desktop size. Console errors and CSP
 * violations are collected on page.problems (checked by assertNoProblems).
 */
export async function newPage(stack, { viewport = DESKTOP, acceptDownloads = true } = {}) {
  const context = await stack.browser.newContext({ viewport, acceptDownloads, reducedMotion: 'reduce', locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    const text = msg.text();
    // Chromium logs every 4xx answer as a console error: the boot-time session
    // probe (401 when signed out), /v1/services for non-operators (403, the
    // console falls back to the built-in services), errors a test provokes.
    // Those are answers the console handles; JavaScript errors and CSP
    // violations are not.
    if (msg.type() === 'error' && /^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
    if (msg.type() === 'error' || /Content Security Policy/i.test(text)) page.problems.push(`console ${msg.type()}: ${text}`);
  });
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
  return { context, page };
}

/** Fails when the page logged errors or CSP violations (409s and 4xx the test provoked are not logged as errors). */
export function assertNoProblems(page, allow = []) {
  const left = page.problems.filter((p) => !allow.some((re) => re.test(p)));
  assert.deepEqual(left, [], `browser problems:\n${left.join('\n')}`);
}

/** Runs axe-core on the page; fails on serious or critical violations. */
export async function checkA11y(page, name) {
  // axe is evaluated through the DevTools protocol: the console's CSP
  // (script-src 'self') rightly refuses an injected inline <script>.
  // (page.addScriptTag({path}) injects exactly that, and is refused.)
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => window.axe.run(document, {
    resultTypes: ['violations'],
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.slice(0, 5).map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(0, 3).join(' ')}`).join('\n')}`).join('\n');
  assert.equal(bad.length, 0, `axe-core on "${name}" (${page.viewportSize()?.width} px):\n${text}`);
  return result.violations;
}

/** Saves a full-page screenshot <name>-<width>.png in the output directory. */
export async function screenshot(page, name) {
  const file = path.join(outputDir, `${name}-${page.viewportSize().width}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

/**
 * Checks a page at 1280 px and at 390 px (or the widths given): axe-core and a
 * screenshot at each width. The viewport is restored afterwards.
 */
export async function capturePage(page, name, { widths = [DESKTOP, MOBILE] } = {}) {
  const original = page.viewportSize();
  for (const vp of widths) {
    if (page.viewportSize().width !== vp.width) await page.setViewportSize(vp);
    await settle(page);
    await checkA11y(page, name);
    await screenshot(page, name);
  }
  if (page.viewportSize().width !== original.width) {
    await page.setViewportSize(original);
    await settle(page);
  }
}

/** Waits for the console to finish loading what it shows (no "Loading…" left). */
export async function settle(page) {
  await page.waitForFunction(() => !document.querySelector('.loading') && !document.querySelector('[aria-busy="true"]'), null, { timeout: 10_000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/* ------------------------------------------------------------ sign-in helpers */

export async function signInWithApiKey(page, url, apikey) {
  await page.goto(`${url}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('tab', { name: 'API key' }).click();
  await page.getByRole('textbox', { name: 'API key' }).fill(apikey);
  await page.getByRole('button', { name: 'Sign in with API key' }).click();
  await page.getByRole('heading', { level: 1, name: 'Service IDs' }).waitFor();
}

export async function signInWithPassword(page, url, login, password) {
  await page.goto(`${url}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('textbox', { name: 'Login name' }).fill(login);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Service IDs' }).waitFor();
}

/* ------------------------------------------------------------ API helpers (node → iamd) */

/** One call to iamd as the bootstrap administrator (HTTP Basic apikey:<key>). */
export async function adminApi(stack, method, apiPath, body) {
  const res = await fetch(`${stack.apiUrl}${apiPath}`, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`apikey:${stack.server.apikey}`).toString('base64')}`,
      Accept: 'application/json',
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: res.status, body: json, text, headers: res.headers };
}

/** Exchanges an API key for a token at /identity/token; returns the response. */
export async function exchangeApiKey(stack, apikey) {
  const res = await fetch(`${stack.apiUrl}/identity/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

let counter = 0;
/** A name unique in this run. */
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
