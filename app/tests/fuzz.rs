//! Fuzzing what strangers send (property tests with proptest): the room socket's client frames,
//! the domain newtypes every form and frame goes through, the provisioning JSON, and message
//! formatting (`app::format`, whose HTML goes into every page). Inputs are
//! arbitrary text and mutations of the corpus kept in `fuzz/corpus/<target>/` (one input per
//! file; add one whenever a bug is found). Nothing may panic, and whatever is accepted must
//! hold the type's promises. The test command runs `FUZZ_CASES` inputs per target (50,000 by
//! default, about 20 seconds); run longer by hand with, say, `FUZZ_CASES=200000 cargo test -p app
//! --test fuzz --release`. A failure is written to `fuzz/regressions.txt` and replayed first
//! from then on.

use app::domain::{
    mentions, Bio, BodyError, ClientId, DisplayName, Email, Emoji, MessageBody, Password, Role, RoomName, RoomTitle,
    Username,
};
use app::format::{to_html, Mentions};
use app::protocol::{ClientControl, ClientFrame, ProvisioningRequest};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;

/// Where a failing input is kept (commit it): replayed first by every later run.
const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/regressions.txt");

fn cases() -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(50_000)
}

/// The corpus of one target, every file as text.
fn corpus(target: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut seeds: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("the corpus {}: {error}", dir.display()))
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "the corpus {target} has inputs");
    seeds
}

/// An edit of a seed: insert, delete or replace a character, or repeat a stretch.
#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, char),
    Delete(Index),
    Replace(Index, char),
    Repeat(Index, Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Characters that matter to JSON and to the newtypes, and any other.
    let interesting = prop_oneof![
        prop::sample::select(vec!['"', '\\', '{', '}', '[', ']', ':', ',', '@', '-', '_', ' ', '\n', '\0', '0', '9']),
        any::<char>(),
    ];
    prop_oneof![
        (any::<Index>(), interesting.clone()).prop_map(|(at, c)| Edit::Insert(at, c)),
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), interesting).prop_map(|(at, c)| Edit::Replace(at, c)),
        (any::<Index>(), any::<Index>()).prop_map(|(from, to)| Edit::Repeat(from, to)),
    ]
}

fn mutate(seed: &str, edits: &[Edit]) -> String {
    let mut text: Vec<char> = seed.chars().collect();
    for edit in edits {
        let len = text.len().max(1);
        match *edit {
            Edit::Insert(at, c) => {
                let at = at.index(len + 1).min(text.len());
                text.insert(at, c);
            }
            Edit::Delete(at) if !text.is_empty() => {
                text.remove(at.index(len));
            }
            Edit::Replace(at, c) if !text.is_empty() => text[at.index(len)] = c,
            Edit::Repeat(from, to) if !text.is_empty() => {
                let (a, b) = (from.index(len), to.index(len));
                let stretch: Vec<char> = text[a.min(b)..=a.max(b)].to_vec();
                let end = a.max(b) + 1;
                text.splice(end..end, stretch);
            }
            _ => {}
        }
    }
    text.into_iter().collect()
}

/// Arbitrary text, or a seed of `target`'s corpus with a few edits.
fn inputs(target: &str) -> impl Strategy<Value = String> {
    let seeds = corpus(target);
    prop_oneof![
        1 => any::<String>(),
        3 => (prop::sample::select(seeds), prop::collection::vec(edit(), 0..8))
            .prop_map(|(seed, edits)| mutate(&seed, &edits)),
    ]
}

/// What every accepted newtype promises: its text parses again to the same value.
fn newtypes_hold_their_promises(text: &str) {
    if let Ok(name) = Username::parse(text) {
        let n = name.as_str();
        assert!((Username::MIN_CHARS..=Username::MAX_CHARS).contains(&n.len()));
        assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        assert_eq!(Username::parse(n), Ok(name.clone()));
    }
    if let Ok(password) = Password::parse(text) {
        let count = password.expose().chars().count();
        assert!((Password::MIN_CHARS..=Password::MAX_CHARS).contains(&count));
        assert_eq!(password.expose(), text, "a password is kept exactly as typed");
    }
    if let Ok(Some(email)) = Email::parse_optional(text) {
        let e = email.as_str();
        assert!(e.len() <= Email::MAX_CHARS && e.contains('@') && !e.chars().any(char::is_whitespace));
        assert_eq!(Email::parse_optional(e), Ok(Some(email.clone())));
    }
    if let Ok(role) = Role::parse(text) {
        assert!(role.as_str().len() <= Role::MAX_CHARS && role.as_str() == role.as_str().to_lowercase());
        assert_eq!(Role::parse(role.as_str()), Ok(role.clone()));
    }
    if let Ok(Some(name)) = DisplayName::parse(text) {
        assert!(name.as_str().chars().count() <= DisplayName::MAX_CHARS);
        assert!(!name.as_str().chars().any(char::is_control) && name.as_str() == name.as_str().trim());
        assert_eq!(DisplayName::parse(name.as_str()), Ok(Some(name.clone())));
    }
    if let Ok(bio) = Bio::parse(text) {
        assert!(bio.as_str().chars().count() <= Bio::MAX_CHARS);
    }
    if let Ok(title) = RoomTitle::parse(text) {
        assert!(title.as_str().chars().count() <= RoomTitle::MAX_CHARS);
        let slug = title.slug();
        assert!(!slug.is_empty() && slug.len() <= RoomName::SLUG_MAX_CHARS + "room-".len(), "{slug:?}");
        assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{slug:?}");
        assert!(!slug.starts_with(RoomName::DIRECT_PREFIX) && slug != RoomName::PUBLIC, "{slug:?}");
        assert!(RoomName::parse(&slug).is_some(), "a slug is a room name: {slug:?}");
    }
    if let Some(room) = RoomName::parse(text) {
        assert!(room.as_str().chars().count() <= RoomName::MAX_CHARS);
    }
    if let Ok(emoji) = Emoji::parse(text) {
        let e = emoji.as_str();
        assert!(!e.is_empty() && e.len() <= Emoji::MAX_BYTES && e == e.trim(), "{e:?}");
        assert!(!e.chars().any(|c| c.is_alphabetic() || c.is_control() || c.is_whitespace()), "{e:?}");
        assert_eq!(Emoji::parse(e), Ok(emoji.clone()));
    }
    let found = mentions(text);
    for (i, name) in found.iter().enumerate() {
        assert!(Username::parse(name).is_ok() && *name == name.to_lowercase(), "{name:?}");
        assert!(!found[..i].contains(name), "each mention once");
    }
}

/// What the room socket does with a frame: a control frame, or a message whose body and id
/// are checked; anything else is refused (never a panic).
fn client_frames_mean_what_they_say(text: &str) {
    if let Some(control) = ClientControl::parse(text) {
        assert_eq!(ClientControl::parse(&control.to_json()), Some(control), "control frames round-trip");
    }
    if let Ok(frame) = serde_json::from_str::<ClientFrame>(text) {
        match MessageBody::parse(&frame.body) {
            Ok(body) => {
                assert_eq!(body.as_str(), frame.body.trim());
                assert!(!body.as_str().is_empty() && body.as_str().chars().count() <= MessageBody::MAX_CHARS);
            }
            Err(BodyError::Empty) => assert!(frame.body.trim().is_empty()),
            Err(BodyError::TooLong) => assert!(frame.body.trim().chars().count() > MessageBody::MAX_CHARS),
        }
        if let Some(Ok(id)) = frame.client_id.as_deref().map(ClientId::parse) {
            let id = id.as_str();
            assert!(!id.is_empty() && id.len() <= ClientId::MAX_CHARS);
            assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        }
    }
}

/// A sync's every entry is applied or rejected (with a reason), never both, and a username
/// is applied once.
fn provisioning_accounts_for_every_entry(text: &str) {
    let Ok(request) = serde_json::from_str::<ProvisioningRequest>(text) else { return };
    let ProvisioningRequest::AllUsers { users } = &request;
    let (valid, rejected) = request.check();
    assert_eq!(valid.len() + rejected.len(), users.len());
    let mut indices: Vec<usize> = valid.iter().map(|(i, _)| *i).chain(rejected.iter().map(|r| r.index)).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..users.len()).collect::<Vec<_>>(), "each entry once");
    let mut names: Vec<String> = valid.iter().map(|(_, (name, ..))| name.as_str().to_lowercase()).collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count, "a username applied once");
    assert!(rejected.iter().all(|r| !r.reason.is_empty()), "every rejection says why");
}

/// Formatting never lets markup through: only its own tags, balanced, links only to the web or
/// email and always with `rel`, no images or scripts.
fn formatting_writes_only_safe_html(text: &str) {
    let members = vec!["ana".to_owned(), "bob".to_owned()];
    let html = to_html(text, Mentions { members: &members, me: Some("ana") });
    // Every `<` is one of our tags: the text's own are escaped (`&lt;script`).
    let mut rest = html.as_str();
    while let Some(at) = rest.find('<') {
        let tag_end = rest[at..].find('>').map(|end| at + end).expect("every tag is closed");
        let tag = &rest[at + 1..tag_end];
        let name = tag.trim_start_matches('/').split([' ', '>']).next().unwrap_or_default();
        let known =
            ["p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span"];
        assert!(known.contains(&name), "only our own tags: <{tag}> in {html}");
        if name == "a" && !tag.starts_with('/') {
            assert!(tag.contains("rel=\"noopener nofollow ugc\""), "{tag}");
            let href = tag.split("href=\"").nth(1).and_then(|h| h.split('"').next()).unwrap_or_default();
            let href = href.to_ascii_lowercase();
            assert!(
                href.starts_with("http://") || href.starts_with("https://") || href.starts_with("mailto:"),
                "{tag}"
            );
        }
        rest = &rest[tag_end + 1..];
    }
    for name in ["strong", "em", "del", "code", "pre", "blockquote", "a", "span", "p", "li", "ul", "ol"] {
        let opened = html.matches(&format!("<{name}>")).count() + html.matches(&format!("<{name} ")).count();
        assert_eq!(opened, html.matches(&format!("</{name}>")).count(), "<{name}> balanced in {html}");
    }
}

#[test]
fn the_corpus_itself_passes() {
    corpus("messages").iter().for_each(|text| formatting_writes_only_safe_html(text));
    corpus("client_frames").iter().for_each(|text| client_frames_mean_what_they_say(text));
    corpus("newtypes").iter().for_each(|text| newtypes_hold_their_promises(text));
    corpus("provisioning").iter().for_each(|text| provisioning_accounts_for_every_entry(text));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn client_frames(text in inputs("client_frames")) {
        client_frames_mean_what_they_say(&text);
    }

    #[test]
    fn newtypes(text in inputs("newtypes")) {
        newtypes_hold_their_promises(&text);
    }

    #[test]
    fn message_formatting(text in inputs("messages")) {
        formatting_writes_only_safe_html(&text);
    }

    #[test]
    fn provisioning_json(text in inputs("provisioning")) {
        provisioning_accounts_for_every_entry(&text);
    }
}
