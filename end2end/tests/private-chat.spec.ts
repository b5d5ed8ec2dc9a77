import { test, expect } from './fixtures';

import { signUp } from './helpers';

test('a private chat started from the directory reaches the other person live, and nobody else', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const [a, b, c] = [`ana_${suffix}`, `bob_${suffix}`, `cleo_${suffix}`];
  const bob = await signUp(browser, b);
  const cleo = await signUp(browser, c);
  const ana = await signUp(browser, a);

  // Ana finds Bob by typing in the directory's search box (filtered on the server as she types).
  await ana.getByLabel('Search people').pressSequentially(`bob_${suffix}`);
  await expect(ana).toHaveURL(new RegExp(`q=bob_${suffix}`));
  await expect(ana.getByTestId('directory').locator('.person')).toHaveCount(1);
  await ana.getByRole('link', { name: `Message ${b}` }).click();
  await expect(ana).toHaveURL(/\/chat\/room\/dm-[a-z0-9]+\/?$/);
  await expect(ana.getByRole('heading', { name: b })).toBeVisible();
  const chatUrl = ana.url();

  // Bob, still on the directory, sees the chat appear in his sidebar, named after Ana.
  const bobsLink = bob.getByTestId('sidebar').getByRole('link', { name: a });
  await expect(bobsLink).toBeVisible();
  await bobsLink.click();
  await expect(bob.getByRole('heading', { name: a })).toBeVisible();
  await expect(bob.getByTestId('online-count')).toHaveText('2 online');

  const text = `just between us, ${suffix}`;
  const box = ana.getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(bob.locator('.messages .message').filter({ hasText: text })).toHaveCount(1);

  // Cleo, at the very same URL, is told it does not exist.
  const response = await cleo.goto(chatUrl);
  expect(response?.status()).toBe(404);
  await expect(cleo.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await expect(cleo.locator('.messages')).toHaveCount(0);

  // The chat's header shows whether Bob is around: online now, offline once he closes the app.
  const bobsDot = ana.locator('.room-header').getByTestId('presence');
  await expect(bobsDot).toHaveAttribute('title', 'online');
  await bob.context().close();
  await expect(bobsDot).toHaveAttribute('title', 'offline');
});
