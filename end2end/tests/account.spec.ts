import { test, expect } from './fixtures';

import { password, signUp } from './helpers';

test('changing the password in settings checks the old one; signing out everywhere ends the session', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const page = await signUp(browser, `fay_${suffix}`);
  await page.getByRole('link', { name: 'Settings' }).click();

  await page.getByLabel('Current password').fill('not-my-password');
  await page.getByLabel('New password').fill('a-brand-new-secret');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toContainText('current password is not right');

  await page.getByLabel('Current password').fill(password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Password changed' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/settings');
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel('Username or email').fill(`fay_${suffix}`);
  await page.getByLabel('Password').fill('a-brand-new-secret');
  await page.getByRole('button', { name: 'Log in' }).click();
  // Back where she was going, with the new password.
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  await page.context().close();
});
