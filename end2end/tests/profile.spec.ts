import { test, expect } from './fixtures';

import { password, signUp } from './helpers';

test('a new person fills in the welcome page, and their name shows in the header', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const page = await browser.newPage();
  await page.goto('/signup');
  await page.getByLabel('Username').fill(`eve_${suffix}`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome!' })).toBeVisible();
  await page.getByLabel('Display name').fill('Eve');
  await page.getByLabel('About you').fill('New here.');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();
  await page.goto(`/@eve_${suffix}`);
  await expect(page.getByRole('heading', { name: 'Eve' })).toBeVisible();
  await expect(page.getByTestId('bio')).toHaveText('New here.');
  await page.context().close();
});

test('a person writes their profile in settings; another finds it from the directory and messages them', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const [a, b] = [`ana_${suffix}`, `bob_${suffix}`];
  const ana = await signUp(browser, a);
  const bob = await signUp(browser, b);

  await ana.getByRole('link', { name: 'Settings' }).click();
  await ana.getByLabel('Display name').fill('Ana María');
  await ana.getByLabel('About you').fill('Flat 4B, ask me about the garden.');
  await ana.getByRole('button', { name: 'Save profile' }).click();
  await expect(ana).toHaveURL(new RegExp(`/@${a}$`));
  await expect(ana.getByRole('heading', { name: 'Ana María' })).toBeVisible();
  await expect(ana.getByRole('link', { name: 'Edit your profile' })).toBeVisible();

  // Bob finds her under her new name and opens her profile from the directory.
  await bob.getByLabel('Search people').pressSequentially('maría');
  await bob.getByTestId('directory').getByRole('link', { name: 'Ana María', exact: true }).click();
  await expect(bob).toHaveURL(new RegExp(`/@${a}$`));
  await expect(bob.getByTestId('bio')).toHaveText('Flat 4B, ask me about the garden.');
  await bob.getByRole('link', { name: 'Message Ana María' }).click();
  await expect(bob).toHaveURL(/\/chat\/room\/dm-[a-z0-9]+\/?$/);
  await expect(bob.getByRole('heading', { name: 'Ana María' })).toBeVisible();
});
