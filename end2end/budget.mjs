// The first-visit budget: what a browser with an empty cache downloads for a page, counted in
// bytes on the wire (compressed, headers included), as Chromium's network log reports them.
//
//   node end2end/budget.mjs <base URL>       (scripts/budget.sh starts a release server for it)
//
// Signs a new person up in one browser, then opens each page in a fresh browser context (an
// empty cache) with that person's cookie, and prints, per page: everything transferred, and the
// HTML and CSS the first paint waits for. Exits 1 when a page is over its budget.
import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const BUDGET_TOTAL = 350 * 1024;
const BUDGET_FIRST_PAINT = 40 * 1024;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
const signup = await browser.newContext({ baseURL: base });
const setup = await signup.newPage();
const username = `budget_${Date.now().toString(36)}`;
const form = { username, password: 'correct-horse-battery' };
const answer = await setup.request.post('/api/signup', { form });
if (!answer.ok()) throw new Error(`could not sign up: ${answer.status()} ${await answer.text()}`);
const storageState = await signup.storageState();

async function visit(path, signedIn) {
  const context = await browser.newContext({ baseURL: base, storageState: signedIn ? storageState : undefined });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const kinds = new Map();
  const rows = [];
  cdp.on('Network.responseReceived', (e) => kinds.set(e.requestId, { url: e.response.url, type: e.type }));
  cdp.on('Network.loadingFinished', (e) => {
    const what = kinds.get(e.requestId);
    if (what) rows.push({ ...what, bytes: e.encodedDataLength });
  });
  await page.goto(path, { waitUntil: 'networkidle' });
  // Hydrated: the bundle ran.
  await page.waitForFunction(() => document.querySelector('body') !== null);
  await context.close();
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  const firstPaint = rows.filter((r) => r.type === 'Document' || r.type === 'Stylesheet').reduce((s, r) => s + r.bytes, 0);
  return { path, total, firstPaint, rows };
}

const pages = [
  ['/login', false],
  ['/', true],
  ['/chat/room/public-chat/', true],
];
let over = false;
for (const [path, signedIn] of pages) {
  const { total, firstPaint, rows } = await visit(path, signedIn);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const ok = total <= BUDGET_TOTAL && firstPaint <= BUDGET_FIRST_PAINT;
  over ||= !ok;
  console.log(`${ok ? 'ok  ' : 'OVER'} ${path}: ${kb(total)} in all (budget ${kb(BUDGET_TOTAL)}), HTML + CSS ${kb(firstPaint)} (budget ${kb(BUDGET_FIRST_PAINT)})`);
  for (const r of rows.sort((a, b) => b.bytes - a.bytes)) {
    console.log(`       ${kb(r.bytes).padStart(9)}  ${r.type.padEnd(10)} ${r.url.replace(base, '')}`);
  }
}
await browser.close();
process.exit(over ? 1 : 0);
