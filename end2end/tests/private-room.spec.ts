import { test, expect } from './fixtures';

import { signUp } from './helpers';

test('a private room: its owner adds, renames, removes and deletes, and the others see it happen', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const [a, b, c] = [`ana_${suffix}`, `bob_${suffix}`, `cleo_${suffix}`];
  const ana = await signUp(browser, a);
  const bob = await signUp(browser, b);
  const cleo = await signUp(browser, c);

  // Ana creates a private room.
  const title = `Board ${suffix}`;
  await ana.goto('/rooms');
  await ana.getByLabel('Name').fill(title);
  await ana.getByLabel('Private: only the people you add').check();
  await ana.getByRole('button', { name: 'Create room' }).click();
  await expect(ana).toHaveURL(new RegExp(`/chat/room/board-${suffix}/?$`));
  const roomUrl = ana.url();

  // It is not listed, and to Cleo it does not exist.
  await cleo.goto('/rooms');
  await expect(cleo.getByTestId('public-rooms').getByRole('link', { name: title })).toHaveCount(0);
  await cleo.goto(roomUrl);
  await expect(cleo.getByRole('heading', { name: 'Not found' })).toBeVisible();

  // Ana adds Bob from the members page; Bob, on the directory, sees the room arrive.
  await ana.getByRole('link', { name: 'Members' }).click();
  await ana.getByLabel('Username to add').fill(b);
  await ana.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(ana.getByTestId('members').locator(`[data-username="${b}"]`)).toBeVisible();
  const bobsLink = bob.getByTestId('sidebar').getByRole('link', { name: title });
  await expect(bobsLink).toBeVisible();
  await bobsLink.click();
  await expect(bob.getByRole('heading', { name: title })).toBeVisible();

  // A rename shows at once on Bob's open page and in his sidebar.
  const renamed = `Board of ${suffix}`;
  await ana.getByLabel('New name').fill(renamed);
  await ana.getByRole('button', { name: 'Rename' }).click();
  await expect(bob.getByRole('heading', { name: renamed })).toBeVisible();
  await expect(bob.getByTestId('sidebar').getByRole('link', { name: renamed })).toBeVisible();

  // Removed, Bob's page says so, his sidebar drops the room, and the room is gone for him.
  await ana.getByRole('button', { name: `Remove ${b}` }).click();
  await expect(bob.getByRole('alert')).toContainText('You are no longer in this room');
  await expect(bob.getByTestId('sidebar').getByRole('link', { name: renamed })).toHaveCount(0);
  await bob.goto(roomUrl);
  await expect(bob.getByRole('heading', { name: 'Not found' })).toBeVisible();

  // Deleting asks for the name; a wrong one is refused with a message, the right one deletes.
  await ana.getByLabel('Room name to confirm').fill('not the name');
  await ana.getByRole('button', { name: 'Delete room' }).click();
  await expect(ana.getByRole('alert')).toContainText('type its name');
  await ana.getByLabel('Room name to confirm').fill(renamed);
  await ana.getByRole('button', { name: 'Delete room' }).click();
  await expect(ana).toHaveURL(/\/rooms\/?$/);
  await expect(ana.getByTestId('sidebar').getByRole('link', { name: renamed })).toHaveCount(0);
  await ana.goto(roomUrl);
  await expect(ana.getByRole('heading', { name: 'Not found' })).toBeVisible();
});
