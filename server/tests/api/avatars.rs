use std::io::Cursor;

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::helpers::*;

/// A PNG of this size full of noise, which does not compress: its size on disk is about
/// three bytes a pixel, like a large photo.
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as u8
    };
    let image = image::RgbImage::from_fn(width, height, |_, _| image::Rgb([next(), next(), next()]));
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes
}

pub(crate) fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([30, 120, 200]));
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg).unwrap();
    bytes
}

/// A valid 10000×10000 PNG of a few kilobytes: the decompression bomb.
pub(crate) fn bomb() -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, 10_000, 10_000);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&vec![0u8; 10_000 / 8 * 10_000]).unwrap();
        writer.finish().unwrap();
    }
    bytes
}

impl TestApp {
    /// Uploads `bytes` as the avatar, the way the hydrated app's form or a script does.
    pub(crate) async fn upload(&self, user: &TestUser, file_name: &str, bytes: Vec<u8>) -> reqwest::Response {
        let form = Form::new().part("avatar", Part::bytes(bytes).file_name(file_name.to_owned()));
        http().post(self.url("/api/avatar")).header("Cookie", &user.cookie).multipart(form).send().await.unwrap()
    }

    /// The files in the avatars folder (none of them half-written).
    fn avatar_files(&self) -> Vec<String> {
        let dir = self.state.avatars.dir();
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}

#[tokio::test]
async fn an_avatar_is_resized_to_256_pixels_and_served_with_long_cache_headers() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;

    let response = app.upload(&ana, "me.png", png(900, 500)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let url = response.json::<serde_json::Value>().await.unwrap()["avatar"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/avatars/") && url.ends_with(".png"), "{url}");

    let served = app.get(&url, None).await;
    assert_eq!(served.status(), StatusCode::OK);
    let cache = served.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache.contains("max-age=31536000") && cache.contains("immutable"), "{cache}");
    let image = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (256, 256));

    // Everyone sees it: the directory, the profile, and beside the messages.
    let people: Vec<serde_json::Value> = app.call_ok("directory", &[("q", "ana")], &bob).await;
    assert_eq!(people[0]["avatar"], url.as_str());
    let profile: serde_json::Value = app.call_ok("profile", &[("username", "ana")], &bob).await;
    assert_eq!(profile["person"]["avatar"], url.as_str());
    app.post("public-chat", &ana, "hello with a face").await;
    assert!(app.room_html("public-chat", &bob).await.contains(&format!("src=\"{url}\"")));

    // A new picture gets a new URL, and the old file goes.
    let again = app.upload(&ana, "me.jpg", jpeg(300, 300)).await;
    assert_eq!(again.status(), StatusCode::OK);
    let new_url = again.json::<serde_json::Value>().await.unwrap()["avatar"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    assert_eq!(app.avatar_files(), [new_url.trim_start_matches("/avatars/")]);
    assert_eq!(app.get(&url, None).await.status(), StatusCode::NOT_FOUND);

    // Removing it brings the initials back.
    let removed = app.post_form("/api/avatar/remove", &[], Some(&ana.cookie)).await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert!(app.avatar_files().is_empty());
    let profile: serde_json::Value = app.call_ok("profile", &[("username", "ana")], &bob).await;
    assert!(profile["person"]["avatar"].is_null());
}

#[tokio::test]
async fn what_is_not_a_small_enough_image_is_refused_and_nothing_stays_behind() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;

    // A real 3 MB image.
    let big = png(1000, 1000);
    assert!(big.len() > 3_000_000, "the test image is {} bytes", big.len());
    let response = app.upload(&ana, "big.png", big).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.text().await.unwrap().contains("larger than 2 MB"));

    let response = app.upload(&ana, "notes.png", b"these are my notes, not a picture".to_vec()).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(response.text().await.unwrap().contains("not a PNG, JPEG, WebP or GIF"));

    let bomb = bomb();
    assert!(bomb.len() < 100_000, "the bomb is small on disk ({} bytes)", bomb.len());
    let response = app.upload(&ana, "bomb.png", bomb).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("too large in pixels"));

    let response = app.upload(&ana, "empty.png", Vec::new()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    assert!(app.avatar_files().is_empty(), "nothing half-written stays: {:?}", app.avatar_files());
    let me: serde_json::Value = app.call_ok("profile", &[("username", "ana")], &ana).await;
    assert!(me["person"]["avatar"].is_null());

    // A browser's plain form comes back to its page with the reason.
    let form = Form::new()
        .text("next", "/welcome")
        .part("avatar", Part::bytes(b"GIF? no".to_vec()).file_name("x.gif".to_owned()));
    let response = app.post_browser_multipart("/api/avatar", form, &ana).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/welcome?avatar_error="), "{location}");
    let page = app.get(&location, Some(&ana.cookie)).await.text().await.unwrap();
    assert!(page.contains("not a PNG, JPEG, WebP or GIF"), "the page shows why");

    // Signed out: nothing is stored.
    let form = Form::new().part("avatar", Part::bytes(png(10, 10)).file_name("a.png".to_owned()));
    let response = http().post(app.url("/api/avatar")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
