//! The server's VAPID key (RFC 8292): made on first start, kept in a file under `DATA_DIR`
//! (PKCS#8 PEM, readable by its owner only), so that browsers' subscriptions, which are bound
//! to it, outlive restarts. Several instances sharing `DATA_DIR` share the key.

use std::io::{self, Write};
use std::path::Path;

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use p256::SecretKey;

use super::encode;

/// How long a signed `Authorization` holds (RFC 8292 allows at most 24 hours).
const JWT_LIFETIME_S: u64 = 12 * 60 * 60;

pub struct VapidKey {
    signing: SigningKey,
    /// The uncompressed public point in base64url: the `applicationServerKey` browsers
    /// subscribe with, and the `k=` of every push.
    public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey").field("public", &self.public).finish_non_exhaustive()
    }
}

impl VapidKey {
    /// Reads the key at `path`, or makes one there. Two instances starting at once end up with
    /// the same key: the new file is written aside and linked into place only if none is there.
    pub fn load_or_create(path: &Path) -> io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(pem) => Self::from_pem(&pem, path),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                if let Some(folder) = path.parent() {
                    std::fs::create_dir_all(folder)?;
                }
                let secret = SecretKey::random(&mut rand::rngs::OsRng);
                let pem = secret.to_pkcs8_pem(LineEnding::LF).map_err(io::Error::other)?;
                let aside = path.with_extension(format!("new-{:016x}", rand::random::<u64>()));
                write_private(&aside, pem.as_bytes())?;
                let linked = std::fs::hard_link(&aside, path);
                let _ = std::fs::remove_file(&aside);
                match linked {
                    Ok(()) => Ok(Self::from_secret(secret)),
                    // Another instance was first: use its key.
                    Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                        Self::from_pem(&std::fs::read_to_string(path)?, path)
                    }
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    fn from_pem(pem: &str, path: &Path) -> io::Result<Self> {
        SecretKey::from_pkcs8_pem(pem).map(Self::from_secret).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a P-256 private key in PKCS#8 PEM; move it away to make a new one", path.display()),
            )
        })
    }

    fn from_secret(secret: SecretKey) -> Self {
        let public = encode(secret.public_key().to_encoded_point(false).as_bytes());
        Self { signing: SigningKey::from(secret), public }
    }

    /// The key browsers subscribe with (`applicationServerKey`), base64url.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header of a push to `endpoint`: a JWT (ES256) for the endpoint's
    /// origin, valid for 12 hours from `now_s`, naming `contact`.
    pub fn authorization(&self, endpoint: &reqwest::Url, contact: &str, now_s: u64) -> String {
        let audience = endpoint.origin().ascii_serialization();
        let header = encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": now_s + JWT_LIFETIME_S, "sub": contact });
        let claims = encode(claims.to_string().as_bytes());
        let signed = format!("{header}.{claims}");
        let signature: Signature = self.signing.sign(signed.as_bytes());
        format!("vapid t={signed}.{}, k={}", encode(&signature.to_bytes()), self.public)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;

    #[test]
    fn the_key_is_made_once_kept_private_and_signs_what_a_push_service_checks() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("push").join("vapid.pem");
        let made = VapidKey::load_or_create(&path).unwrap();
        let again = VapidKey::load_or_create(&path).unwrap();
        assert_eq!(made.public_key(), again.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1, "nothing left aside");

        let endpoint = reqwest::Url::parse("https://push.example.net:8443/send/abc?x=1").unwrap();
        let header = made.authorization(&endpoint, "mailto:ops@example.org", 1_000);
        let (token, key) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(key, made.public_key());
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(signed.split_once('.').unwrap().1).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["exp"], 1_000 + JWT_LIFETIME_S);
        assert_eq!(claims["sub"], "mailto:ops@example.org");
        let verifying = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(key).unwrap()).unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
        assert!(verifying.verify(signed.as_bytes(), &signature).is_ok());
    }

    #[test]
    fn a_damaged_key_file_is_refused_with_what_to_do() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("vapid.pem");
        std::fs::write(&path, "not a key").unwrap();
        let error = VapidKey::load_or_create(&path).unwrap_err();
        assert!(error.to_string().contains("move it away"), "{error}");
    }
}
