//! Building URLs on both sides of the edge.

/// Percent-encodes a query value (everything but unreserved characters and `/`).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// `path`, with `?q=<query>` when the query is not empty.
pub fn with_query(path: &str, query: &str) -> String {
    if query.trim().is_empty() {
        path.to_owned()
    } else {
        format!("{path}?q={}", percent_encode(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_encoded() {
        assert_eq!(with_query("/profiles", "ana maría&x"), "/profiles?q=ana%20mar%C3%ADa%26x");
        assert_eq!(with_query("/profiles", "  "), "/profiles");
    }
}
