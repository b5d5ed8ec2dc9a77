//! A browser's push subscription as it sends it (`PushSubscription.toJSON()`), checked for
//! shape. The server checks the key is a real P-256 point and the endpoint a push service it
//! sends to.

use serde::Deserialize;

/// The longest endpoint taken (browsers' are under 500 characters).
const MAX_ENDPOINT: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    endpoint: String,
    p256dh: String,
    auth: String,
}

#[derive(Deserialize)]
struct Json {
    endpoint: String,
    keys: Keys,
}

#[derive(Deserialize)]
struct Keys {
    p256dh: String,
    auth: String,
}

const WHAT_TO_DO: &str = "turn push notifications off and on again in settings";

impl PushSubscription {
    /// Reads `{"endpoint": …, "keys": {"p256dh": …, "auth": …}}`.
    pub fn parse(json: &str) -> Result<Self, String> {
        let Json { endpoint, keys } = serde_json::from_str(json)
            .map_err(|_| format!("this browser sent a push subscription that cannot be read: {WHAT_TO_DO}"))?;
        let endpoint = endpoint.trim().to_owned();
        Self::endpoint(&endpoint)?;
        let key = |name: &str, text: String, length: usize| {
            let text = text.trim().trim_end_matches('=').to_owned();
            let base64url = text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if base64url && text.len() == length {
                Ok(text)
            } else {
                Err(format!("this browser's push key {name} is not valid: {WHAT_TO_DO}"))
            }
        };
        // 65 bytes of public key and 16 of secret, in base64url without padding.
        Ok(Self { endpoint, p256dh: key("p256dh", keys.p256dh, 87)?, auth: key("auth", keys.auth, 22)? })
    }

    /// Checks an endpoint as given to stop pushes to it.
    pub fn endpoint(endpoint: &str) -> Result<&str, String> {
        let web = endpoint.starts_with("https://") || endpoint.starts_with("http://");
        if web && endpoint.len() <= MAX_ENDPOINT && !endpoint.contains(char::is_whitespace) {
            Ok(endpoint)
        } else {
            Err(format!("a push endpoint is a web address of at most {MAX_ENDPOINT} characters"))
        }
    }

    pub fn endpoint_url(&self) -> &str {
        &self.endpoint
    }

    pub fn p256dh(&self) -> &str {
        &self.p256dh
    }

    pub fn auth(&self) -> &str {
        &self.auth
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";

    #[test]
    fn reads_what_browsers_send_and_says_what_is_wrong_otherwise() {
        let json = format!(
            r#"{{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","expirationTime":null,"keys":{{"p256dh":"{KEY}","auth":"BTBZMqHH6r4Tts7J_aSIgg=="}}}}"#
        );
        let subscription = PushSubscription::parse(&json).unwrap();
        assert_eq!(subscription.endpoint_url(), "https://fcm.googleapis.com/fcm/send/abc");
        assert_eq!(subscription.p256dh(), KEY);
        assert_eq!(subscription.auth(), "BTBZMqHH6r4Tts7J_aSIgg");

        assert!(PushSubscription::parse("{}").unwrap_err().contains("cannot be read"));
        let ftp = json.replace("https://fcm", "ftp://fcm");
        assert!(PushSubscription::parse(&ftp).unwrap_err().contains("web address"));
        let short = json.replace(KEY, &KEY[..80]);
        assert!(PushSubscription::parse(&short).unwrap_err().contains("p256dh"));
        let odd = json.replace("BTBZMqHH6r4Tts7J_aSIgg", "BTBZMqHH6r4Tts7J/aSIgg");
        assert!(PushSubscription::parse(&odd).unwrap_err().contains("auth"));
        let long = format!("https://push.example/{}", "a".repeat(MAX_ENDPOINT));
        assert!(PushSubscription::endpoint(&long).is_err());
    }
}
