//! Files shared with messages: posted with the message in one multipart form, typed by their
//! content, images re-encoded without their metadata, stored once however often they are
//! shared, removed when nothing shares them, and fetched only by people who may see the room.

use app::model::Attachment;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::avatars::{bomb, jpeg, png};
use crate::helpers::*;

/// Posts a message with files as the hydrated app does (JSON answer).
async fn attach(
    app: &TestApp,
    user: &TestUser,
    room: &str,
    body: &str,
    files: &[(&str, Vec<u8>)],
) -> reqwest::Response {
    let mut form = Form::new().text("room", room.to_owned()).text("body", body.to_owned());
    for (name, bytes) in files {
        form = form.part("file", Part::bytes(bytes.clone()).file_name(name.to_string()));
    }
    http().post(app.url("/api/attach")).header("Cookie", &user.cookie).multipart(form).send().await.unwrap()
}

async fn attach_ok(app: &TestApp, user: &TestUser, room: &str, body: &str, files: &[(&str, Vec<u8>)]) -> i64 {
    let response = attach(app, user, room, body, files).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["seq"].as_i64().unwrap()
}

/// The attachments of a message as the room page shows it.
async fn shown(app: &TestApp, user: &TestUser, room: &str, seq: i64) -> Vec<Attachment> {
    let page: serde_json::Value = app.call_ok("room", &[("name", room)], user).await;
    let message = page["messages"].as_array().unwrap().iter().find(|m| m["seq"] == seq).expect("the message is shown");
    serde_json::from_value(message["attachments"].clone()).unwrap_or_default()
}

async fn fetch(app: &TestApp, user: Option<&TestUser>, url: &str) -> reqwest::Response {
    let mut request = http().get(app.url(url));
    if let Some(user) = user {
        request = request.header("Cookie", &user.cookie);
    }
    request.send().await.unwrap()
}

/// The stored files and thumbnails on disk (the temporary folder left out), and what is left
/// in the temporary folder.
fn on_disk(app: &TestApp) -> (usize, usize) {
    let dir = app.data_dir().join("files");
    let count = |dir: std::path::PathBuf| {
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(Result::ok).filter(|e| e.file_type().unwrap().is_file()).count())
            .unwrap_or(0)
    };
    (count(dir.clone()), count(dir.join("tmp")))
}

/// A JPEG whose EXIF says "rotate 90° clockwise" and carries a GPS tag.
fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
    let plain = jpeg(width, height);
    // TIFF, little-endian: IFD0 with Orientation = 6, and a GPS IFD pointer (0x8825).
    let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&[2, 0]);
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    // The GPS IFD: GPSLatitudeRef = "N".
    tiff.extend_from_slice(&[1, 0, 0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0, 0, 0, 0, 0]);
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((segment.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&plain[2..]);
    out
}

#[tokio::test]
async fn images_and_files_arrive_with_their_message_and_are_served_safely() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let mut watching = app.socket("public-chat", &bob).await;
    let pdf = b"%PDF-1.7\n% a tiny document\n".to_vec();
    let seq =
        attach_ok(&app, &ana, "public-chat", "the plan", &[("Plan.png", png(1200, 600)), ("plan.pdf", pdf.clone())])
            .await;

    let message = next_message(&mut watching).await;
    assert_eq!((message.seq, message.body.as_str()), (seq, "the plan"));
    let [image, document] = message.attachments.as_slice() else {
        panic!("two attachments: {:?}", message.attachments)
    };
    assert_eq!((image.name.as_str(), image.mime.as_str()), ("Plan.png", "image/png"));
    assert_eq!((image.width, image.height), (Some(1200), Some(600)));
    assert!(image.thumb_url.is_some());
    assert_eq!(
        (document.name.as_str(), document.mime.as_str(), document.size),
        ("plan.pdf", "application/pdf", pdf.len() as i64)
    );
    assert_eq!(document.thumb_url, None);
    // The page, history and catch-up show the same.
    assert_eq!(shown(&app, &bob, "public-chat", seq).await, message.attachments);

    let full = fetch(&app, Some(&bob), &image.url).await;
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(full.headers()["content-type"], "image/png");
    assert!(full.headers()["content-disposition"].to_str().unwrap().starts_with("inline"));
    assert_eq!(full.headers()["x-content-type-options"], "nosniff");
    let decoded = image::load_from_memory(&full.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1200, 600));
    let thumb = fetch(&app, Some(&bob), image.thumb_url.as_deref().unwrap()).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    let small = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (480, 240), "a thumbnail fits in 480×480");

    let download = fetch(&app, Some(&bob), &document.url).await;
    assert_eq!(download.headers()["content-type"], "application/octet-stream");
    assert_eq!(download.headers()["content-disposition"], "attachment; filename*=UTF-8''plan.pdf");
    assert_eq!(download.bytes().await.unwrap().as_ref(), pdf.as_slice(), "other files are served as uploaded");
}

#[tokio::test]
async fn photos_are_turned_upright_and_lose_their_metadata() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let photo = jpeg_with_exif(40, 20);
    assert!(photo.windows(4).any(|w| w == b"Exif"));
    let seq = attach_ok(&app, &ana, "public-chat", "", &[("IMG_0001.JPG", photo)]).await;
    let [image] = shown(&app, &ana, "public-chat", seq).await.try_into().unwrap();
    assert_eq!((image.width, image.height), (Some(20), Some(40)), "the orientation is applied");
    let served = fetch(&app, Some(&ana), &image.url).await.bytes().await.unwrap();
    assert!(!served.windows(4).any(|w| w == b"Exif"), "no EXIF (and so no GPS) is served");
    let decoded = image::load_from_memory(&served).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (20, 40));
}

#[tokio::test]
async fn the_content_decides_the_type_and_nothing_uploaded_can_run_here() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let html = b"<!DOCTYPE html><script>alert(document.cookie)</script>".to_vec();
    let svg = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    let files = [("cat.png", b"not a picture at all".to_vec()), ("page.html", html), ("logo.svg", svg)];
    let seq = attach_ok(&app, &ana, "public-chat", "three files", &files).await;
    let shown = shown(&app, &ana, "public-chat", seq).await;
    let mimes: Vec<&str> = shown.iter().map(|a| a.mime.as_str()).collect();
    assert_eq!(mimes, ["text/plain", "text/html", "image/svg+xml"]);
    for file in &shown {
        assert_eq!(file.thumb_url, None, "{}: only images we decoded get a thumbnail", file.name);
        let response = fetch(&app, Some(&ana), &file.url).await;
        assert_eq!(response.headers()["content-type"], "application/octet-stream", "{}", file.name);
        assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    }
}

#[tokio::test]
async fn too_large_too_many_and_unreadable_files_are_refused_and_leave_nothing_behind() {
    let app = spawn_app_with(|config| config.max_upload_bytes = 1024 * 1024).await;
    let ana = app.signup("ana").await;
    let exactly = vec![b'a'; 1024 * 1024];
    let over = vec![b'a'; 1024 * 1024 + 1];
    let response =
        attach(&app, &ana, "public-chat", "too big", &[("fits.txt", exactly.clone()), ("big.txt", over)]).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.text().await.unwrap().contains("“big.txt” is larger than 1 MB"));

    let response = attach(&app, &ana, "public-chat", "a bomb", &[("huge.png", bomb())]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("at most 8000×8000"));

    let mut broken = png(10, 10);
    broken.truncate(40);
    let response = attach(&app, &ana, "public-chat", "broken", &[("broken.png", broken)]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("could not be read"));

    let eleven: Vec<(&str, Vec<u8>)> = (0..11).map(|n| ("n.txt", vec![b'0' + n as u8])).collect();
    let response = attach(&app, &ana, "public-chat", "many", &eleven).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("at most 10 files"));

    let bob = app.signup("bob").await;
    let secret = app.create_room(&ana, "Secret", "private").await;
    let response = attach(&app, &bob, &secret, "not mine", &[("a.txt", b"hello".to_vec())]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    assert_eq!(app.stored_messages("public-chat").await, 0, "no refused message was stored");
    assert_eq!(on_disk(&app), (0, 0), "and no file of theirs is left, not even half-received");
    // Exactly the limit is fine.
    attach_ok(&app, &ana, "public-chat", "", &[("fits.txt", exactly)]).await;
    assert_eq!(on_disk(&app), (1, 0));
}

#[tokio::test]
async fn only_people_who_may_see_the_room_fetch_its_files() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let room = app.create_room(&ana, "Inner circle", "private").await;
    let _: () = app.call_ok("add_member", &[("room", &room), ("username", "bob")], &ana).await;
    let seq =
        attach_ok(&app, &ana, &room, "for us", &[("photo.png", png(64, 64)), ("notes.txt", b"secret".to_vec())]).await;
    let files = shown(&app, &ana, &room, seq).await;
    let urls: Vec<String> =
        files.iter().map(|f| f.url.clone()).chain(files.iter().filter_map(|f| f.thumb_url.clone())).collect();
    let missing = fetch(&app, Some(&ana), "/files/999999/nothing.txt").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let nobody = missing.text().await.unwrap();
    for url in &urls {
        assert_eq!(fetch(&app, Some(&ana), url).await.status(), StatusCode::OK, "{url} for the author");
        assert_eq!(fetch(&app, Some(&bob), url).await.status(), StatusCode::OK, "{url} for a member");
        for who in [Some(&carol), None] {
            let response = fetch(&app, who, url).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{url}");
            assert_eq!(response.text().await.unwrap(), nobody, "exactly as a file that does not exist");
        }
    }
    // Bob leaves: no longer.
    let _: () = app.call_ok("leave_room", &[("room", &room)], &bob).await;
    for url in &urls {
        assert_eq!(fetch(&app, Some(&bob), url).await.status(), StatusCode::NOT_FOUND, "{url} after leaving");
    }
    // In a public room, anyone signed in may (they may read the room).
    let open = attach_ok(&app, &ana, "public-chat", "for all", &[("open.txt", b"open".to_vec())]).await;
    let [file] = shown(&app, &ana, "public-chat", open).await.try_into().unwrap();
    assert_eq!(fetch(&app, Some(&carol), &file.url).await.status(), StatusCode::OK);
    // Deleted with its message.
    let _: () = app.call_ok("delete_message", &[("room", &room), ("seq", &seq.to_string())], &ana).await;
    for url in &urls {
        assert_eq!(fetch(&app, Some(&ana), url).await.status(), StatusCode::NOT_FOUND, "{url} after deletion");
    }
}

#[tokio::test]
async fn the_same_bytes_are_stored_once_and_removed_when_nothing_shares_them() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let picture = png(300, 200);
    let first = attach_ok(&app, &ana, "public-chat", "once", &[("a.png", picture.clone())]).await;
    let second =
        attach_ok(&app, &ana, "public-chat", "twice", &[("b.png", picture.clone()), ("c.txt", b"x".to_vec())]).await;
    assert_eq!(app.state.store.count_files().await.unwrap(), 2);
    assert_eq!(on_disk(&app), (3, 0), "the picture and its thumbnail once, and the text file");
    let [kept, _] = shown(&app, &ana, "public-chat", second).await.try_into().unwrap();
    assert_eq!(kept.name, "b.png", "each message keeps the name it was shared under");

    let _: () = app.call_ok("delete_message", &[("room", "public-chat"), ("seq", &first.to_string())], &ana).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(fetch(&app, Some(&ana), &kept.url).await.status(), StatusCode::OK, "still shared by the second");
    assert_eq!(on_disk(&app), (3, 0));
    let _: () = app.call_ok("delete_message", &[("room", "public-chat"), ("seq", &second.to_string())], &ana).await;
    let mut left = on_disk(&app);
    for _ in 0..50 {
        if left == (0, 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        left = on_disk(&app);
    }
    assert_eq!(left, (0, 0), "nothing shares them: gone from disk");
    assert_eq!(app.state.store.count_files().await.unwrap(), 0);
}

#[tokio::test]
async fn without_javascript_the_message_form_posts_files_and_comes_back() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let form = Form::new()
        .text("room", "public-chat")
        .text("body", "from a plain form")
        .part("file", Part::bytes(png(50, 50)).file_name("plain.png"))
        // No file chosen in a second field: browsers send an empty part.
        .part("file", Part::bytes(Vec::new()).file_name(""));
    let response = app.post_browser_multipart("/api/attach", form, &ana).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/chat/room/public-chat/");
    let html = app.room_html("public-chat", &ana).await;
    assert!(html.contains("from a plain form"));
    assert!(html.contains("/files/thumb/"), "the page shows the image");
    // Refused: back to the room with the reason.
    let form = Form::new().text("room", "public-chat").text("body", "");
    let response = app.post_browser_multipart("/api/attach", form, &ana).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()["location"].to_str().unwrap().contains("attach_error=write%20something"));
}

#[tokio::test]
async fn files_are_found_by_their_names_until_their_message_is_deleted() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let pdf = b"%PDF-1.7\n".to_vec();
    let seq = attach_ok(
        &app,
        &ana,
        "public-chat",
        "here it is",
        &[("Quarterly Report.pdf", pdf), ("chart.png", png(20, 20))],
    )
    .await;
    let found: app::model::SearchPage = app.call_ok("search", &[("q", "quarterly report")], &ana).await;
    let [hit] = found.hits.as_slice() else { panic!("one hit: {:?}", found.hits) };
    assert_eq!(hit.seq, seq);
    let names: Vec<String> = hit.files.iter().map(|name| name.iter().map(|p| p.text.as_str()).collect()).collect();
    assert_eq!(names, ["Quarterly Report.pdf", "chart.png"]);
    let marked: Vec<&str> = hit.files[0].iter().filter(|p| p.mark).map(|p| p.text.as_str()).collect();
    assert_eq!(marked, ["Quarterly", "Report"]);
    let _: () = app.call_ok("delete_message", &[("room", "public-chat"), ("seq", &seq.to_string())], &ana).await;
    let found: app::model::SearchPage = app.call_ok("search", &[("q", "quarterly")], &ana).await;
    assert!(found.hits.is_empty(), "a deleted message's files are not found either");
}

#[tokio::test]
async fn a_client_gone_mid_upload_leaves_nothing_behind() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let start = "--b\r\nContent-Disposition: form-data; name=\"room\"\r\n\r\npublic-chat\r\n\
                 --b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.bin\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n";
    let head = format!(
        "POST /api/attach HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary=b\r\n\
         Content-Length: 5000000\r\n\r\n{start}",
        ana.cookie
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![7u8; 300_000]).await.unwrap();
    stream.flush().await.unwrap();
    // The half-received file is on disk while the upload goes on...
    let mut seen = (0, 0);
    for _ in 0..50 {
        seen = on_disk(&app);
        if seen.1 == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(seen, (0, 1), "one file being received");
    // ...and gone once the client is.
    drop(stream);
    let mut left = on_disk(&app);
    for _ in 0..100 {
        if left == (0, 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        left = on_disk(&app);
    }
    assert_eq!(left, (0, 0));
    assert_eq!(app.stored_messages("public-chat").await, 0);
}
