//! Files shared with messages, under `<DATA_DIR>/files/`: received into a temporary file while
//! their SHA-256 is taken, typed by their content (never their name), images decoded with
//! limits and re-encoded (EXIF orientation applied, every other piece of metadata left
//! behind) with a thumbnail, then renamed into place under that hash once the message that
//! shares them is committed. The same bytes are stored once; a file no message shares any more
//! is removed by [`Files::sweep`].

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::store::{NewAttachment, Store};

/// The most files one message may share.
pub const MAX_FILES: usize = 10;
/// The largest width or height of an image decoded: a file that claims more is refused unread.
pub const MAX_SIDE: u32 = 8000;
/// The most memory decoding one image (all the frames of an animation) may take.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
/// The most frames of an animated GIF.
const MAX_FRAMES: usize = 500;
/// Thumbnails fit in this square.
pub const THUMB_SIDE: u32 = 480;
/// The longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    #[error("“{name}” is larger than {max_mb} MB: share a smaller file, or a link to it")]
    TooLarge { name: String, max_mb: u64 },
    #[error("a message can share at most 10 files: send the rest in another message")]
    TooMany,
    #[error("“{0}” is too large in pixels (at most 8000×8000): scale it down and try again")]
    TooManyPixels(String),
    #[error("“{0}” looks like an image but could not be read (it may be damaged): try another file")]
    Unreadable(String),
    #[error("“{0}” is empty: choose another file")]
    Empty(String),
}

/// A file as it arrived: in a temporary file, with its hash and its first bytes.
#[derive(Debug)]
pub struct Received {
    pub name: String,
    path: PathBuf,
    hash: Sha256,
    size: u64,
    head: Vec<u8>,
}

/// A file ready to share: its row, and the temporary files that become its name on disk.
#[derive(Debug)]
pub struct Prepared {
    pub attachment: NewAttachment,
    main: PathBuf,
    thumb: Option<PathBuf>,
    /// The upload itself, when `main` is a re-encoding of it.
    upload: Option<PathBuf>,
}

/// The files folder, and the lock that keeps placing a file and sweeping it away apart.
#[derive(Debug, Clone)]
pub struct Files {
    dir: PathBuf,
    lock: Arc<tokio::sync::Mutex<()>>,
}

/// A file name as shown: no folders, no control characters, at most 200 characters.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    match name.trim() {
        "" | "." | ".." => "file".to_owned(),
        name => name.to_owned(),
    }
}

/// What the first bytes of a file say it is: an image we decode, or another type.
fn sniff(head: &[u8]) -> Result<ImageFormat, &'static str> {
    if let Ok(format @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP)) =
        image::guess_format(head)
    {
        return Ok(format);
    }
    let starts = |magic: &[u8]| head.starts_with(magic);
    let mime = if starts(b"%PDF-") {
        "application/pdf"
    } else if starts(b"PK\x03\x04") {
        "application/zip"
    } else if starts(b"\x1f\x8b") {
        "application/gzip"
    } else if head.len() > 11 && &head[4..8] == b"ftyp" {
        "video/mp4"
    } else if starts(b"ID3") {
        "audio/mpeg"
    } else if starts(b"OggS") {
        "audio/ogg"
    } else if starts(b"\x1a\x45\xdf\xa3") {
        "video/webm"
    } else if head.contains(&0) {
        "application/octet-stream"
    } else {
        // Text (or UTF-8 cut mid-character at the end of the head): which kind, by its start.
        let text = match std::str::from_utf8(head) {
            Ok(text) => text,
            Err(error) if error.valid_up_to() + 4 > head.len() => {
                std::str::from_utf8(&head[..error.valid_up_to()]).unwrap_or_default()
            }
            Err(_) => return Err("application/octet-stream"),
        };
        let start = text.trim_start_matches('\u{feff}').trim_start().to_ascii_lowercase();
        if start.starts_with("<!doctype html") || start.starts_with("<html") {
            "text/html"
        } else if start.contains("<svg") {
            "image/svg+xml"
        } else {
            "text/plain"
        }
    };
    Err(mime)
}

impl Received {
    /// Removes the file (it will not be shared).
    pub async fn discard(self) {
        let _ = tokio::fs::remove_file(&self.path).await;
    }

    pub async fn discard_all(files: Vec<Received>) {
        for file in files {
            file.discard().await;
        }
    }

    /// Types the file by its content and, for an image, decodes it with limits and writes its
    /// re-encoding and thumbnail beside it. CPU-heavy: call it off the async runtime.
    pub fn prepare(self) -> Result<Prepared, FileError> {
        let hash = hex::encode(self.hash.clone().finalize());
        if self.size == 0 {
            let _ = std::fs::remove_file(&self.path);
            return Err(FileError::Empty(self.name));
        }
        let format = match sniff(&self.head) {
            Ok(format) => format,
            Err(mime) => {
                let attachment = NewAttachment {
                    hash,
                    name: self.name,
                    size: self.size as i64,
                    mime: mime.to_owned(),
                    width: None,
                    height: None,
                    thumb: false,
                };
                return Ok(Prepared { attachment, main: self.path, thumb: None, upload: None });
            }
        };
        let result = encode_image(&self.path, format, &self.name);
        let (main, thumb, mime, (width, height)) = match result {
            Ok(done) => done,
            Err(error) => {
                let _ = std::fs::remove_file(&self.path);
                return Err(error);
            }
        };
        let size = std::fs::metadata(&main).map(|m| m.len() as i64).unwrap_or_default();
        let attachment = NewAttachment {
            hash,
            name: self.name,
            size,
            mime: mime.to_owned(),
            width: Some(width as i64),
            height: Some(height as i64),
            thumb: true,
        };
        Ok(Prepared { attachment, main, thumb: Some(thumb), upload: Some(self.path) })
    }
}

type Encoded = (PathBuf, PathBuf, &'static str, (u32, u32));

/// The image re-encoded (orientation applied, nothing else kept) and its thumbnail, each in a
/// temporary file beside the upload; the type served and the size in pixels.
fn encode_image(upload: &Path, format: ImageFormat, name: &str) -> Result<Encoded, FileError> {
    let unreadable = || FileError::Unreadable(name.to_owned());
    let limit_error = |error: image::ImageError| match error {
        image::ImageError::Limits(_) => FileError::TooManyPixels(name.to_owned()),
        _ => unreadable(),
    };
    let bytes = std::fs::read(upload).map_err(|_| unreadable())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let main_path = upload.with_extension("main");
    let thumb_path = upload.with_extension("thumb");
    let (first, mime) = if format == ImageFormat::Gif {
        let mut decoder = GifDecoder::new(Cursor::new(&bytes)).map_err(limit_error)?;
        decoder.set_limits(limits).map_err(limit_error)?;
        let (width, height) = decoder.dimensions();
        let per_frame = u64::from(width) * u64::from(height) * 4;
        let most = (MAX_DECODE_BYTES / per_frame.max(1)).min(MAX_FRAMES as u64) as usize;
        let mut frames = Vec::new();
        for frame in decoder.into_frames() {
            if frames.len() == most {
                return Err(FileError::TooManyPixels(name.to_owned()));
            }
            frames.push(frame.map_err(limit_error)?);
        }
        let first = DynamicImage::ImageRgba8(frames.first().ok_or_else(unreadable)?.buffer().clone());
        let file = std::fs::File::create(&main_path).map_err(|_| unreadable())?;
        let mut encoder = GifEncoder::new_with_speed(std::io::BufWriter::new(file), 10);
        encoder.set_repeat(Repeat::Infinite).map_err(|_| unreadable())?;
        encoder.encode_frames(frames).map_err(|_| unreadable())?;
        (first, "image/gif")
    } else {
        let mut reader = ImageReader::with_format(Cursor::new(&bytes), format);
        reader.limits(limits);
        let mut decoder = reader.into_decoder().map_err(limit_error)?;
        let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
        let mut image = DynamicImage::from_decoder(decoder).map_err(limit_error)?;
        image.apply_orientation(orientation);
        let mime = write_still(&image, &main_path, format != ImageFormat::Png, 90).map_err(|_| unreadable())?;
        (image, mime)
    };
    let (width, height) = (first.width(), first.height());
    let thumb = if width > THUMB_SIDE || height > THUMB_SIDE {
        first.resize(THUMB_SIDE, THUMB_SIDE, image::imageops::FilterType::Triangle)
    } else {
        first
    };
    write_still(&thumb, &thumb_path, true, 80).map_err(|_| unreadable())?;
    Ok((main_path, thumb_path, mime, (width, height)))
}

/// Writes a still image: JPEG when `lossy` is allowed and it has no transparency, else PNG.
fn write_still(image: &DynamicImage, path: &Path, lossy: bool, quality: u8) -> image::ImageResult<&'static str> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    if lossy && !image.color().has_alpha() {
        image.to_rgb8().write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))?;
        Ok("image/jpeg")
    } else {
        image.write_to(&mut out, ImageFormat::Png)?;
        Ok("image/png")
    }
}

impl Files {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, lock: Arc::new(tokio::sync::Mutex::new(())) }
    }

    /// Where a stored file is, by hash (a hex SHA-256, nothing else).
    pub fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(hash)
    }

    pub fn thumb_path(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{hash}.thumb"))
    }

    /// Removes what an instance that stopped mid-upload left in `files/tmp/` (files untouched
    /// for an hour: another instance sharing the folder may be receiving the newer ones).
    pub async fn clear_stale(&self) {
        let Ok(mut entries) = tokio::fs::read_dir(self.dir.join("tmp")).await else { return };
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        while let Ok(Some(entry)) = entries.next_entry().await {
            let stale = entry.metadata().await.and_then(|m| m.modified()).is_ok_and(|at| at < hour_ago);
            if stale {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }

    /// Starts receiving a file: a new temporary file under `files/tmp/`.
    pub async fn receive(&self, name: &str) -> std::io::Result<Incoming> {
        let tmp = self.dir.join("tmp");
        tokio::fs::create_dir_all(&tmp).await?;
        let mut random = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut random);
        let path = tmp.join(hex::encode(random));
        let file = tokio::fs::File::create(&path).await?;
        Ok(Incoming {
            file,
            received: Received { name: clean_name(name), path, hash: Sha256::new(), size: 0, head: Vec::new() },
        })
    }

    /// Renames prepared files into place (the message sharing them is committed). The same
    /// bytes stored before are simply replaced by themselves.
    pub async fn place(&self, prepared: Vec<Prepared>) {
        let _placing = self.lock.lock().await;
        for file in prepared {
            let hash = &file.attachment.hash;
            if let Err(error) = tokio::fs::rename(&file.main, self.path(hash)).await {
                tracing::error!(%error, %hash, "could not put a shared file in place");
            }
            if let Some(thumb) = &file.thumb {
                if let Err(error) = tokio::fs::rename(thumb, self.thumb_path(hash)).await {
                    tracing::error!(%error, %hash, "could not put a thumbnail in place");
                }
            }
            if let Some(upload) = &file.upload {
                let _ = tokio::fs::remove_file(upload).await;
            }
        }
    }

    /// Removes the temporary files of files that will not be shared (their message failed).
    pub async fn discard(prepared: Vec<Prepared>) {
        for file in prepared {
            for path in [Some(file.main), file.thumb, file.upload].into_iter().flatten() {
                let _ = tokio::fs::remove_file(path).await;
            }
        }
    }

    /// Removes the files no message shares any more: their rows, then what is on disk.
    pub async fn sweep(&self, store: &Store) {
        let _sweeping = self.lock.lock().await;
        match store.remove_unshared_files().await {
            Ok(hashes) => {
                for hash in hashes {
                    let _ = tokio::fs::remove_file(self.path(&hash)).await;
                    let _ = tokio::fs::remove_file(self.thumb_path(&hash)).await;
                }
            }
            Err(error) => tracing::error!(%error, "could not sweep unshared files"),
        }
    }
}

/// A file being received.
pub struct Incoming {
    file: tokio::fs::File,
    received: Received,
}

impl Incoming {
    /// Writes the next piece; false once the file is larger than `max` bytes (nothing more
    /// is written then, but the caller should keep reading to answer clearly).
    pub async fn push(&mut self, chunk: &[u8], max: u64) -> std::io::Result<bool> {
        let received = &mut self.received;
        received.size += chunk.len() as u64;
        if received.size > max {
            return Ok(false);
        }
        if received.head.len() < 512 {
            let take = (512 - received.head.len()).min(chunk.len());
            received.head.extend_from_slice(&chunk[..take]);
        }
        received.hash.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(true)
    }

    pub fn size(&self) -> u64 {
        self.received.size
    }

    /// The file, whole and on disk.
    pub async fn finish(mut self) -> std::io::Result<Received> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        Ok(self.received)
    }

    /// Gives up on the file.
    pub async fn abandon(self) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.received.path).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_folders_and_control_characters() {
        assert_eq!(clean_name("C:\\Users\\ana\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name(&"x".repeat(300)).chars().count(), 200);
    }

    #[test]
    fn the_type_comes_from_the_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Ok(ImageFormat::Png));
        assert_eq!(sniff(b"just some words, named cat.png"), Err("text/plain"));
        assert_eq!(sniff(b"  <!DOCTYPE html><script>alert(1)</script>"), Err("text/html"));
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><svg onload=\"alert(1)\"/>"), Err("image/svg+xml"));
        assert_eq!(sniff(b"%PDF-1.7 ..."), Err("application/pdf"));
        assert_eq!(sniff(b"\x00\x01\x02binary"), Err("application/octet-stream"));
    }
}
