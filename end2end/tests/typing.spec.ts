import { test, expect } from './fixtures';

import { openChat, twoPeople } from './helpers';

test('the other person sees "… is typing" while someone types, until the message arrives', async ({ browser }) => {
  const { a, b, ana, bob } = await twoPeople(browser);
  await openChat(ana, b);
  await bob.goto(ana.url());
  await expect(bob.getByTestId('online-count')).toHaveText('2 online');

  await ana.getByLabel('Message').pressSequentially('hello th');
  await expect(bob.getByTestId('typing')).toHaveText(`${a} is typing…`);
  await expect(ana.getByTestId('typing')).toHaveText('');

  await ana.getByLabel('Message').pressSequentially('ere');
  await ana.getByLabel('Message').press('Enter');
  await expect(bob.locator('.messages .message').filter({ hasText: 'hello there' })).toHaveCount(1);
  await expect(bob.getByTestId('typing')).toHaveText('');
});
