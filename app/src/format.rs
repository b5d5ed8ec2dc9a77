//! How a message body is shown: a small, safe Markdown subset turned into HTML, the same on
//! the server render and in the browser. **bold**, *italic*, ~~strike~~, `code`, fenced code
//! blocks, block quotes (nested a few deep), lists, and links: `http`, `https` and `mailto`
//! only, bare URLs made clickable, each with `rel="noopener nofollow ugc"`. Mentions of people
//! in the room are marked (`mention`, and `mention mine` for the reader). Raw HTML is never
//! passed through: it shows as the text it is. Everything written here is escaped.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Who may be mentioned: the room's members (lowercased usernames), and the reader.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mentions<'a> {
    pub members: &'a [String],
    pub me: Option<&'a str>,
}

/// Block quotes deeper than this show their text without more indentation.
const MAX_QUOTE_DEPTH: usize = 4;

const LINK_REL: &str = "noopener nofollow ugc";

/// The HTML of a message body.
pub fn to_html(body: &str, mentions: Mentions<'_>) -> String {
    let mut html = String::with_capacity(body.len() + body.len() / 2 + 16);
    let mut writer = Writer { html: &mut html, mentions, quotes: 0, links: Vec::new(), in_code: false };
    for event in Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH) {
        writer.event(event);
    }
    html
}

struct Writer<'w, 'm> {
    html: &'w mut String,
    mentions: Mentions<'m>,
    /// How deep in block quotes the text is.
    quotes: usize,
    /// For each link open: whether its `<a>` was written (a refused scheme writes none).
    links: Vec<bool>,
    in_code: bool,
}

impl Writer<'_, '_> {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) if self.in_code || self.links.last() == Some(&true) => escape(self.html, &text),
            Event::Text(text) => self.text(&text),
            Event::Code(code) => {
                self.html.push_str("<code>");
                escape(self.html, &code);
                self.html.push_str("</code>");
            }
            // Raw HTML is text like any other.
            Event::Html(text) | Event::InlineHtml(text) => escape(self.html, &text),
            Event::SoftBreak | Event::HardBreak => self.html.push_str("<br>"),
            Event::Rule => self.html.push_str("<hr>"),
            Event::InlineMath(text) | Event::DisplayMath(text) => escape(self.html, &text),
            Event::FootnoteReference(text) => escape(self.html, &text),
            Event::TaskListMarker(done) => self.html.push_str(if done { "[x] " } else { "[ ] " }),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        let open = match tag {
            Tag::Paragraph => "<p>",
            Tag::Heading { .. } => "<p><strong>",
            Tag::BlockQuote(_) => {
                self.quotes += 1;
                if self.quotes > MAX_QUOTE_DEPTH {
                    return;
                }
                "<blockquote>"
            }
            Tag::CodeBlock(_) => {
                self.in_code = true;
                "<pre><code>"
            }
            Tag::List(Some(_)) => "<ol>",
            Tag::List(None) => "<ul>",
            Tag::Item => "<li>",
            Tag::Emphasis => "<em>",
            Tag::Strong => "<strong>",
            Tag::Strikethrough => "<del>",
            Tag::Link { dest_url, .. } => {
                let allowed = allowed_link(&dest_url);
                self.links.push(allowed);
                if allowed {
                    self.anchor(&dest_url);
                }
                return;
            }
            // No images from elsewhere: their description shows as text.
            Tag::Image { .. } => {
                self.links.push(false);
                return;
            }
            _ => return,
        };
        self.html.push_str(open);
    }

    fn end(&mut self, tag: TagEnd) {
        let close = match tag {
            TagEnd::Paragraph => "</p>",
            TagEnd::Heading(_) => "</strong></p>",
            TagEnd::BlockQuote(_) => {
                self.quotes -= 1;
                if self.quotes >= MAX_QUOTE_DEPTH {
                    return;
                }
                "</blockquote>"
            }
            TagEnd::CodeBlock => {
                self.in_code = false;
                "</code></pre>"
            }
            TagEnd::List(true) => "</ol>",
            TagEnd::List(false) => "</ul>",
            TagEnd::Item => "</li>",
            TagEnd::Emphasis => "</em>",
            TagEnd::Strong => "</strong>",
            TagEnd::Strikethrough => "</del>",
            TagEnd::Link | TagEnd::Image => {
                if self.links.pop() == Some(true) {
                    self.html.push_str("</a>");
                }
                return;
            }
            _ => return,
        };
        self.html.push_str(close);
    }

    fn anchor(&mut self, url: &str) {
        self.html.push_str("<a href=\"");
        escape(self.html, url);
        self.html.push_str("\" rel=\"");
        self.html.push_str(LINK_REL);
        self.html.push_str("\" target=\"_blank\">");
    }

    /// Plain text: bare URLs become links, mentions of members are marked, the rest escaped.
    fn text(&mut self, text: &str) {
        let mut rest = text;
        while !rest.is_empty() {
            let Some((at, kind)) = next_special(rest) else {
                escape(self.html, rest);
                return;
            };
            escape(self.html, &rest[..at]);
            rest = &rest[at..];
            let taken = match kind {
                Special::Url => {
                    let url = bare_url(rest);
                    self.anchor(url);
                    escape(self.html, url);
                    self.html.push_str("</a>");
                    url.len()
                }
                Special::Mention => self.mention(rest),
            };
            rest = &rest[taken..];
        }
    }

    /// Writes the mention `@name…` at the start of `text` (or just the `@`); gives the bytes used.
    fn mention(&mut self, text: &str) -> usize {
        let name: String = text[1..].chars().take_while(|c| is_name_char(*c)).collect();
        let name = name.trim_end_matches(['-', '_']);
        let lower = name.to_lowercase();
        if name.is_empty() || !self.mentions.members.contains(&lower) {
            self.html.push('@');
            return 1;
        }
        let mine = self.mentions.me.is_some_and(|me| me.eq_ignore_ascii_case(&lower));
        self.html.push_str(if mine { "<span class=\"mention mine\">@" } else { "<span class=\"mention\">@" });
        escape(self.html, name);
        self.html.push_str("</span>");
        1 + name.len()
    }
}

enum Special {
    Url,
    Mention,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Where the next bare URL (`http://`, `https://`) or mention (`@` not inside a word, so an
/// email address mentions nobody) starts.
fn next_special(text: &str) -> Option<(usize, Special)> {
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts_word = !previous.is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '-' || p == '/');
        if c == '@' && starts_word {
            return Some((at, Special::Mention));
        }
        if (c == 'h' || c == 'H') && starts_word {
            let rest = &text[at..];
            let lower = rest.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
            if (lower.starts_with("http://") && rest.len() > 7) || (lower == "https://" && rest.len() > 8) {
                return Some((at, Special::Url));
            }
        }
        previous = Some(c);
    }
    None
}

/// A bare URL at the start of `text`: up to white space or `<`, without the punctuation that
/// usually ends a sentence after it (or a closing bracket it does not open).
fn bare_url(text: &str) -> &str {
    let end = text.find(|c: char| c.is_whitespace() || c == '<' || c == '"').unwrap_or(text.len());
    let mut url = &text[..end];
    loop {
        let trimmed = url.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'']);
        let trimmed = if trimmed.ends_with(')') && trimmed.matches('(').count() < trimmed.matches(')').count() {
            &trimmed[..trimmed.len() - 1]
        } else {
            trimmed
        };
        if trimmed.len() == url.len() {
            return url;
        }
        url = trimmed;
    }
}

/// Links may go to the web or to an email address; `javascript:`, `data:` and the rest show
/// as text.
fn allowed_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:")
}

fn escape(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(body: &str) -> String {
        to_html(body, Mentions::default())
    }

    #[test]
    fn the_subset_is_formatted() {
        assert_eq!(
            html("**bold** *italic* ~~gone~~ `x < y`"),
            "<p><strong>bold</strong> <em>italic</em> <del>gone</del> <code>x &lt; y</code></p>"
        );
        assert_eq!(html("```\nfn main() {}\n<b>\n```"), "<pre><code>fn main() {}\n&lt;b&gt;\n</code></pre>");
        assert_eq!(html("> quoted\n\nreply"), "<blockquote><p>quoted</p></blockquote><p>reply</p>");
        assert_eq!(html("one\ntwo"), "<p>one<br>two</p>");
        assert_eq!(
            html("[docs](https://example.org/a?b=1&c=2)"),
            "<p><a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"noopener nofollow ugc\" target=\"_blank\">docs</a></p>"
        );
    }

    #[test]
    fn bare_urls_are_links_without_the_sentence_around_them() {
        assert_eq!(
            html("see https://example.org/x. Or (http://a.b/c)"),
            "<p>see <a href=\"https://example.org/x\" rel=\"noopener nofollow ugc\" target=\"_blank\">https://example.org/x</a>. \
             Or (<a href=\"http://a.b/c\" rel=\"noopener nofollow ugc\" target=\"_blank\">http://a.b/c</a>)</p>"
        );
        assert_eq!(html("https://"), "<p>https://</p>", "a scheme alone is no link");
        assert!(html("`https://example.org`").contains("<code>https://example.org</code>"), "not inside code");
    }

    #[test]
    fn no_html_and_no_script_ever_gets_through() {
        assert_eq!(html("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(html("hi <img src=x onerror=alert(1)>"), "<p>hi &lt;img src=x onerror=alert(1)&gt;</p>");
        for hostile in
            ["[x](javascript:alert(1))", "[x](JAVASCRIPT:alert(1))", "[x](data:text/html,hi)", "[x]( vbscript:x)"]
        {
            let out = html(hostile);
            assert!(!out.contains("<a"), "{hostile} -> {out}");
            assert!(out.contains('x'), "the text stays: {out}");
        }
        let out = html("![pixel](https://tracker.example/p.gif)");
        assert!(!out.contains("<img") && out.contains("pixel"), "{out}");
        let out = html("https://a.b/\"onmouseover=\"alert(1)");
        assert!(!out.contains("\"onmouseover"), "{out}");
        let out = html("[x](https://a.b/\"><script>)");
        assert!(!out.contains("<script>"), "{out}");
    }

    #[test]
    fn unclosed_and_deep_input_is_safe() {
        let out = html("```\nnever closed <b>");
        assert_eq!(out, "<pre><code>never closed &lt;b&gt;</code></pre>");
        let deep = "> ".repeat(1000) + "bottom";
        let out = html(&deep);
        assert_eq!(out.matches("<blockquote>").count(), MAX_QUOTE_DEPTH);
        assert_eq!(out.matches("</blockquote>").count(), MAX_QUOTE_DEPTH);
        assert!(out.contains("bottom"));
        let out = html(&"*".repeat(5000));
        assert!(out.len() < 50_000);
    }

    #[test]
    fn mentions_of_members_are_marked_and_yours_more() {
        let members = vec!["ana".to_owned(), "bob".to_owned()];
        let out = to_html("@Ana and @bob, not @cleo or me@ana.org", Mentions { members: &members, me: Some("bob") });
        assert_eq!(
            out,
            "<p><span class=\"mention\">@Ana</span> and <span class=\"mention mine\">@bob</span>, not @cleo or me@ana.org</p>"
        );
        assert_eq!(to_html("`@ana`", Mentions { members: &members, me: None }), "<p><code>@ana</code></p>");
    }
}
