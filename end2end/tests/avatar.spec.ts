import { test, expect } from './fixtures';
import { deflateSync } from 'node:zlib';

import { password, signUp } from './helpers';

/** A 64×64 PNG of one colour, built by hand (no image library in the test). */
function png(r: number, g: number, b: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (data: Buffer) => {
    let c = 0xffffffff;
    for (const byte of data) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const side = 64;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array(side).fill([r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array(side).fill(row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('a new person uploads an avatar while onboarding; it shows in the directory and beside their messages', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const [a, b] = [`ava_${suffix}`, `ben_${suffix}`];
  const ben = await signUp(browser, b);

  const page = await (await browser.newContext()).newPage();
  await page.goto('/signup');
  await page.getByLabel('Username').fill(a);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome!' })).toBeVisible();

  // Something that is not an image is refused with what is accepted, and the page stays.
  await page.getByLabel('Picture').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a picture') });
  await page.getByRole('button', { name: 'Upload picture' }).click();
  await expect(page.getByRole('alert')).toContainText('not a PNG, JPEG, WebP or GIF');
  await expect(page).toHaveURL(/\/welcome\?avatar_error=/);

  await page.getByLabel('Picture').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(220, 60, 60) });
  await page.getByRole('button', { name: 'Upload picture' }).click();
  await expect(page).toHaveURL(/\/welcome$/);
  const preview = page.locator('.avatar-form img.avatar');
  await expect(preview).toHaveAttribute('src', /^\/avatars\/\d+-[0-9a-f]+\.png$/);
  const src = await preview.getAttribute('src');
  // The browser really loaded it: a 256×256 picture.
  await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(256);
  await page.getByRole('link', { name: 'Skip for now' }).click();
  await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();

  // Ben sees it in the directory…
  await ben.reload();
  await ben.getByLabel('Search people').pressSequentially(a);
  await expect(ben.getByTestId('directory').locator(`img.avatar[src="${src}"]`)).toBeVisible();

  // …and beside her messages in the public chat, live.
  await ben.goto('/chat/room/public-chat/');
  await page.goto('/chat/room/public-chat/');
  // Both sockets open (the count is live, so the page is hydrated).
  await expect(page.getByTestId('online-count')).toHaveText(/[2-9] online/);
  await page.getByLabel('Message').fill(`hello from ${a}`);
  await page.getByLabel('Message').press('Enter');
  const message = ben.locator('li.message', { hasText: `hello from ${a}` });
  await expect(message.locator('img.avatar')).toHaveAttribute('src', src!);
  await page.context().close();
  await ben.context().close();
});
