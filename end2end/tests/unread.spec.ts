import { test, expect } from './fixtures';

import { openChat, twoPeople } from './helpers';

test('unread messages show as a badge and in the title, and clear when the room is opened', async ({ browser }) => {
  const { a, b, ana, bob } = await twoPeople(browser);

  // Ana starts a chat with Bob and writes twice; Bob is on the directory.
  await openChat(ana, b);
  for (const text of ['are you there?', 'it is about the rent']) {
    await ana.getByLabel('Message').fill(text);
    await ana.getByLabel('Message').press('Enter');
  }

  const chat = bob.getByTestId('sidebar').getByRole('link', { name: new RegExp(a) });
  await expect(chat.getByTestId('unread')).toHaveText('2');
  await expect(bob).toHaveTitle(/^\(2\) /);
  // The tab's icon carries the count too, and it is drawn with it.
  const icon = bob.locator('link[rel=icon]');
  await expect(icon).toHaveAttribute('href', '/favicon/2.svg');
  const drawn = await bob.request.get('/favicon/2.svg');
  expect(drawn.headers()['content-type']).toBe('image/svg+xml');
  expect(await drawn.text()).toContain('>2</text>');
  // With unread messages, private chats come first in the sidebar.
  const headings = bob.getByTestId('sidebar').getByRole('heading');
  await expect(headings.first()).toHaveText('Private chats');

  // Opening the chat reads it: the badge and the title count go.
  await chat.click();
  await expect(bob.getByRole('heading', { name: a })).toBeVisible();
  await expect(chat.getByTestId('unread')).toHaveCount(0);
  await expect(bob).not.toHaveTitle(/^\(\d+\) /);
  await expect(icon).toHaveAttribute('href', '/favicon.svg');
  await expect(headings.first()).toHaveText('Rooms');

  // A message arriving in the room Bob has open stays read.
  await ana.getByLabel('Message').fill('thanks');
  await ana.getByLabel('Message').press('Enter');
  await expect(bob.locator('.messages .message').filter({ hasText: 'thanks' })).toHaveCount(1);
  await expect(chat.getByTestId('unread')).toHaveCount(0);
});
