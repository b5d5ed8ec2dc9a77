import { Page } from '@playwright/test';
import { test, expect } from './fixtures';

import { signUp } from './helpers';

/** The sequence numbers of the messages on screen, top to bottom. */
async function seqs(page: Page): Promise<number[]> {
  return page.locator('.messages .message').evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-seq'))));
}

test('a public group room is found, joined, and its history scrolls back without gaps or repeats', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const ana = await signUp(browser, `ana_${suffix}`);
  const bob = await signUp(browser, `bob_${suffix}`);

  // Ana creates a public room; its URL is the slug of its name.
  const title = `Book club ${suffix}`;
  await ana.getByTestId('sidebar').getByRole('link', { name: 'Browse rooms' }).click();
  await ana.getByLabel('Name').fill(title);
  await ana.getByRole('button', { name: 'Create room' }).click();
  await expect(ana).toHaveURL(new RegExp(`/chat/room/book-club-${suffix}/?$`));
  await expect(ana.getByRole('heading', { name: title })).toBeVisible();
  await expect(ana.getByTestId('sidebar').getByRole('link', { name: title })).toBeVisible();
  const room = `book-club-${suffix}`;

  // 75 messages, more than a room page (20) and a history page (50) together.
  for (let n = 1; n <= 75; n++) {
    const response = await ana.request.post('/api/send_message', { form: { room, body: `message ${n}` } });
    expect(response.status()).toBe(200);
  }

  // Bob finds it under "Browse rooms", reads it, and joins it.
  await bob.getByTestId('sidebar').getByRole('link', { name: 'Browse rooms' }).click();
  await bob.getByTestId('public-rooms').getByRole('link', { name: title }).click();
  await expect(bob.getByRole('heading', { name: title })).toBeVisible();
  await expect(bob.getByLabel('Message')).toHaveCount(0);
  await bob.getByRole('button', { name: 'Join room' }).click();
  await expect(bob.getByLabel('Message')).toBeVisible();
  await expect(bob.getByTestId('sidebar').getByRole('link', { name: title })).toBeVisible();

  // The page holds the newest 20, scrolled so the newest is in view; scrolling to the top loads
  // 50 more, then the last 5.
  expect(await seqs(bob)).toEqual(range(56, 75));
  const list = bob.locator('.messages');
  await expect.poll(() => list.evaluate((ol) => ol.scrollHeight - ol.clientHeight - ol.scrollTop)).toBeLessThan(2);
  await list.evaluate((ol) => (ol.scrollTop = 0));
  await expect(bob.locator('.messages .message')).toHaveCount(70);
  // Loading kept the message that was at the top where it was, so Bob reads on from there.
  await expect.poll(() => list.evaluate((ol) => ol.scrollTop)).toBeGreaterThan(1000);
  const reading = await list.evaluate((ol) => ol.scrollTop);
  // A message arriving meanwhile lands at the bottom, once, without pulling Bob down to it.
  await ana.getByLabel('Message').fill('message 76');
  await ana.getByLabel('Message').press('Enter');
  await expect(bob.locator('.messages .message')).toHaveCount(71);
  expect(await list.evaluate((ol) => ol.scrollTop)).toBe(reading);
  await list.evaluate((ol) => (ol.scrollTop = 0));
  await expect(bob.locator('.messages .message')).toHaveCount(76);
  expect(await seqs(bob)).toEqual(range(1, 76));
  await expect(bob.locator('.messages .message').first()).toContainText('message 1');
  await expect(bob.getByRole('link', { name: 'Load older messages' })).toHaveCount(0);

  // Back at the bottom, the next message scrolls into view.
  await list.evaluate((ol) => (ol.scrollTop = ol.scrollHeight));
  await ana.getByLabel('Message').fill('message 77');
  await ana.getByLabel('Message').press('Enter');
  await expect(bob.locator('.messages .message')).toHaveCount(77);
  await expect.poll(() => list.evaluate((ol) => ol.scrollHeight - ol.clientHeight - ol.scrollTop)).toBeLessThan(2);
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
