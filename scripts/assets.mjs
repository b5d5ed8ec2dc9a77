// Names the browser's files by their content and precompresses them, so the server can tell
// browsers to keep them for a year and send each in the encoding the browser asks for.
//
//   node scripts/assets.mjs <pkg dir> [--fast]
//
// Reads chat.js, chat_bg.wasm and chat.css from <pkg dir>; writes chat.<hash>.js,
// chat.<hash>.wasm and chat.<hash>.css (the hash: the first 16 hex digits of the file's
// SHA-256), a .br (brotli) and a .gz (gzip) of each, and assets.json, which tells the server
// the three names. Files of earlier builds are removed. A source that is missing keeps the
// name the last run gave it (say, only the stylesheet was copied in again). `--fast` (debug builds) compresses
// at low settings: the debug bundle is large and nobody downloads it over a slow link.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, readdirSync, unlinkSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const [dir, flag] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/assets.mjs <pkg dir> [--fast]');
  process.exit(2);
}
const fast = flag === '--fast';

const sources = { js: 'chat.js', wasm: 'chat_bg.wasm', css: 'chat.css' };
const manifest = join(dir, 'assets.json');
const earlier = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')) : {};
const names = {};
for (const [kind, source] of Object.entries(sources)) {
  if (!existsSync(join(dir, source))) {
    if (!earlier[kind] || !existsSync(join(dir, earlier[kind]))) {
      console.error(`${source} is missing from ${dir}, and no earlier build named one`);
      process.exit(1);
    }
    names[kind] = earlier[kind];
    continue;
  }
  const bytes = readFileSync(join(dir, source));
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  names[kind] = `chat.${hash}.${kind}`;
}
const keep = new Set(Object.values(names).flatMap((name) => [name, `${name}.br`, `${name}.gz`]));
for (const file of readdirSync(dir)) {
  if (/^chat\.[0-9a-f]{16}\./.test(file) && !keep.has(file)) unlinkSync(join(dir, file));
}
for (const [kind, source] of Object.entries(sources)) {
  if (!existsSync(join(dir, source))) continue;
  const name = names[kind];
  const bytes = readFileSync(join(dir, source));
  const brotli = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: fast ? 4 : 11,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [constants.BROTLI_PARAM_MODE]: kind === 'wasm' ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
    },
  });
  const gzip = gzipSync(bytes, { level: fast ? 4 : 9 });
  writeFileSync(join(dir, `${name}.br`), brotli);
  writeFileSync(join(dir, `${name}.gz`), gzip);
  renameSync(join(dir, source), join(dir, name));
  console.log(`${name}: ${bytes.length} bytes, brotli ${brotli.length}, gzip ${gzip.length}`);
}
writeFileSync(manifest, JSON.stringify(names, null, 2) + '\n');
