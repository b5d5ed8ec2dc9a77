//! A push payload encrypted for one browser: RFC 8291 ("Message Encryption for Web Push") over
//! the `aes128gcm` content coding of RFC 8188, in a single record.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// The record size written in the header. One record holds the whole payload.
const RECORD_SIZE: u32 = 4096;
/// salt (16) + record size (4) + key id length (1) + the sender's public key (65).
const HEADER: usize = 16 + 4 + 1 + 65;
/// The most a payload may be: push services take 4096 bytes of body, which holds the header,
/// the padding delimiter and the 16-byte tag.
pub const MAX_PLAINTEXT: usize = 4096 - HEADER - 1 - 16;

#[derive(Debug, thiserror::Error)]
pub enum EncryptError {
    #[error("a push payload may be {MAX_PLAINTEXT} bytes, not {0}")]
    TooLarge(usize),
}

/// Encrypts `plaintext` for the browser whose keys are `ua_public` and `auth`, with a fresh
/// salt and a fresh sender key pair.
pub fn encrypt(plaintext: &[u8], ua_public: &PublicKey, auth: &[u8; 16]) -> Result<Vec<u8>, EncryptError> {
    let salt: [u8; 16] = rand::random();
    let sender = SecretKey::random(&mut rand::rngs::OsRng);
    encrypt_with(plaintext, ua_public, auth, &salt, &sender)
}

fn encrypt_with(
    plaintext: &[u8],
    ua_public: &PublicKey,
    auth: &[u8; 16],
    salt: &[u8; 16],
    sender: &SecretKey,
) -> Result<Vec<u8>, EncryptError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EncryptError::TooLarge(plaintext.len()));
    }
    let as_public = sender.public_key().to_encoded_point(false);
    let ua_point = ua_public.to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), ua_public.as_affine());

    // RFC 8291 §3.4: the input keying material, bound to both public keys and the auth secret.
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_point.as_bytes());
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .expect("32 bytes is a valid HKDF length");

    // RFC 8188 §2.2-2.3: the content encryption key and the nonce, from the salt.
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).expect("16 bytes is a valid HKDF length");
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).expect("12 bytes is a valid HKDF length");

    // The last (and only) record ends with the delimiter 2, and no padding.
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(2);
    let sealed = Aes128Gcm::new_from_slice(&cek)
        .expect("a 16-byte key")
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .expect("AES-GCM encrypts any record this short");

    let mut body = Vec::with_capacity(HEADER + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webpush::encode;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    /// RFC 8291, Appendix A: the same keys, salt and text give the same bytes, so a browser
    /// decrypts what this writes.
    #[test]
    fn encrypts_the_rfc_8291_example_to_the_same_bytes() {
        let ua_public = PublicKey::from_sec1_bytes(&b64(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        ))
        .unwrap();
        let auth: [u8; 16] = b64("BTBZMqHH6r4Tts7J_aSIgg").try_into().unwrap();
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let sender = SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        let body =
            encrypt_with(b"When I grow up, I want to be a watermelon", &ua_public, &auth, &salt, &sender).unwrap();
        assert_eq!(
            encode(&body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn each_push_has_its_own_salt_and_key_and_a_payload_too_large_is_refused() {
        let ua = SecretKey::random(&mut rand::rngs::OsRng).public_key();
        let a = encrypt(b"hello", &ua, &[7; 16]).unwrap();
        let b = encrypt(b"hello", &ua, &[7; 16]).unwrap();
        assert_ne!(a[..HEADER], b[..HEADER]);
        assert_eq!(a.len(), HEADER + 5 + 1 + 16);
        assert!(encrypt(&vec![b'x'; MAX_PLAINTEXT], &ua, &[7; 16]).unwrap().len() == 4096);
        assert!(matches!(encrypt(&vec![b'x'; MAX_PLAINTEXT + 1], &ua, &[7; 16]), Err(EncryptError::TooLarge(_))));
    }
}
