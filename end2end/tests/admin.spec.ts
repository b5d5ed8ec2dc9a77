import { test, expect } from './fixtures';

import { adminCli, password, signUp } from './helpers';

test('an admin deletes a message and it disappears from another person’s open page', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const [a, b] = [`adm_${suffix}`, `bea_${suffix}`];
  const admin = await signUp(browser, a);
  const bea = await signUp(browser, b);
  expect(adminCli('grant-admin', a)).toContain(`${a} is now an admin`);

  // Bea has her group room open and writes two messages.
  await bea.goto('/rooms');
  await bea.getByLabel('Name').fill(`Notice board ${suffix}`);
  await bea.getByRole('button', { name: 'Create room' }).click();
  await expect(bea.getByRole('heading', { name: `Notice board ${suffix}` })).toBeVisible();
  for (const body of ['Bins go out on Monday', 'something regrettable']) {
    await bea.getByLabel('Message').fill(body);
    await bea.getByLabel('Message').press('Enter');
    await expect(bea.locator('li.message', { hasText: body })).toBeVisible();
  }

  // The admin finds the room on the admin page and deletes one message.
  await admin.reload();
  await admin.getByRole('link', { name: 'Admin' }).click();
  await expect(admin.getByRole('heading', { name: 'Admin', exact: true })).toBeVisible();
  await admin.getByTestId('admin-rooms').getByRole('link', { name: `Notice board ${suffix}` }).click();
  const regrettable = admin.getByTestId('admin-messages').locator('li', { hasText: 'something regrettable' });
  await regrettable.getByRole('button', { name: /Delete message/ }).click();
  await expect(regrettable).toHaveCount(0);

  await expect(bea.locator('li.message', { hasText: 'something regrettable' })).toHaveCount(0);
  await expect(bea.locator('li.message', { hasText: 'Bins go out on Monday' })).toBeVisible();
  // Not because the page reloaded: it is still connected, and still sends.
  await bea.getByLabel('Message').fill('still here');
  await bea.getByLabel('Message').press('Enter');
  await expect(admin.locator('body')).not.toContainText('still here');
  await admin.reload();
  await expect(admin.getByTestId('admin-messages')).toContainText('still here');

  // Someone without the flag finds no admin page at all.
  await bea.goto('/admin');
  await expect(bea.getByRole('heading', { name: 'Not found' })).toBeVisible();

  // Suspended from the shell while her page is open: it goes to the login page by itself,
  // and logging in says why it does not work.
  await bea.goto('/');
  await expect(bea.getByRole('heading', { name: 'People' })).toBeVisible();
  expect(adminCli('suspend', b)).toContain(`${b} is suspended`);
  await expect(bea).toHaveURL(/\/login\?next=/);
  await bea.getByLabel('Username or email').fill(b);
  await bea.getByLabel('Password').fill(password);
  await bea.getByRole('button', { name: 'Log in' }).click();
  await expect(bea.getByRole('alert')).toContainText('this account is suspended');
  await admin.context().close();
  await bea.context().close();
});
