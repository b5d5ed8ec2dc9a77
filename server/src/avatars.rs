//! Avatars: uploaded images decoded with limits, cropped and resized to 256×256, re-encoded
//! as PNG and kept as files under `<DATA_DIR>/avatars/` (the database holds only the file
//! name). A new upload gets a new name, so the files are served with year-long cache headers.

use std::io::Cursor;
use std::path::PathBuf;

use image::{ImageFormat, ImageReader, Limits};
use rand::RngCore;

/// The largest upload accepted.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// The largest width or height decoded: a small file that claims more is refused unread.
pub const MAX_SIDE: u32 = 8000;
/// The most memory decoding may take (a 4000×4000 RGBA image is 64 MB).
const MAX_DECODE_BYTES: u64 = 160 * 1024 * 1024;
/// Every avatar is this many pixels square.
pub const SIDE: u32 = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AvatarError {
    #[error("that file is larger than 2 MB: choose a smaller image (PNG, JPEG, WebP or GIF)")]
    TooLarge,
    #[error("that file is not a PNG, JPEG, WebP or GIF image: choose one of those")]
    NotAnImage,
    #[error("that image is too large in pixels (at most 8000×8000): choose a smaller one")]
    TooManyPixels,
    #[error("that image could not be read (it may be damaged): try another file")]
    Unreadable,
    #[error("choose an image file first")]
    Missing,
}

/// Decodes, checks, crops to a centred square and resizes to 256×256; gives the PNG bytes.
/// CPU-heavy: call it off the async runtime.
pub fn process(bytes: &[u8]) -> Result<Vec<u8>, AvatarError> {
    if bytes.is_empty() {
        return Err(AvatarError::Missing);
    }
    if bytes.len() > MAX_BYTES {
        return Err(AvatarError::TooLarge);
    }
    let format = image::guess_format(bytes).map_err(|_| AvatarError::NotAnImage)?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif) {
        return Err(AvatarError::NotAnImage);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(|error| match error {
        image::ImageError::Limits(_) => AvatarError::TooManyPixels,
        _ => AvatarError::Unreadable,
    })?;
    let square = image.resize_to_fill(SIDE, SIDE, image::imageops::FilterType::Lanczos3);
    let mut png = Vec::new();
    square.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).map_err(|_| AvatarError::Unreadable)?;
    Ok(png)
}

/// The avatars folder.
#[derive(Debug, Clone)]
pub struct Avatars {
    dir: PathBuf,
}

impl Avatars {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Writes a processed avatar under a new random name (through a temporary file and a
    /// rename, so no half-written file is ever served); gives the name.
    pub async fn store(&self, user_id: i64, png: Vec<u8>) -> std::io::Result<String> {
        let mut random = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let name = format!("{user_id}-{}.png", hex::encode(random));
        let temporary = self.dir.join(format!(".{name}.part"));
        tokio::fs::create_dir_all(&self.dir).await?;
        if let Err(error) = tokio::fs::write(&temporary, &png).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(error);
        }
        tokio::fs::rename(&temporary, self.dir.join(&name)).await?;
        Ok(name)
    }

    /// Removes an avatar file; a file already gone is fine, any other failure is logged.
    pub async fn remove(&self, name: &str) {
        // Names come from the database, but never follow one out of the folder.
        if name.contains(['/', '\\']) || name.starts_with('.') {
            return;
        }
        match tokio::fs::remove_file(self.dir.join(name)).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::warn!(%error, file = name, "could not remove an avatar file"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 40, 40]));
        let mut bytes = Vec::new();
        image.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
        bytes
    }

    #[test]
    fn images_become_256_pixel_squares() {
        let out = process(&png(640, 360)).unwrap();
        let decoded = image::load_from_memory(&out).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (SIDE, SIDE));
    }

    #[test]
    fn what_is_not_an_image_is_refused_by_kind() {
        assert_eq!(process(b"hello, I am text pretending to be a PNG"), Err(AvatarError::NotAnImage));
        assert_eq!(process(b""), Err(AvatarError::Missing));
        let mut truncated = png(64, 64);
        truncated.truncate(60);
        assert_eq!(process(&truncated), Err(AvatarError::Unreadable));
    }
}
