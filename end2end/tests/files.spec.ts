import { test, expect } from './fixtures';
import type { Locator, Page } from '@playwright/test';

import { roomOfTheirOwn, signUpWithoutJavaScript, twoPeople } from './helpers';

/** A 40×30 red PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAACgAAAAeCAIAAADRv8uKAAAAK0lEQVR4nO3NMQ0AAAgDsMmZfxXIQgYcTfo3056IWCwWi8VisVgsFov/xguJMCDM2TzTeAAAAABJRU5ErkJggg==';

/** The stored message whose body contains `text`. */
function message(page: Page, text: string): Locator {
  return page.locator('.messages .message:not(.pending)').filter({ has: page.locator('.body', { hasText: text }) });
}

/** Fires `type` (a paste on the box, or a drop on the room) carrying one file made in the page. */
async function fileEvent(target: Locator, type: 'paste' | 'drop', name: string, base64: string, mime: string) {
  await target.evaluate(
    (element, [type, name, base64, mime]) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], name, { type: mime }));
      const event =
        type === 'paste'
          ? new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })
          : new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
      element.dispatchEvent(event);
    },
    [type, name, base64, mime],
  );
}

/** Whether an image has loaded (its pixels arrived and decoded). */
async function loaded(image: Locator): Promise<boolean> {
  return image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0);
}

test('paste a screenshot, drop a file, pick one: the other browser sees each arrive', async ({ browser }) => {
  const { ana, bob } = await twoPeople(browser);
  const suffix = Date.now().toString(36);
  await roomOfTheirOwn(ana, `Files ${suffix}`, [bob]);

  // A pasted image waits under the box, then goes with the text.
  await fileEvent(ana.getByLabel('Message'), 'paste', 'screenshot.png', PNG, 'image/png');
  await expect(ana.getByTestId('pending-files')).toContainText('screenshot.png');
  await ana.getByLabel('Message').fill(`look at this ${suffix}`);
  await ana.getByLabel('Message').press('Enter');
  await expect(ana.getByTestId('pending-files')).toHaveCount(0);
  const shot = message(bob, `look at this ${suffix}`).locator('.attachments img');
  await expect(shot).toHaveAttribute('alt', 'screenshot.png');
  await expect.poll(() => loaded(shot)).toBe(true);
  // It opens full size.
  const full = await bob.request.get((await shot.locator('xpath=..').getAttribute('href'))!);
  expect(full.status()).toBe(200);
  expect(full.headers()['content-type']).toBe('image/png');

  // A file dropped on the room, sent without words, is a download with its name and size.
  await fileEvent(ana.locator('section.room'), 'drop', 'notes.txt', btoa(`meeting notes ${suffix}`), 'text/plain');
  await expect(ana.getByTestId('pending-files')).toContainText('notes.txt');
  // Taken out again, then picked with the paperclip instead.
  await ana.getByRole('button', { name: 'Remove notes.txt' }).click();
  await expect(ana.getByTestId('pending-files')).toHaveCount(0);
  await ana.getByTestId('file-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(`meeting notes ${suffix}`) });
  await ana.getByRole('button', { name: 'Send' }).click();
  const download = bob.locator('.attachments .file', { hasText: 'notes.txt' });
  await expect(download).toContainText('text/plain');
  const fetched = await bob.request.get((await download.locator('a').getAttribute('href'))!);
  expect(await fetched.text()).toBe(`meeting notes ${suffix}`);
  expect(fetched.headers()['content-disposition']).toContain('attachment');
});

test('without JavaScript: the message form takes files and posts them', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const page = await signUpWithoutJavaScript(browser, `plainfiles_${suffix}`);
  const created = await page.request.post('/api/create_room', { form: { title: `Plain files ${suffix}`, visibility: 'public' } });
  const room: string = await created.json();
  await page.goto(`/chat/room/${room}/`);
  await page.getByTestId('file-input').setInputFiles({ name: 'plain.png', mimeType: 'image/png', buffer: Buffer.from(PNG, 'base64') });
  await page.getByLabel('Message').fill(`plain upload ${suffix}`);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page).toHaveURL(new RegExp(`/chat/room/${room}/?$`));
  const image = message(page, `plain upload ${suffix}`).locator('.attachments img');
  await expect(image).toHaveAttribute('alt', 'plain.png');
  await expect.poll(() => loaded(image)).toBe(true);
  // A refused post comes back with the reason.
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('.message-box .form-error')).toContainText('write something');
});

test('a slow upload shows its progress and can be cancelled, keeping the files to send again', async ({ browser }) => {
  const { ana, bob } = await twoPeople(browser);
  const suffix = Date.now().toString(36);
  await roomOfTheirOwn(ana, `Slow files ${suffix}`, [bob]);
  // About 200 KB/s up: a 3 MB file takes long enough to see and cancel.
  const cdp = await ana.context().newCDPSession(ana);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 200 * 1024 });
  await ana.getByTestId('file-input').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(3 * 1024 * 1024, 7) });
  await ana.getByLabel('Message').fill(`slow one ${suffix}`);
  await ana.getByRole('button', { name: 'Send' }).click();
  const progress = ana.getByTestId('upload').locator('progress');
  await expect(progress).toBeVisible();
  await expect.poll(async () => Number(await progress.getAttribute('value'))).toBeGreaterThan(0);
  await ana.getByRole('button', { name: 'Cancel upload' }).click();
  await expect(ana.getByTestId('upload')).toHaveCount(0);
  await expect(ana.getByTestId('pending-files')).toContainText('big.bin');
  await expect(ana.getByLabel('Message')).toHaveValue(`slow one ${suffix}`);
  // Nothing arrived.
  await ana.waitForTimeout(500);
  await expect(message(bob, `slow one ${suffix}`)).toHaveCount(0);
  // At full speed again, it goes.
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await ana.getByRole('button', { name: 'Send' }).click();
  await expect(message(bob, `slow one ${suffix}`).locator('.attachments .file')).toContainText('big.bin');
});
