import { test, expect } from './fixtures';

import { signUp } from './helpers';

test('a link on another site to /chat/<username>/ asks before starting a chat', async ({ browser, baseURL }) => {
  const suffix = Date.now().toString(36);
  const [a, b] = [`ana_${suffix}`, `bob_${suffix}`];
  const ana = await signUp(browser, a);
  await signUp(browser, b);

  // A page that is not the chat's (an opaque origin) links to the chat URL.
  await ana.goto('about:blank');
  await ana.setContent(`<a href="${baseURL}/chat/${b}/">Say hi to ${b}</a>`);
  await ana.getByRole('link', { name: `Say hi to ${b}` }).click();
  await expect(ana.getByTestId('confirm-chat')).toBeVisible();
  await expect(ana.getByRole('heading', { name: `Start a private chat with @${b}?` })).toBeVisible();
  // Nothing was started: the sidebar has no private chat yet.
  await expect(ana.getByTestId('sidebar').getByRole('link', { name: b })).toHaveCount(0);

  await ana.getByRole('button', { name: 'Start the chat' }).click();
  await expect(ana).toHaveURL(/\/chat\/room\/dm-[a-z0-9]+\/?$/);
  await expect(ana.getByRole('heading', { name: b })).toBeVisible();
  await ana.context().close();
});
