import { Page } from '@playwright/test';
import { test, expect } from './fixtures';

import { openChat, roomOfTheirOwn, signUp, twoPeople } from './helpers';

async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(page.locator('.messages .message:not(.pending)').filter({ hasText: text })).toHaveCount(1);
}

test('messages from one person in a row share one name and avatar, under the day they were sent', async ({ browser }) => {
  const { a, b, ana, bob } = await twoPeople(browser);
  await openChat(ana, b);
  await openChat(bob, a);
  await send(ana, 'first of three');
  await send(ana, 'second of three');
  await send(ana, 'third of three');
  await expect(bob.locator('.messages .message').filter({ hasText: 'third of three' })).toHaveCount(1);
  await send(bob, 'an answer');

  for (const page of [ana, bob]) {
    const messages = page.locator('.messages .message:not(.pending)');
    await expect(messages).toHaveCount(4);
    // Only the first of Ana's three, and Bob's, show a name and an avatar.
    await expect(page.locator('.messages .message:not(.continued)')).toHaveCount(2);
    await expect(messages.nth(1)).toHaveClass(/continued/);
    await expect(messages.nth(2)).toHaveClass(/continued/);
    await expect(messages.nth(0).locator('.author')).toBeVisible();
    await expect(messages.nth(1).locator('.avatar')).toBeHidden();
    // One separator, above the first message of the day.
    await expect(page.locator('.messages .day')).toHaveText(['Today']);
    // The exact time is on hover.
    await expect(messages.nth(0).locator('time')).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  }
  // The same grouping without JavaScript, from the server's page.
  const plain = await browser.newContext({ javaScriptEnabled: false, storageState: await bob.context().storageState() });
  const page = await plain.newPage();
  await page.goto(bob.url());
  await expect(page.locator('.messages .message.continued')).toHaveCount(2);
  await expect(page.locator('.messages .day')).toHaveText(['Today']);
  await plain.close();
});

test('a new room says how to start; a message just sent reads "just now"; a room loading shows its shape', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const ana = await signUp(browser, `ana_${suffix}`);
  await roomOfTheirOwn(ana, `Quiet ${suffix}`);
  await expect(ana.getByTestId('room-empty')).toHaveText('No messages yet. Write the first one below.');

  await send(ana, `hello ${suffix}`);
  await expect(ana.getByTestId('room-empty')).toHaveCount(0);
  const time = ana.locator('.messages .message').filter({ hasText: `hello ${suffix}` }).locator('time');
  await expect(time).toHaveText('just now');
  await expect(time).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);

  // A slow network: going to another room shows grey message shapes until it arrives.
  await ana.route('**/api/room*', async (route) => {
    await new Promise((done) => setTimeout(done, 1500));
    await route.continue();
  });
  await ana.getByRole('link', { name: 'Public chat' }).first().click();
  await expect(ana.getByRole('status', { name: 'Loading the room…' })).toBeVisible();
  await expect(ana.getByRole('heading', { name: 'Public chat' })).toBeVisible();
  await expect(ana.getByTestId('skeleton')).toHaveCount(0);
  await ana.context().close();
});

test('a room opened with unread messages starts at a "New messages" line; scrolled up, "Jump to latest" counts what arrives', async ({ browser }) => {
  const { a, b, ana, bob } = await twoPeople(browser);
  await openChat(ana, b);
  await send(ana, 'before you left');
  // Bob opens the chat with one message unread: the line is above it. He reads it and leaves.
  await openChat(bob, a);
  await expect(bob.locator('.messages .new-messages + .message')).toContainText('before you left');
  await bob.goto('/rooms');
  const box = ana.getByLabel('Message');
  for (let i = 1; i <= 30; i++) {
    await box.fill(`unread number ${i}`);
    await box.press('Enter');
  }
  await expect(ana.locator('.messages .message:not(.pending)')).toHaveCount(31);

  await openChat(bob, a);
  const line = bob.locator('.messages .new-messages');
  await expect(line).toHaveText('New messages');
  // The line is above the first unread message, which shows its author again, and is in view.
  const next = bob.locator('.messages .new-messages + .message');
  await expect(next).toContainText('unread number 1');
  await expect(next).not.toHaveClass(/continued/);
  await expect(line).toBeInViewport();
  const jump = bob.getByRole('button', { name: /^Jump to latest/ });
  await expect(jump).toBeVisible();
  await jump.click();
  await expect(bob.locator('.messages .message').filter({ hasText: 'unread number 30' })).toBeInViewport();
  await expect(jump).toBeHidden();
  await expect(bob.getByLabel('Message')).toBeFocused();

  // Scrolled up, new messages do not pull the reader down; the button says how many came.
  await bob.locator('.messages').evaluate((list) => (list.scrollTop = 0));
  await expect(jump).toHaveText('Jump to latest');
  await send(ana, 'one more');
  await send(ana, 'and another');
  await expect(jump).toHaveText('Jump to latest (2 new)');
  await jump.click();
  await expect(bob.locator('.messages .message').filter({ hasText: 'and another' })).toBeInViewport();
  // The line stays where the reader stopped, until the room is opened again.
  await expect(line).toHaveCount(1);
  await bob.reload();
  await expect(bob.locator('.messages .new-messages')).toHaveCount(0);
  // Or until Escape marks the room read: the line and the count of new ones go, and the
  // message box has the focus.
  await bob.goto('/rooms');
  await send(ana, 'while bob was away');
  await openChat(bob, a);
  await expect(line).toHaveCount(1);
  await bob.locator('.messages').evaluate((list) => (list.scrollTop = 0));
  await send(ana, 'arrives above the fold');
  await expect(jump).toHaveText('Jump to latest (1 new)');
  await bob.getByRole('heading', { name: a }).click();
  await bob.keyboard.press('Escape');
  await expect(line).toHaveCount(0);
  await expect(jump).toHaveText('Jump to latest');
  await expect(bob.getByLabel('Message')).toBeFocused();
});

test('Ctrl+K goes to a room or a person by typing; Alt+Down and Alt+Up move between rooms; Escape returns to the message box', async ({ browser }) => {
  const { b, ana } = await twoPeople(browser);
  const created = await ana.request.post('/api/create_room', { form: { title: 'Gardening tips', visibility: 'public' } });
  const room: string = await created.json();
  await ana.goto('/rooms');
  await expect(ana.getByTestId('sidebar').getByRole('link', { name: 'Gardening tips' })).toBeVisible();

  // Shortcuts work once the page is live: the bundle loads after the server's page is painted,
  // so a key pressed before it is not seen (a person presses it again).
  const box = ana.getByRole('combobox', { name: 'Go to a room or person' });
  await expect(async () => {
    await ana.keyboard.press('Control+k');
    await expect(box).toBeFocused({ timeout: 1000 });
  }).toPass();
  await box.fill('garden');
  await expect(ana.getByRole('option').first()).toContainText('Gardening tips');
  await box.press('Enter');
  await expect(ana).toHaveURL(new RegExp(`/chat/room/${room}/?$`));
  await expect(ana.getByRole('dialog')).toHaveCount(0);

  // A person, found by part of their name: their one-to-one chat.
  await ana.keyboard.press('Control+k');
  await box.fill(b.slice(4)); // the part only this test's two people share
  await expect(ana.getByRole('option').filter({ hasText: `@${b}` })).toBeVisible();
  await box.press('ArrowDown');
  await ana.getByRole('option').filter({ hasText: `@${b}` }).click();
  await expect(ana.getByRole('heading', { name: b })).toBeVisible();

  // Escape closes the switcher without going anywhere.
  await ana.keyboard.press('Control+k');
  await box.fill('nothing like this');
  await expect(ana.getByRole('option')).toHaveText([/Nothing matches/]);
  await box.press('Escape');
  await expect(ana.getByRole('dialog')).toHaveCount(0);
  await expect(ana.getByRole('heading', { name: b })).toBeVisible();

  // Alt+Up/Down: the rooms in the sidebar's order (rooms, then private chats).
  await ana.goto(`/chat/room/${room}/`);
  await expect(ana.getByTestId('online-count')).toHaveText(/\d+ online/); // live
  const order = await ana.getByTestId('sidebar').locator('li a').evaluateAll((links) => links.map((l) => l.getAttribute('href')));
  const at = order.findIndex((href) => href!.includes(`/chat/room/${room}`));
  await ana.locator('body').click({ position: { x: 5, y: 5 } });
  await ana.keyboard.press('Alt+ArrowDown');
  await expect(ana).toHaveURL(new RegExp(`${order[(at + 1) % order.length]!.replace(/\/$/, '')}/?$`));
  await ana.keyboard.press('Alt+ArrowUp');
  await expect(ana).toHaveURL(new RegExp(`/chat/room/${room}/?$`));
  // Escape, outside a text box, goes back to writing.
  await ana.getByRole('link', { name: 'Members' }).focus();
  await ana.keyboard.press('Escape');
  await expect(ana.getByLabel('Message')).toBeFocused();
});

test('installed or not, the chat opens offline from its service worker, says so, and reconnects when the network returns', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await signUp(context, `offline_${Date.now().toString(36)}`);
  const manifest = await page.request.get('/manifest.webmanifest');
  expect((await manifest.json()).display).toBe('standalone');
  await page.goto('/chat/room/public-chat/');
  await expect(page.getByTestId('online-count')).toHaveText(/\d+ online/);
  // The worker is installed and controls the page once it is reloaded (its files kept).
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await expect(page.getByRole('heading', { name: 'Public chat' })).toBeVisible();

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Public chat' })).toBeVisible();
  await expect(page.getByTestId('offline')).toBeVisible();
  // The network returns: the banner goes and the room is live again.
  await context.setOffline(false);
  await expect(page.getByTestId('offline')).toBeHidden();
  await expect(page.getByLabel('Message')).toBeEnabled();
  const box = page.getByLabel('Message');
  await box.fill('back online');
  await box.press('Enter');
  await expect(page.locator('.messages .message:not(.pending)').filter({ hasText: 'back online' })).toHaveCount(1);
  await context.close();
});

test('the worker keeps the directory and the 50 pages opened last for offline use, not every page ever opened', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await signUp(context, `kept_${Date.now().toString(36)}`);
  await page.goto('/');
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  for (let i = 0; i < 56; i++) await page.goto(`/rooms?visit=${i}`, { waitUntil: 'domcontentloaded' });
  const kept = () => page.evaluate(() => caches.open('pages').then((c) => c.keys()).then((keys) => keys.map((k) => { const u = new URL(k.url); return u.pathname + u.search; })));
  await expect.poll(async () => (await kept()).length).toBe(51);
  await expect.poll(async () => (await kept()).includes('/rooms?visit=55')).toBe(true);
  expect(await kept()).toContain('/');
  expect(await kept()).not.toContain('/rooms?visit=0');
  // Offline, the newest is there; the oldest is gone, and the directory stands in for it.
  await context.setOffline(true);
  await page.goto('/rooms?visit=55');
  await expect(page.getByRole('heading', { name: 'Public rooms' })).toBeVisible();
  await expect(page.getByTestId('offline')).toBeVisible();
  await page.goto('/rooms?visit=0');
  await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Public rooms' })).toBeHidden();
  await context.close();
});

test('a tab that never paints, as one opened in the background, still loads the bundle and comes alive', async ({ browser }) => {
  const { b, ana } = await twoPeople(browser);
  const context = await browser.newContext();
  // No animation frames, as in a background tab: the bundle must not wait for one.
  await context.addInitScript(() => { window.requestAnimationFrame = () => 0; });
  const bob = await context.newPage();
  await bob.goto('/login');
  await bob.getByLabel('Username').fill(b);
  await bob.getByLabel('Password').fill('correct-horse-battery');
  await bob.getByRole('button', { name: 'Log in' }).click();
  await bob.goto('/chat/room/public-chat/');
  await expect.poll(() => bob.evaluate(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('.wasm')))).toBe(true);
  await ana.goto('/chat/room/public-chat/');
  await send(ana, `heard in the background ${b}`);
  await expect(bob.locator('.messages .message').filter({ hasText: `heard in the background ${b}` })).toHaveCount(1);
  await context.close();
  await ana.context().close();
});

test('pages few visits need load on demand: opened first, one preloads its chunks; the room downloads none of them; settings fetches its own, works, and opens offline once opened', async ({ browser }) => {
  const name = `lazy_${Date.now().toString(36)}`;
  const first = await signUp(browser, name);
  // A first visit straight to such a page: the answer has the browser preload its chunks with
  // the bundle (each fetched once), and the page comes alive (results follow the box).
  await first.goto('/search?q=nothing');
  const search = () => first.evaluate(() => performance.getEntriesByType('resource')
    .filter((r) => new URL(r.name).pathname.startsWith('/pkg/search_view.')).map((r) => r.initiatorType));
  await expect.poll(search).toEqual(['link']);
  const words = first.getByLabel('Words to find');
  await expect(async () => {
    await words.fill(`quokka ${name}`);
    await expect(first).toHaveURL(/q=quokka/, { timeout: 1000 });
  }).toPass();
  const context = await browser.newContext({ storageState: await first.context().storageState() });
  await first.context().close();
  const page = await context.newPage();
  const wasm = () => page.evaluate(() => performance.getEntriesByType('resource')
    .map((r) => new URL(r.name).pathname).filter((path) => path.endsWith('.wasm')));
  // The room, first visit: the bundle alone, and the page comes alive with it (a message sent
  // from the box arrives through the socket).
  await page.goto('/chat/room/public-chat/');
  await expect.poll(wasm).toContainEqual(expect.stringMatching(/^\/pkg\/chat\.[0-9a-f]{16}\.wasm$/));
  await send(page, `alive ${name}`);
  expect(await wasm()).toEqual([expect.stringMatching(/^\/pkg\/chat\.[0-9a-f]{16}\.wasm$/)]);
  // Settings, from the menu: its chunk arrives, and the page is live (a theme applies at once).
  await page.getByRole('link', { name: 'Settings' }).first().click();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  await expect.poll(wasm).toContainEqual(expect.stringMatching(/^\/pkg\/settings_view\.[0-9a-f]{16}\.wasm$/));
  await page.getByLabel('Dark', { exact: true }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  // Opened once under the service worker, the page and its chunk are kept: offline, it opens
  // and still works.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await page.goto('/settings');
  await expect(page.getByLabel('Dark', { exact: true })).toBeChecked();
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('offline')).toBeVisible();
  await page.getByLabel('Light', { exact: true }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await context.close();
});

test('the theme follows the system until chosen, and a choice holds from the first paint, with or without JavaScript', async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: 'dark' });
  const page = await signUp(context, `theme_${Date.now().toString(36)}`);
  const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  expect(await background()).toBe('rgb(20, 23, 29)');
  await page.emulateMedia({ colorScheme: 'light' });
  expect(await background()).toBe('rgb(246, 247, 249)');

  await page.goto('/settings');
  await page.getByLabel('Dark', { exact: true }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await background()).toBe('rgb(20, 23, 29)');
  // The choice is saved: the next page's HTML already carries it, so nothing flashes.
  await expect.poll(async () => (await page.request.get('/')).text()).toContain('<html lang="en" data-theme="dark">');
  await page.goto('/rooms');
  expect(await background()).toBe('rgb(20, 23, 29)');
  const firstPaint = await page.evaluate(() => performance.getEntriesByType('paint').length);
  expect(firstPaint).toBeGreaterThan(0);

  // Without JavaScript: the radio buttons and the button save it.
  const plain = await browser.newContext({ javaScriptEnabled: false, colorScheme: 'dark', storageState: await context.storageState() });
  const noJs = await plain.newPage();
  await noJs.goto('/settings');
  await expect(noJs.getByLabel('Dark', { exact: true })).toBeChecked();
  await noJs.getByLabel('Light', { exact: true }).check();
  await noJs.getByRole('button', { name: 'Save theme' }).click();
  await expect(noJs).toHaveURL(/\/settings$/);
  await expect(noJs.locator('html')).toHaveAttribute('data-theme', 'light');
  expect(await noJs.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(246, 247, 249)');
  await plain.close();
  await context.close();
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 360, height: 740 } });

  test('the rooms are a drawer: opened by the menu button, focus kept inside, closed by Escape or by going to a room', async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
    const page = await signUp(context, `phone_${Date.now().toString(36)}`);
    const drawer = page.getByTestId('sidebar');
    const menu = page.getByRole('button', { name: 'Your rooms' });
    await expect(drawer).toBeHidden();
    await expect(menu).toHaveAttribute('aria-expanded', 'false');

    await menu.click();
    await expect(drawer).toBeVisible();
    await expect(menu).toHaveAttribute('aria-expanded', 'true');
    await expect(drawer.locator(':focus')).toHaveCount(1);
    // Tab goes round inside the drawer.
    const links = await drawer.locator('a[href]').count();
    for (let i = 0; i < links + 1; i++) await page.keyboard.press('Tab');
    await expect(drawer.locator(':focus')).toHaveCount(1);
    await page.keyboard.press('Shift+Tab');
    await expect(drawer.locator(':focus')).toHaveCount(1);

    await page.keyboard.press('Escape');
    await expect(drawer).toBeHidden();
    await expect(menu).toBeFocused();

    await menu.click();
    await drawer.getByRole('link', { name: 'Public chat' }).click();
    await expect(page.getByRole('heading', { name: 'Public chat' })).toBeVisible();
    await expect(drawer).toBeHidden();
    // The room takes the screen; the message box is at its bottom, in view.
    const box = await page.getByLabel('Message').boundingBox();
    expect(box!.y + box!.height).toBeLessThanOrEqual(740);
    expect(box!.y).toBeGreaterThan(740 / 2);
    await context.close();
  });

  test('nothing scrolls sideways at 320 pixels, with or without JavaScript', async ({ browser }) => {
    test.setTimeout(120_000);
    for (const javaScriptEnabled of [true, false]) {
      const context = await browser.newContext({ viewport: { width: 320, height: 640 }, javaScriptEnabled });
      const page = await context.newPage();
      for (const path of ['/login', '/signup']) {
        await page.goto(path);
        expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(320);
      }
      await context.close();
    }
    const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
    const page = await signUp(context, `narrow_${Date.now().toString(36)}`);
    for (const path of ['/', '/rooms', '/settings', '/search?q=hello', '/chat/room/public-chat/']) {
      await page.goto(path);
      await expect(page.locator('main')).toBeVisible();
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(320);
    }
    // Without JavaScript the menu is a link that opens the drawer as the page's target.
    const plain = await browser.newContext({ viewport: { width: 320, height: 640 }, javaScriptEnabled: false, storageState: await context.storageState() });
    const noJs = await plain.newPage();
    await noJs.goto('/rooms');
    await expect(noJs.getByTestId('sidebar')).toBeHidden();
    await noJs.getByRole('button', { name: 'Your rooms' }).click();
    await expect(noJs.getByTestId('sidebar')).toBeVisible();
    await noJs.getByTestId('sidebar').getByRole('link', { name: 'Close' }).press('Enter');
    await expect(noJs.getByTestId('sidebar')).toBeHidden();
    await plain.close();
    await context.close();
  });
});
