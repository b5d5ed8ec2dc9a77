import { expect, Page, Browser, BrowserContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';

/** Every test account's password. */
export const password = 'correct-horse-battery';

/**
 * Signs a new person up in a fresh browser context (or in the given one), skips the welcome
 * page's profile form, and waits for the directory.
 */
export async function signUp(from: Browser | BrowserContext, username: string): Promise<Page> {
  const page = 'contexts' in from ? await (await from.newContext()).newPage() : await from.newPage();
  await page.goto('/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome!' })).toBeVisible();
  await page.getByRole('link', { name: 'Skip for now' }).click();
  await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();
  await expect(page.getByTestId('whoami')).toHaveText(username);
  return page;
}

/** Signs a new person up in a browser context of their own with JavaScript off (plain forms), skipping the welcome page. */
export async function signUpWithoutJavaScript(browser: Browser, username: string): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('link', { name: 'Skip for now' }).click();
  return page;
}

/** Two new people (Ana and Bob, under names no other test uses), each in a browser of their own. */
export async function twoPeople(browser: Browser): Promise<{ a: string; b: string; ana: Page; bob: Page }> {
  const suffix = Date.now().toString(36);
  const [a, b] = [`ana_${suffix}`, `bob_${suffix}`];
  return { a, b, ana: await signUp(browser, a), bob: await signUp(browser, b) };
}

/** Opens the one-to-one chat with `username` (starting it if needed) and waits for it. */
export async function openChat(page: Page, username: string): Promise<void> {
  await page.goto(`/chat/${username}/`);
  await expect(page.getByRole('heading', { name: username })).toBeVisible();
}

/** The bodies of the stored messages a page shows (not those still "sending…") that end with `suffix`. */
export async function bodies(page: Page, suffix: string): Promise<string[]> {
  const all = await page.locator('.messages .message:not(.pending) .body').allTextContents();
  return all.filter((text) => text.endsWith(suffix));
}

/** Runs `chat-server admin …` against the test server's database, as an operator would. */
export function adminCli(...args: string[]): string {
  return execFileSync('../target/debug/chat-server', ['admin', ...args], {
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: 'warn' },
    encoding: 'utf8',
  });
}

/**
 * A public room of the test's own (so that nobody else's tabs count), joined by everyone in
 * `others`, open in every page, each showing everyone online. Gives its name.
 */
export async function roomOfTheirOwn(owner: Page, title: string, others: Page[] = []): Promise<string> {
  const created = await owner.request.post('/api/create_room', { form: { title, visibility: 'public' } });
  const room: string = await created.json();
  for (const other of others) {
    expect((await other.request.post('/api/join_room', { form: { room } })).status()).toBe(200);
  }
  const pages = [owner, ...others];
  for (const page of pages) await page.goto(`/chat/room/${room}/`);
  for (const page of pages) await expect(page.getByTestId('online-count')).toHaveText(`${pages.length} online`);
  return room;
}
