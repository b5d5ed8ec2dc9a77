import { test, expect } from './fixtures';

import { signUp, signUpWithoutJavaScript } from './helpers';

test('search from the top bar, narrow as you type, and open a result in its room at that message', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const ana = await signUp(browser, `seeker_${suffix}`);
  const created = await ana.request.post('/api/create_room', { form: { title: `Archive ${suffix}`, visibility: 'private' } });
  const room: string = await created.json();
  const post = async (body: string) => {
    const sent = await ana.request.post('/api/send_message', { form: { room, body } });
    expect(sent.status(), `${body}: ${await sent.text()}`).toBe(200);
  };
  // The message to find, then 40 more: the room opens far below it.
  await post(`the quokka${suffix} report is ready`);
  await post(`quokka${suffix}s are not the same word`);
  for (let n = 1; n <= 40; n++) await post(`filler ${n} ${suffix}`);

  await ana.getByLabel('Search the chat').fill(`quokka${suffix} report`);
  await ana.getByLabel('Search the chat').press('Enter');
  await expect(ana).toHaveURL(/\/search\?q=/);
  const results = ana.getByTestId('results').locator('.result');
  await expect(results).toHaveCount(1);
  await expect(results.first().locator('mark')).toHaveText([`quokka${suffix}`, 'report']);
  await expect(results.first()).toContainText(`Archive ${suffix}`);
  // When, in the reader's own day and clock; the exact UTC time on hover.
  await expect(results.first().locator('time')).toHaveText(/^Today, \d\d:\d\d$/);
  await expect(results.first().locator('time')).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);

  // Results follow the box as it is typed: a shorter word being typed is a prefix.
  const box = ana.getByLabel('Words to find');
  await box.fill(`quokka${suffix.slice(0, -1)}`);
  await expect(results).toHaveCount(2);
  await expect(ana).toHaveURL(new RegExp(`q=quokka${suffix.slice(0, -1)}$`));
  await box.fill(`quokka${suffix} report`);
  await expect(results).toHaveCount(1);

  // The result opens the room at the message, highlighted, with what was said around it.
  await results.first().getByRole('link').click();
  await expect(ana).toHaveURL(new RegExp(`/chat/room/${room}/\\?before=\\d+#m1$`));
  const found = ana.locator('#m1');
  await expect(found).toBeInViewport();
  await expect(found).toHaveClass(/highlight/);
  await expect(ana.locator('.messages .message .body', { hasText: `filler 20 ${suffix}` })).toHaveCount(1);
  await expect(ana.getByRole('link', { name: 'Back to the latest messages' })).toBeVisible();

  // Someone who is not in the private room finds nothing.
  const bob = await signUp(browser, `other_${suffix}`);
  await bob.goto(`/search?q=quokka${suffix}`);
  await expect(bob.getByTestId('search-empty')).toHaveText('No messages match that search.');
});

test('without JavaScript: the search is a plain form and results are plain links', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const page = await signUpWithoutJavaScript(browser, `plainsearch_${suffix}`);
  const sent = await page.request.post('/api/send_message', { form: { room: 'public-chat', body: `wombat${suffix} sighted` } });
  expect(sent.status()).toBe(200);

  await page.getByLabel('Search the chat').fill(`wombat${suffix}`);
  await page.getByLabel('Search the chat').press('Enter');
  await expect(page.getByTestId('results').locator('mark')).toHaveText(`wombat${suffix}`);
  await page.getByLabel('Words to find').fill(`wombat${suffix} from:nobody_${suffix}`);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByTestId('search-empty')).toBeVisible();
  await page.getByLabel('Words to find').fill(`wombat${suffix}`);
  await page.getByLabel('Order of results').selectOption('relevance');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/sort=relevance/);
  await page.getByTestId('results').getByRole('link').first().click();
  await expect(page.locator('.message:target .body')).toHaveText(`wombat${suffix} sighted`);
});
