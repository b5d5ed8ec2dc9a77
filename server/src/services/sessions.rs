//! A person's sessions as settings list them: which browser on which system (read from the
//! user agent the session signed in with), from where, since when, last used when.

use app::model::SessionInfo;

use crate::store::{rfc3339, SessionRow};

pub fn describe(row: SessionRow) -> SessionInfo {
    SessionInfo {
        device: device(row.user_agent.as_deref().unwrap_or_default()),
        address: row.address,
        signed_in_at: rfc3339(row.created_at),
        last_seen_at: rfc3339(row.last_seen_at),
        current: row.current,
        id: row.handle,
    }
}

/// "Firefox on Linux", "Safari on iOS", "curl", or "Unknown browser": the browser's family
/// and the system, from the first tokens that name them (a guess: a user agent says what it
/// likes).
pub fn device(agent: &str) -> String {
    let has = |token: &str| agent.contains(token);
    let browser = if has("Edg/") || has("EdgA/") || has("EdgiOS/") {
        "Edge"
    } else if has("OPR/") || has("Opera") {
        "Opera"
    } else if has("Firefox/") || has("FxiOS/") {
        "Firefox"
    } else if has("Chromium/") {
        "Chromium"
    } else if has("Chrome/") || has("CriOS/") {
        "Chrome"
    } else if has("Safari/") && has("Version/") {
        "Safari"
    } else if let Some(tool) = ["curl/", "Wget/", "python-requests/", "reqwest"].iter().find(|tool| has(tool)) {
        return tool.trim_end_matches('/').to_owned();
    } else {
        "Unknown browser"
    };
    let system = if has("Android") {
        Some("Android")
    } else if has("iPhone") || has("iPod") {
        Some("iOS")
    } else if has("iPad") {
        Some("iPadOS")
    } else if has("Windows") {
        Some("Windows")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Linux") || has("X11") {
        Some("Linux")
    } else {
        None
    };
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::device;

    #[test]
    fn browsers_and_systems_are_named_from_the_user_agent() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari on macOS",
            ),
            ("curl/8.5.0", "curl"),
            ("", "Unknown browser"),
            ("<script>", "Unknown browser"),
        ];
        for (agent, expected) in cases {
            assert_eq!(device(agent), expected, "{agent}");
        }
    }
}
