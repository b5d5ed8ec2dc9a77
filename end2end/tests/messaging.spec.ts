import { test, expect } from './fixtures';
import type { Page } from '@playwright/test';

import { roomOfTheirOwn, signUpWithoutJavaScript, twoPeople } from './helpers';

/** The stored message (not one still sending) whose body contains `text`. */
function message(page: Page, text: string) {
  return page.locator('.messages .message:not(.pending)').filter({ has: page.locator('.body', { hasText: text }) });
}

test('edit with Up-arrow, react, reply and jump to the original, delete: the other browser sees each live', async ({ browser }) => {
  const { a, b, ana, bob } = await twoPeople(browser);
  const suffix = Date.now().toString(36);
  const room = await roomOfTheirOwn(ana, `Messaging ${suffix}`, [bob]);
  const post = async (body: string, reply_to?: number) => {
    const form: Record<string, string> = { room, body };
    if (reply_to) form.reply_to = String(reply_to);
    const sent = await ana.request.post('/api/send_message', { form });
    expect(sent.status(), `${body}: ${await sent.text()}`).toBe(200);
  };
  // The original, 20 more, and Ana's reply to the original: the room opens on the latest 20,
  // so the original is not on screen.
  await post(`original ${suffix}`);
  for (let n = 1; n <= 20; n++) await post(`filler ${n} ${suffix}`);
  await post(`about the original ${suffix}`, 1);
  await bob.reload();
  await expect(message(bob, `about the original ${suffix}`)).toBeVisible();
  await expect(message(bob, `original ${suffix}`).filter({ hasNotText: 'about' })).toHaveCount(0);

  // Following the quote loads the history around the original and shows it highlighted.
  await message(bob, `about the original ${suffix}`).getByTestId('quote').click();
  const original = bob.locator('#m1');
  await expect(original).toBeInViewport();
  await expect(original).toHaveClass(/highlight/);
  await expect(original.locator('.body')).toHaveText(`original ${suffix}`);

  // Bob answers Ana's reply; Ana sees his answer quoting her, and the quote leads to it.
  const theirs = message(bob, `about the original ${suffix}`);
  await theirs.hover();
  await theirs.getByRole('link', { name: 'Reply' }).click();
  await expect(bob.getByTestId('replying')).toContainText(`about the original ${suffix}`);
  await bob.getByLabel('Message').fill(`answer ${suffix}`);
  await bob.getByLabel('Message').press('Enter');
  const answer = message(ana, `answer ${suffix}`);
  await expect(answer.getByTestId('quote')).toContainText(`about the original ${suffix}`);
  await answer.getByTestId('quote').click();
  await expect(ana.locator('#m22')).toHaveClass(/highlight/);

  // Bob reacts with 👍; Ana sees it, adds hers, and Bob sees the count change.
  await theirs.hover();
  await theirs.locator('summary[aria-label="Add a reaction"]').click();
  await theirs.getByRole('button', { name: 'React with 👍' }).click();
  const anasView = message(ana, `about the original ${suffix}`).locator('.reaction');
  await expect(anasView).toHaveText('👍1');
  await expect(anasView).toHaveAttribute('title', b);
  await expect(anasView).toHaveAttribute('aria-pressed', 'false');
  await anasView.click();
  const bobsView = theirs.locator('.reaction');
  await expect(bobsView).toHaveText('👍2');
  await expect(bobsView).toHaveAttribute('title', `${b}, ${a}`);
  await expect(anasView).toHaveAttribute('aria-pressed', 'true');

  // Up-arrow in Ana's empty message box edits her newest message; Enter saves it.
  await ana.getByLabel('Message').click();
  await ana.getByLabel('Message').press('ArrowUp');
  const editBox = ana.locator('#m22').getByLabel('Change the text');
  await expect(editBox).toBeFocused();
  await expect(editBox).toHaveValue(`about the original ${suffix}`);
  await editBox.fill(`about the first one ${suffix}`);
  await editBox.press('Enter');
  await expect(theirs).toHaveCount(0);
  const edited = message(bob, `about the first one ${suffix}`);
  await expect(edited.locator('.edited')).toHaveText('(edited)');
  await expect(edited.locator('.reaction')).toHaveText('👍2');
  await expect(message(bob, `answer ${suffix}`).getByTestId('quote')).toContainText(`about the first one ${suffix}`);
  await expect(ana.getByLabel('Message')).toBeFocused();

  // Escape cancels an edit.
  await ana.getByLabel('Message').press('ArrowUp');
  await expect(editBox).toBeFocused();
  await editBox.press('Escape');
  await expect(ana.getByLabel('Message')).toBeFocused();
  await expect(message(ana, `about the first one ${suffix}`).locator('.edit-menu')).not.toHaveAttribute('open', '');

  // Ana deletes it: it vanishes from Bob's screen, and his answer says what it answered is gone.
  ana.once('dialog', (dialog) => dialog.accept());
  const mine = message(ana, `about the first one ${suffix}`);
  await mine.hover();
  await mine.getByRole('button', { name: 'Delete' }).click();
  await expect(message(bob, `about the first one ${suffix}`)).toHaveCount(0);
  await expect(message(bob, `answer ${suffix}`).getByTestId('quote')).toHaveText('↪ message deleted');
  await bob.reload();
  await expect(message(bob, `answer ${suffix}`).getByTestId('quote')).toHaveText('↪ message deleted');
  await expect(message(bob, `about the first one ${suffix}`)).toHaveCount(0);
});

test('@ offers the room members: arrows choose, Tab picks, and the mention is highlighted', async ({ browser }) => {
  const { b, ana, bob } = await twoPeople(browser);
  const suffix = Date.now().toString(36);
  await roomOfTheirOwn(ana, `Mentions ${suffix}`, [bob]);
  const box = ana.getByLabel('Message');
  await box.fill('hello ');
  await box.pressSequentially('@bob_');
  const option = ana.getByRole('option', { name: new RegExp(b) });
  await expect(option).toBeVisible();
  await expect(option).toHaveAttribute('aria-selected', 'true');
  await box.press('Tab');
  await expect(box).toHaveValue(`hello @${b} `);
  await expect(ana.getByRole('listbox', { name: 'People to mention' })).toBeHidden();
  await box.pressSequentially('look');
  await box.press('Enter');
  const mention = message(bob, 'look').locator('.mention');
  await expect(mention).toHaveText(`@${b}`);
  await expect(mention).toHaveClass(/mine/);
  await expect(message(ana, 'look').locator('.mention')).not.toHaveClass(/mine/);
});

test('without JavaScript: edit, react, reply and delete are plain forms', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const page = await signUpWithoutJavaScript(browser, `nojs_${suffix}`);
  const created = await page.request.post('/api/create_room', { form: { title: `Plain ${suffix}`, visibility: 'public' } });
  const room: string = await created.json();
  await page.goto(`/chat/room/${room}/`);
  await page.getByLabel('Message').fill(`typo heer ${suffix}`);
  await page.getByRole('button', { name: 'Send' }).click();

  // Edit: the form opens in place and saves with a post.
  const first = message(page, `typo heer ${suffix}`);
  await first.locator('summary', { hasText: 'Edit' }).click();
  await first.getByLabel('Change the text').fill(`typo here ${suffix}`);
  await first.getByRole('button', { name: 'Save' }).click();
  const fixed = message(page, `typo here ${suffix}`);
  await expect(fixed.locator('.edited')).toHaveText('(edited)');

  // React, and take it back.
  await fixed.locator('summary[aria-label="Add a reaction"]').click();
  await fixed.getByRole('button', { name: 'React with 🎉' }).click();
  await expect(fixed.locator('.reaction')).toHaveText('🎉1');
  await expect(fixed.locator('.reaction')).toHaveAttribute('aria-pressed', 'true');
  await fixed.locator('.reaction').click();
  await expect(fixed.locator('.reaction')).toHaveCount(0);

  // Reply: the link opens the box answering it.
  await fixed.getByRole('link', { name: 'Reply' }).click();
  await expect(page.getByTestId('replying')).toContainText(`typo here ${suffix}`);
  await page.getByLabel('Message').fill(`replying plainly ${suffix}`);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(message(page, `replying plainly ${suffix}`).getByTestId('quote')).toContainText(`typo here ${suffix}`);
  await expect(page.getByTestId('replying')).toHaveCount(0);

  // Delete.
  await fixed.getByRole('button', { name: 'Delete' }).click();
  await expect(message(page, `typo here ${suffix}`)).toHaveCount(0);
  await expect(message(page, `replying plainly ${suffix}`).getByTestId('quote')).toHaveText('↪ message deleted');
  await page.context().close();
});
