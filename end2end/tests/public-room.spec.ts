import { Page, Browser } from '@playwright/test';
import { test, expect } from './fixtures';

import { password, signUp } from './helpers';

/** A new person, signed up, with the public room open (it is in every sidebar). */
async function signUpInPublicChat(browser: Browser, username: string): Promise<Page> {
  const page = await signUp(browser, username);
  await page.getByTestId('sidebar').getByRole('link', { name: 'Public chat' }).click();
  await expect(page).toHaveURL(/\/chat\/room\/public-chat\/?$/);
  await expect(page.getByRole('heading', { name: 'Public chat' })).toBeVisible();
  return page;
}

test('two people chat live in the public room', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const ana = await signUpInPublicChat(browser, `ana_${suffix}`);
  const bob = await signUpInPublicChat(browser, `bob_${suffix}`);

  // Both sockets are open: each page shows both people online.
  await expect(ana.getByTestId('online-count')).toHaveText('2 online');
  await expect(bob.getByTestId('online-count')).toHaveText('2 online');

  const text = `hello bob, it is ${suffix}`;
  const box = ana.getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(box).toHaveValue('');

  // Bob sees it without reloading, and so does Ana (her acknowledgement).
  await expect(bob.locator('.messages .message').filter({ hasText: text })).toHaveCount(1);
  await expect(ana.locator('.messages .message').filter({ hasText: text })).toHaveCount(1);
  await expect(bob.locator('.messages .message').last()).toContainText(`ana_${suffix}`);

  // A reload still shows it, from the server-rendered page.
  await bob.reload();
  await expect(bob.locator('.messages .message').filter({ hasText: text })).toHaveCount(1);

  // Bob leaves: Ana's count drops.
  await bob.context().close();
  await expect(ana.getByTestId('online-count')).toHaveText('1 online');
});

test('a wrong password is refused with a message that does not say which part was wrong', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const page = await signUpInPublicChat(browser, `cleo_${suffix}`);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(`cleo_${suffix}`);
  await page.getByLabel('Password').fill('not-my-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('wrong username or password');
  await expect(page).toHaveURL(/\/login/);
  // The error is tied to the fields: a screen reader reads it with each, which is marked invalid.
  for (const field of [page.getByLabel('Username or email'), page.getByLabel('Password')]) {
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await expect(field).toHaveAccessibleDescription('wrong username or password');
  }
  // The same from the server's page, without JavaScript.
  const plain = await browser.newContext({ javaScriptEnabled: false });
  const noJs = await plain.newPage();
  await noJs.goto('/login');
  await expect(noJs.getByLabel('Password')).not.toHaveAttribute('aria-invalid', 'true');
  await noJs.getByLabel('Username or email').fill(`cleo_${suffix}`);
  await noJs.getByLabel('Password').fill('not-my-password');
  await noJs.getByRole('button', { name: 'Log in' }).click();
  await expect(noJs.getByRole('alert')).toHaveText('wrong username or password');
  await expect(noJs.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
  await expect(noJs.getByLabel('Password')).toHaveAccessibleDescription('wrong username or password');
  await plain.close();
});

test('without JavaScript the room still reads and the message form still posts', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/signup');
  await page.getByLabel('Username').fill(`dora_${suffix}`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  // The welcome page's profile form posts without JavaScript too.
  await page.getByLabel('Display name').fill(`Dora ${suffix}`.slice(0, 20));
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();
  await page.getByTestId('sidebar').getByRole('link', { name: 'Public chat' }).click();
  await expect(page).toHaveURL(/\/chat\/room\/public-chat\/?$/);
  await page.getByLabel('Message').fill(`no script here ${suffix}`);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('.messages .message').filter({ hasText: `no script here ${suffix}` })).toHaveCount(1);
  await context.close();
});
