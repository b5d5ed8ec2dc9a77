// Names the browser's files by their content and precompresses them, so the server can tell
// browsers to keep them for a year and send each in the encoding the browser asks for.
//
//   node scripts/assets.mjs <pkg dir> [--fast]
//
// Reads from <pkg dir> chat.js, chat_bg.wasm and chat.css, and what `wasm-split` cut out of
// the bundle (scripts/lib.sh): __wasm_split.js, which loads the pages loaded on demand, and
// their .wasm chunks. Writes each as <name>.<hash>.<ext> (the hash: the first 16 hex digits of
// the file's SHA-256), with a .br (brotli) and a .gz (gzip) beside it, and assets.json, which
// tells the server the names. Files of earlier builds are removed. A source that is missing
// keeps the name the last run gave it (say, only the stylesheet was copied in again).
// `--fast` (debug builds) compresses at low settings: the debug bundle is large and nobody
// downloads it over a slow link.
//
// The glue and the loader import each other (chat.js loads chunks through the loader, which
// takes the bundle's exports from chat.js), so their names cannot both be hashes of their
// final text. The loader's name is the hash of its text before it names chat.js, and of the
// bundle: whatever changes chat.js changes the bundle, so the loader's name changes with it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const [dir, flag] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/assets.mjs <pkg dir> [--fast]');
  process.exit(2);
}
const fast = flag === '--fast';
const LOADER = '__wasm_split.js';
const MAIN = { js: 'chat.js', wasm: 'chat_bg.wasm', css: 'chat.css' };

const hash = (...parts) => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest('hex').slice(0, 16);
};
const read = (name) => readFileSync(join(dir, name));
const has = (name) => existsSync(join(dir, name));

// What each page loaded on demand fetches (its chunk, then the shared ones it needs), read from
// the loader wasm-split wrote: `export const __wasm_split_load___<page>_<n> = …fetch(new URL(
// "./<file>" …), [__chunk_9, …])` and `const __chunk_9 = makeLoad(() => { …"./<file>"…`. The
// server has a page's first visit preload them.
function pagesOf(loader) {
  const chunks = new Map();
  for (const m of loader.matchAll(/const (__chunk_\d+) = makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\.\/([^"]+)"/g)) {
    chunks.set(m[1], m[2]);
  }
  const pages = {};
  const split = /export const __wasm_split_load___(\w+?)_\d+ = wrapAsyncCb\(makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\.\/([^"]+)"[\s\S]*?, \[([^\]]*)\]\)\)/g;
  for (const m of loader.matchAll(split)) {
    const needs = m[3].split(',').map((name) => name.trim()).filter(Boolean).map((name) => chunks.get(name));
    if (needs.some((file) => !file)) fail(`${LOADER}: page ${m[1]} needs a chunk it does not define`);
    pages[m[1]] = [m[2], ...needs];
  }
  if (Object.keys(pages).length === 0) fail(`${LOADER} names no page: was it written by wasm-split-cli 0.2.4 (scripts/lib.sh)?`);
  return pages;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

const manifest = join(dir, 'assets.json');
const earlier = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')) : {};
const names = {};
const outputs = new Map(); // name -> bytes to write

for (const kind of ['wasm', 'css']) {
  if (has(MAIN[kind])) {
    const bytes = read(MAIN[kind]);
    names[kind] = `chat.${hash(bytes)}.${kind}`;
    outputs.set(names[kind], bytes);
  }
}

if (has(MAIN.js)) {
  let glue = read(MAIN.js).toString('utf8');
  names.on_demand = [];
  names.pages = {};
  if (has(LOADER)) {
    // The chunks, named by content; the loader fetches them by those names.
    let loader = read(LOADER).toString('utf8');
    const chunks = readdirSync(dir).filter((f) => f.endsWith('.wasm') && f !== MAIN.wasm && !/\.[0-9a-f]{16}\.wasm$/.test(f))
      .sort();
    for (const chunk of chunks) {
      const bytes = read(chunk);
      // split___settings_view_1419….wasm -> settings_view.<hash>.wasm; chunk_9.wasm -> chunk_9.<hash>.wasm
      const stem = chunk.replace(/\.wasm$/, '').replace(/^split_+/, '').replace(/_\d{8,}$/, '');
      const name = `${stem}.${hash(bytes)}.wasm`;
      const quoted = `"./${chunk}"`;
      if (!loader.includes(quoted)) {
        console.error(`${LOADER} does not load ${chunk}: was it made by the same wasm-split run?`);
        process.exit(1);
      }
      loader = loader.replaceAll(quoted, `"./${name}"`);
      outputs.set(name, bytes);
      names.on_demand.push(name);
    }
    // Only the glue's `import … from "./__wasm_split.js"` changes: the same string is also the
    // key of the bundle's imports, which the WASM names.
    const mainImport = `"./${MAIN.js}"`;
    const loaderImport = /from "\.\/__wasm_split\.js"/g;
    if (!loader.includes(mainImport) || !loaderImport.test(glue)) {
      console.error(`${LOADER} and ${MAIN.js} do not name each other as expected (wasm-split --out-name chat)`);
      process.exit(1);
    }
    const loaderName = `split.${hash(loader, names.wasm ?? earlier.wasm ?? '')}.js`;
    glue = glue.replaceAll(loaderImport, `from "./${loaderName}"`);
    names.js = `chat.${hash(glue)}.js`;
    outputs.set(loaderName, Buffer.from(loader.replaceAll(mainImport, `"./${names.js}"`)));
    names.on_demand.unshift(loaderName);
    names.pages = pagesOf(loader);
  } else {
    names.js = `chat.${hash(glue)}.js`;
  }
  outputs.set(names.js, Buffer.from(glue));
}

for (const kind of ['js', 'wasm', 'css', 'on_demand', 'pages']) {
  if (names[kind]) continue;
  const kept = [earlier[kind] ?? []].flat();
  if (kind !== 'on_demand' && (!kept.length || !kept.every(has))) {
    console.error(`${MAIN[kind]} is missing from ${dir}, and no earlier build named one`);
    process.exit(1);
  }
  names[kind] = earlier[kind] ?? (kind === 'pages' ? {} : []);
}

const keep = new Set([names.js, names.wasm, names.css, ...names.on_demand].flatMap((n) => [n, `${n}.br`, `${n}.gz`]));
for (const file of readdirSync(dir)) {
  if (/\.[0-9a-f]{16}\.(js|wasm|css)(\.br|\.gz)?$/.test(file) && !keep.has(file)) unlinkSync(join(dir, file));
}
for (const [name, bytes] of outputs) {
  const text = !name.endsWith('.wasm');
  const brotli = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: fast ? 4 : 11,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [constants.BROTLI_PARAM_MODE]: text ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
    },
  });
  const gzip = gzipSync(bytes, { level: fast ? 4 : 9 });
  writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, `${name}.br`), brotli);
  writeFileSync(join(dir, `${name}.gz`), gzip);
  console.log(`${name}: ${bytes.length} bytes, brotli ${brotli.length}, gzip ${gzip.length}`);
}
// The sources are consumed: a later run without them keeps these names.
for (const source of [...Object.values(MAIN), LOADER]) if (has(source)) unlinkSync(join(dir, source));
for (const file of readdirSync(dir)) {
  if (file.endsWith('.wasm') && !/\.[0-9a-f]{16}\.wasm$/.test(file)) unlinkSync(join(dir, file));
}
const { js, wasm, css, on_demand, pages } = names;
writeFileSync(manifest, JSON.stringify({ js, wasm, css, on_demand, pages }, null, 2) + '\n');
