//! The page's own files and how they travel: named by content by the build script
//! (`scripts/assets.mjs`, run here on a site of its own), kept for a year, sent brotli or gzip
//! as the client asks; pages compressed on the fly; the theme chosen before the first paint.

use std::io::Read;
use std::path::Path;

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use reqwest::StatusCode;

use crate::helpers::{http, spawn_app, spawn_app_with, TestApp};

const CSS: &str = ":root { --bg: #fff; }\nbody { margin: 0; }\n";

/// A site built the way `build_site` builds one, from small stand-ins for the bundle (and the
/// glue already there, if a test wrote its own).
fn build_site(root: &Path) -> app::Assets {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    if !pkg.join("chat.js").exists() {
        std::fs::write(pkg.join("chat.js"), "export default function init() {}\n".repeat(200)).unwrap();
    }
    // Compressible, like a real bundle.
    let wasm: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8 & 0x3f).collect();
    std::fs::write(pkg.join("chat_bg.wasm"), wasm).unwrap();
    std::fs::write(pkg.join("chat.css"), CSS.repeat(50)).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/assets.mjs");
    let status = std::process::Command::new("node")
        .arg(script)
        .arg(&pkg)
        .arg("--fast")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("node runs");
    assert!(status.success(), "scripts/assets.mjs failed");
    serde_json::from_slice(&std::fs::read(pkg.join("assets.json")).unwrap()).unwrap()
}

async fn spawn_with_site(root: &Path) -> TestApp {
    let root = root.to_path_buf();
    spawn_app_with(move |config| config.site_root = root).await
}

fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "br" => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).unwrap(),
        "gzip" => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap(),
        _ => return bytes.to_vec(),
    };
    out
}

#[tokio::test]
async fn the_bundle_has_content_hashed_names_is_kept_a_year_and_travels_compressed() {
    let site = tempfile::tempdir().unwrap();
    let assets = build_site(site.path());
    for name in [&assets.js, &assets.wasm, &assets.css] {
        assert!(regex_like_hashed(name), "{name} is named by its content");
    }
    let app = spawn_with_site(site.path()).await;

    // The page points at the hashed names.
    let html = app.get("/login", None).await.text().await.unwrap();
    for name in [&assets.js, &assets.wasm, &assets.css] {
        assert!(html.contains(&format!("/pkg/{name}")), "the page links {name}");
    }

    let original = std::fs::read(site.path().join("pkg").join(&assets.wasm)).unwrap();
    for (accept, expected) in [("br, gzip", "br"), ("gzip, deflate", "gzip"), ("identity", "")] {
        let response =
            http().get(app.url(&format!("/pkg/{}", assets.wasm))).header(ACCEPT_ENCODING, accept).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        let headers = response.headers().clone();
        let encoding = headers.get(CONTENT_ENCODING).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert_eq!(encoding, expected, "Accept-Encoding: {accept}");
        assert_eq!(headers[CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert_eq!(headers[VARY], "accept-encoding");
        assert_eq!(headers[CONTENT_TYPE], "application/wasm");
        let body = response.bytes().await.unwrap();
        if !expected.is_empty() {
            assert!(body.len() < original.len() / 2, "{expected}: {} of {} bytes", body.len(), original.len());
        }
        assert_eq!(decode(expected, &body), original, "{accept}: the same bytes once decoded");
    }
    let css = http().get(app.url(&format!("/pkg/{}", assets.css))).header(ACCEPT_ENCODING, "br").send().await.unwrap();
    assert_eq!(css.headers()[CONTENT_TYPE], "text/css");
    assert_eq!(decode("br", &css.bytes().await.unwrap()), CSS.repeat(50).as_bytes());

    // The service worker keeps exactly these files (a new build, a new worker), and may fetch.
    let worker = http().get(app.url("/sw.js")).send().await.unwrap();
    assert_eq!(worker.headers()[CACHE_CONTROL], "no-cache");
    assert_eq!(worker.headers()["content-security-policy"], "default-src 'self'");
    let script = worker.text().await.unwrap();
    for name in [&assets.js, &assets.wasm, &assets.css] {
        assert!(script.contains(&format!("\"/pkg/{name}\"")), "the worker keeps {name}");
    }
    // The icon with its badge, and the manifest that makes the chat installable.
    let icon = http().get(app.url("/favicon/7.svg")).send().await.unwrap();
    assert_eq!(icon.headers()[CONTENT_TYPE], "image/svg+xml");
    assert!(icon.text().await.unwrap().contains(">7</text>"));
    assert_eq!(http().get(app.url("/favicon/x.svg")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let manifest: serde_json::Value =
        http().get(app.url("/manifest.webmanifest")).send().await.unwrap().json().await.unwrap();
    assert_eq!(manifest["display"], "standalone");
    assert_eq!(manifest["start_url"], "/");

    // Only the bundle's own files: not the list of names, not the sources, not a guess.
    for path in ["/pkg/assets.json", "/pkg/chat.css", "/pkg/chat.0123456789abcdef.wasm", "/pkg/../Cargo.toml"] {
        let response = http().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

fn regex_like_hashed(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 3 && parts[0] == "chat" && parts[1].len() == 16 && parts[1].bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn a_new_build_gives_changed_files_new_names_and_removes_the_old() {
    let site = tempfile::tempdir().unwrap();
    let first = build_site(site.path());
    let pkg = site.path().join("pkg");
    std::fs::write(pkg.join("chat.js"), "export default function init() {}\n".repeat(200)).unwrap();
    std::fs::write(pkg.join("chat_bg.wasm"), (0..60_000u32).map(|i| (i % 251) as u8 & 0x3f).collect::<Vec<u8>>())
        .unwrap();
    std::fs::write(pkg.join("chat.css"), "body { color: red; }\n").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/assets.mjs");
    assert!(std::process::Command::new("node")
        .arg(script)
        .arg(&pkg)
        .arg("--fast")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success());
    let second: app::Assets = serde_json::from_slice(&std::fs::read(pkg.join("assets.json")).unwrap()).unwrap();
    assert_eq!(second.wasm, first.wasm, "the same bundle keeps its name (browsers keep their copy)");
    assert_ne!(second.css, first.css, "a changed stylesheet gets a new name");
    assert!(!pkg.join(&first.css).exists() && !pkg.join(format!("{}.br", first.css)).exists());
}

/// What `wasm-split` and `wasm-bindgen` leave beside the bundle when pages are loaded on
/// demand: the glue imports the loader, the loader imports the glue and fetches the chunks (in
/// the shape wasm-split-cli 0.2.4 writes it: one page, needing one shared chunk).
fn add_pages_on_demand(root: &Path, chunk: &[u8]) {
    let pkg = root.join("pkg");
    std::fs::write(
        pkg.join("chat.js"),
        format!(
            "import * as import1 from \"./__wasm_split.js\"\nconst imports = {{ \"./__wasm_split.js\": import1 }};\n{}",
            "export default function init() {}\n".repeat(200)
        ),
    )
    .unwrap();
    let fetch = |file: &str| {
        format!(
            "makeLoad(() => {{\n    const src = fetch(new URL(\"./{file}\", import.meta.url));\n    src.catch(() => {{}});\n    \
             return async (imports) => (WebAssembly.instantiateStreaming(src, imports));\n}}\n"
        )
    };
    let loader = format!(
        "import {{ initSync }} from \"./chat.js\";\n\
         const __chunk_9 = {}, []);\n\
         export const __wasm_split_load___set_password_view_14195264268714257019 = wrapAsyncCb({}, [__chunk_9]));\n",
        fetch("chunk_9.wasm"),
        fetch("split___set_password_view_14195264268714257019.wasm")
    );
    std::fs::write(pkg.join("__wasm_split.js"), loader).unwrap();
    std::fs::write(pkg.join("split___set_password_view_14195264268714257019.wasm"), chunk).unwrap();
    std::fs::write(pkg.join("chunk_9.wasm"), [0u8, 97, 115, 109, 1, 0, 0, 0]).unwrap();
}

#[tokio::test]
async fn pages_loaded_on_demand_are_named_by_content_served_like_the_bundle_and_kept_once_fetched() {
    let site = tempfile::tempdir().unwrap();
    let chunk: Vec<u8> = (0..30_000u32).map(|i| (i % 241) as u8 & 0x3f).collect();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    add_pages_on_demand(site.path(), &chunk);
    let assets = build_site(site.path());
    let pkg = site.path().join("pkg");
    let named = |names: &[String], prefix: &str| {
        let found: Vec<&String> = names.iter().filter(|name| name.starts_with(prefix)).collect();
        assert_eq!(found.len(), 1, "one {prefix}<hash> in {names:?}");
        found[0].clone()
    };
    assert_eq!(assets.on_demand.len(), 3, "{:?}", assets.on_demand);
    let (loader, settings, shared) = (
        &named(&assets.on_demand, "split."),
        &named(&assets.on_demand, "set_password_view."),
        &named(&assets.on_demand, "chunk_9."),
    );
    // Each names the others by their new names: the glue its loader, the loader the glue and chunks.
    let glue = std::fs::read_to_string(pkg.join(&assets.js)).unwrap();
    assert!(glue.contains(&format!("from \"./{loader}\"")), "{}", &glue[..80]);
    assert!(
        glue.contains("{ \"./__wasm_split.js\": import1 }"),
        "the bundle's imports keep the name the WASM gives them"
    );
    let loads = std::fs::read_to_string(pkg.join(loader)).unwrap();
    for name in [&assets.js, settings, shared] {
        assert!(loads.contains(&format!("\"./{name}\"")), "the loader names {name}: {loads}");
    }
    for source in ["chat.js", "__wasm_split.js", "chunk_9.wasm", "split___set_password_view_14195264268714257019.wasm"]
    {
        assert!(!pkg.join(source).exists(), "{source} is consumed");
    }

    let app = spawn_with_site(site.path()).await;
    let response = http().get(app.url(&format!("/pkg/{settings}"))).header(ACCEPT_ENCODING, "br").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert_eq!(response.headers()[CONTENT_TYPE], "application/wasm");
    assert_eq!(response.headers()[CONTENT_ENCODING], "br");
    assert_eq!(decode("br", &response.bytes().await.unwrap()), chunk);
    let response = http().get(app.url(&format!("/pkg/{loader}"))).send().await.unwrap();
    assert_eq!(response.headers()[CONTENT_TYPE], "text/javascript");
    assert_eq!(response.text().await.unwrap(), loads);
    // A first visit straight to the page preloads its chunk and the shared one it needs, as
    // the loader will fetch them; a page in the bundle preloads nothing.
    assert_eq!(assets.pages["set_password_view"], [settings.clone(), shared.clone()]);
    let page = app.get("/set-password?token=x", None).await;
    let link = page.headers().get("link").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(page.text().await.unwrap().contains("This link does not work"), "the set-password page");
    assert_eq!(
        link,
        format!("</pkg/{settings}>; rel=preload; as=fetch; crossorigin, </pkg/{shared}>; rel=preload; as=fetch; crossorigin")
    );
    assert!(app.get("/login", None).await.headers().get("link").is_none());
    // The worker fetches none of them ahead (a first visit downloads no page it does not
    // show) and keeps each the first time the page asks for it.
    let script = http().get(app.url("/sw.js")).send().await.unwrap().text().await.unwrap();
    let on_demand = script.lines().find(|line| line.starts_with("const ON_DEMAND = ")).unwrap();
    let files = script.lines().find(|line| line.starts_with("const FILES = ")).unwrap();
    for name in &assets.on_demand {
        assert!(on_demand.contains(&format!("\"/pkg/{name}\"")) && !files.contains(name.as_str()), "{name}");
    }

    // The next build with a changed page: the chunk, the loader and the glue get new names
    // (so no browser keeps a loader that fetches the old chunk); the old ones are gone.
    add_pages_on_demand(site.path(), &chunk[1..]);
    let next = build_site(site.path());
    assert_ne!(named(&next.on_demand, "set_password_view."), *settings);
    assert_ne!(named(&next.on_demand, "split."), *loader);
    assert_ne!(next.js, assets.js);
    assert_eq!(named(&next.on_demand, "chunk_9."), *shared, "an unchanged chunk keeps its name");
    assert!(!pkg.join(settings).exists() && !pkg.join(loader).exists() && !pkg.join(format!("{settings}.br")).exists());
}

#[tokio::test]
async fn pages_and_api_answers_are_compressed_on_the_fly_when_asked() {
    let app = spawn_app().await;
    for (accept, expected) in [("br", "br"), ("gzip", "gzip"), ("identity", "")] {
        let response = http()
            .get(app.url("/login"))
            .header("Accept", "text/html")
            .header(ACCEPT_ENCODING, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let encoding = response.headers().get(CONTENT_ENCODING).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(encoding.unwrap_or_default(), expected, "{accept}");
        let html = String::from_utf8(decode(expected, &response.bytes().await.unwrap())).unwrap();
        assert!(html.contains("<h1>Log in</h1>") || html.contains(">Log in<"), "{accept}: the login page, whole");
    }
    // A server function's JSON too; a socket upgrade and a health check are not touched.
    let response =
        http().post(app.url("/api/directory")).header(ACCEPT_ENCODING, "gzip").form(&[("q", "")]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let health = http().get(app.url("/healthz")).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_chosen_theme_is_in_the_first_byte_of_every_page() {
    let app = spawn_app().await;
    let plain = app.get("/login", None).await.text().await.unwrap();
    assert!(plain.contains("<html lang=\"en\">"), "no choice: the system's colours (no data-theme)");

    let chosen = app.post_browser_form("/api/theme", &[("theme", "dark"), ("next", "/login")], None).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    assert_eq!(chosen.headers()["location"], "/login");
    let cookie = chosen.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("theme=dark;") && cookie.contains("Max-Age=31536000"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax") && cookie.contains("HttpOnly"), "{cookie}");
    let dark = app.get("/login", Some("theme=dark")).await.text().await.unwrap();
    assert!(dark.contains("<html lang=\"en\" data-theme=\"dark\">"), "{}", &dark[..200.min(dark.len())]);
    let light = app.get("/signup", Some("theme=light")).await.text().await.unwrap();
    assert!(light.contains("data-theme=\"light\""));
    let odd = app.get("/login", Some("theme=\"><script>")).await.text().await.unwrap();
    assert!(odd.contains("<html lang=\"en\">"), "an unknown theme is the system's");

    let system = app.post_browser_form("/api/theme", &[("theme", "system")], None).await;
    let cookie = system.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Max-Age=0"), "choosing the system forgets the choice: {cookie}");
    assert_eq!(system.headers()["location"], "/settings");
}
