import AxeBuilder from '@axe-core/playwright';
import { Browser, BrowserContext, Page } from '@playwright/test';
import { test, expect } from './fixtures';

import { adminCli, openChat, signUp, twoPeople } from './helpers';

/** axe-core's WCAG 2.1 A and AA rules (colour contrast included), and its best practices. */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  return results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`,
  );
}

async function check(context: BrowserContext, paths: string[], label: string): Promise<void> {
  const page = await context.newPage();
  for (const path of paths) {
    await page.goto(path);
    await expect(page.locator('main')).toBeVisible();
    expect(await violations(page), `${label} ${path}`).toEqual([]);
  }
  await page.close();
}

/**
 * A browser with the app's script, and one where the page stays as the server rendered it.
 * axe itself is a script (it needs timers, which a page with JavaScript off never runs), so
 * "without JavaScript" here means the app's bundle never loads: what a browser without
 * JavaScript shows.
 */
async function contexts(browser: Browser, from: BrowserContext | undefined, colorScheme: 'light' | 'dark') {
  const storageState = from ? await from.storageState() : undefined;
  const plain = await browser.newContext({ colorScheme, storageState });
  await plain.route(/\/pkg\/.*\.(js|wasm)$/, (route) => route.abort());
  return [
    { label: `${colorScheme}, JavaScript`, context: await browser.newContext({ colorScheme, storageState }) },
    { label: `${colorScheme}, no JavaScript`, context: plain },
  ];
}

test('pages a stranger sees have no axe violations, light and dark, with and without JavaScript', async ({ browser }) => {
  for (const colorScheme of ['light', 'dark'] as const) {
    for (const { label, context } of await contexts(browser, undefined, colorScheme)) {
      await check(context, ['/login', '/signup', '/login?error=invalid_credentials'], label);
      await context.close();
    }
  }
});

test('every page a member sees has no axe violations, light and dark, with and without JavaScript', async ({ browser }) => {
  test.setTimeout(240_000);
  const { a, b, ana, bob } = await twoPeople(browser);
  expect(adminCli('grant-admin', a)).toContain(`${a} is now an admin`);
  // Something in every list: a private chat with messages, a group room, a search that finds.
  await openChat(ana, b);
  const box = ana.getByLabel('Message');
  for (const text of ['hello there', 'a **second** message', 'and a third']) {
    await box.fill(text);
    await box.press('Enter');
  }
  await expect(ana.locator('.messages .message:not(.pending)')).toHaveCount(3);
  const created = await ana.request.post('/api/create_room', { form: { title: 'Book club', visibility: 'public' } });
  const room: string = await created.json();
  await bob.close();

  const paths = [
    '/',
    '/rooms',
    '/settings',
    `/@${b}`,
    `/chat/room/${room}/`,
    `/chat/room/${room}/settings`,
    '/chat/room/public-chat/',
    '/search?q=second',
    '/search?q=nothing-matches-this',
    '/admin',
  ];
  for (const colorScheme of ['light', 'dark'] as const) {
    for (const { label, context } of await contexts(browser, ana.context(), colorScheme)) {
      await check(context, [...paths, ana.url().replace(/^https?:\/\/[^/]+/, '')], label);
      await context.close();
    }
  }
});

test('the chosen dark theme has no axe violations on a phone', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await signUp(context, `axe_${Date.now().toString(36)}`);
  await page.goto('/settings');
  await page.getByLabel('Dark', { exact: true }).check();
  await expect.poll(async () => (await page.request.get('/')).text()).toContain('data-theme="dark"');
  await check(context, ['/', '/chat/room/public-chat/', '/settings'], 'dark (chosen), 360 px');
  // With the drawer open.
  await page.goto('/rooms');
  await page.getByRole('button', { name: 'Your rooms' }).click();
  await expect(page.getByTestId('sidebar')).toBeVisible();
  expect(await violations(page), 'the open drawer').toEqual([]);
  // The quick switcher, open with matches.
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+k');
  await page.getByRole('combobox', { name: 'Go to a room or person' }).fill('pub');
  await expect(page.getByRole('option').first()).toContainText('Public chat');
  expect(await violations(page), 'the quick switcher').toEqual([]);
  await context.close();
});
