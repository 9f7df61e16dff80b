//! Escaping for the Markdown renderers. Object names, evidence values and messages come from the
//! audited host (container names, labels, image names, file paths), and whoever controls them
//! must not be able to change the document: GitHub and GitLab render inline HTML, a `|` ends a
//! table cell, a backtick opens or closes a code span, a line break can start a heading or a
//! list. Each helper here renders such a string as the literal text it is. Authored prose
//! (catalog rationale and remediation, threat-library descriptions) is Markdown on purpose and
//! does not go through them.

/// Inline text outside a code span. `&`, `<` and `>` become entities, so nothing reads as an
/// HTML tag, an autolink or an entity. Backslashes, backticks and brackets are backslash-escaped,
/// so nothing starts a code span or a link, and a trailing backslash cannot escape the text that
/// follows. Line breaks and other control characters become spaces: the text stays on its line
/// and cannot open a block. Emphasis characters (`*`, `_`, `~`) are left alone: at worst they
/// style a few words, while escaping them would litter names like `my_app_1` with backslashes.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A table cell: [`text`], and `|` escaped so it does not split the row into more cells.
pub fn cell(s: &str) -> String {
    text(s).replace('|', "\\|")
}

/// Escaped inline Markdown (from the helpers here) that opens a line, such as a list item's
/// content. Leading blanks, which could make it an indented code block, are dropped, and a start
/// that would read as a block marker there (a heading, a nested list item, a thematic break, a
/// tilde fence) gets a backslash. A code span cannot open a fence: a backtick fence's info string
/// may not hold backticks.
pub fn line_start(md: &str) -> String {
    let t = md.trim_start();
    match block_marker_at(t) {
        Some(i) => format!("{}\\{}", &t[..i], &t[i..]),
        None => t.to_string(),
    }
}

/// Where the block marker that `t` starts with has the character to escape, if it starts with
/// one (CommonMark 4.1, 4.2, 4.5, 5.2, 5.3). `>`, `<` and backticks never get here unescaped.
fn block_marker_at(t: &str) -> Option<usize> {
    let b = t.as_bytes();
    let ends_marker = |i: usize| matches!(b.get(i), None | Some(b' ' | b'\t'));
    let first = *b.first()?;
    match first {
        b'#' => {
            let n = b.iter().take_while(|&&c| c == b'#').count();
            (n <= 6 && ends_marker(n)).then_some(0)
        }
        b'-' | b'+' | b'*' if ends_marker(1) => Some(0),
        b'-' | b'*' | b'_' => {
            let rule = b.iter().all(|&c| c == first || c == b' ' || c == b'\t')
                && b.iter().filter(|&&c| c == first).count() >= 3;
            rule.then_some(0)
        }
        b'~' => b.starts_with(b"~~~").then_some(0),
        b'0'..=b'9' => {
            // The digits are ASCII, so `n` is a char boundary.
            let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
            (n <= 9 && matches!(b.get(n), Some(b'.' | b')')) && ends_marker(n + 1)).then_some(n)
        }
        _ => None,
    }
}

/// A code span holding `s` literally (CommonMark 6.1): delimited by a backtick run longer than
/// any run inside, and padded with a space where a backtick or a space at either end would
/// otherwise be taken as part of the delimiter or stripped. Line breaks and controls become
/// spaces, because a code span cannot stop a line break from starting a new block. Not for table
/// cells: a `|` inside a code span still splits a GFM table row (use [`cell`] there).
pub fn code(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.trim().is_empty() {
        // A code span needs content other than spaces to show as one; blanks say nothing anyway.
        return s;
    }
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    let pad = s.starts_with('`') || s.ends_with('`') || (s.starts_with(' ') && s.ends_with(' '));
    if pad {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// A generated message that marks commands and values with backticks, as harden's do ("see
/// `bulkhead checks explain 2.1`"): each span between matching backtick runs becomes a [`code`]
/// span, the rest [`text`]. A host value inside the message may bring backticks of its own and
/// shift which parts read as code, but each part is still escaped text or a well-formed span.
pub fn text_with_code(s: &str) -> String {
    code_spans(s)
        .into_iter()
        .map(|part| match part {
            Span::Text(t) => text(t),
            Span::Code(c) => code(c),
        })
        .collect()
}

/// A part of a message that marks code with backticks.
#[derive(Debug, PartialEq)]
pub(crate) enum Span<'a> {
    /// Outside code; it may hold a backtick run that nothing closes, which is meant literally.
    Text(&'a str),
    /// The content of a code span, without its backticks.
    Code(&'a str),
}

/// `s` cut into text and code spans the way CommonMark reads code spans (6.1), so that the
/// Markdown and the HTML reports show the same parts as code: a backtick run opens a span that
/// the next run of the same length closes; a run that nothing closes is text.
pub(crate) fn code_spans(s: &str) -> Vec<Span<'_>> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('`') {
        let n = run_at(rest, open);
        let after = &rest[open + n..];
        match closing_run(after, n) {
            Some(close) => {
                if open > 0 {
                    parts.push(Span::Text(&rest[..open]));
                }
                let inner = &after[..close];
                // CommonMark drops one space at each end when both are there; so does the copy.
                let inner = match inner.strip_prefix(' ').and_then(|i| i.strip_suffix(' ')) {
                    Some(i) if !inner.trim().is_empty() => i,
                    _ => inner,
                };
                parts.push(Span::Code(inner));
                rest = &after[close + n..];
            }
            None => {
                parts.push(Span::Text(&rest[..open + n]));
                rest = after;
            }
        }
    }
    if !rest.is_empty() {
        parts.push(Span::Text(rest));
    }
    parts
}

/// The length of the backtick run starting at byte `i` of `s`.
fn run_at(s: &str, i: usize) -> usize {
    s[i..].bytes().take_while(|&b| b == b'`').count()
}

/// Where in `s` the first backtick run of exactly `n` starts.
fn closing_run(s: &str, n: usize) -> Option<usize> {
    let mut i = 0;
    while let Some(j) = s[i..].find('`') {
        let at = i + j;
        let m = run_at(s, at);
        if m == n {
            return Some(at);
        }
        i = at + m;
    }
    None
}

/// A fenced code block of `body` with `info` (`diff`, `sh`, `mermaid`), ending in a line break.
/// The fence is longer than any backtick run in the body (at least three), so no line of the body
/// can close it early.
pub fn fenced(info: &str, body: &str) -> String {
    let fence = "`".repeat((longest_run(body, '`') + 1).max(3));
    let nl = if body.is_empty() || body.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    format!("{fence}{info}\n{body}{nl}{fence}\n")
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in s.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "we<b>b&\"x'|`y`";

    #[test]
    fn text_has_no_markup_left() {
        assert_eq!(text(HOSTILE), "we&lt;b&gt;b&amp;\"x'|\\`y\\`");
        assert_eq!(text("[a](http://x) \\"), "\\[a\\](http://x) \\\\");
        // An entity in the input is shown, not decoded.
        assert_eq!(text("&lt;"), "&amp;lt;");
        // A line break cannot start a heading or close a fence.
        assert_eq!(text("a\n# b\r\n```"), "a # b  \\`\\`\\`");
        assert_eq!(text("plain-name_1.2"), "plain-name_1.2");
    }

    #[test]
    fn cell_escapes_the_column_separator() {
        assert_eq!(cell(HOSTILE), "we&lt;b&gt;b&amp;\"x'\\|\\`y\\`");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn line_start_keeps_block_markers_literal() {
        let l = |s: &str| line_start(&text(s));
        assert_eq!(l("# x"), "\\# x");
        assert_eq!(l("###"), "\\###");
        assert_eq!(l("- x"), "\\- x");
        assert_eq!(l("* x"), "\\* x");
        assert_eq!(l("***"), "\\***");
        assert_eq!(l("_ _ _"), "\\_ _ _");
        assert_eq!(l("~~~sh"), "\\~~~sh");
        assert_eq!(l("    code"), "code");
        assert_eq!(l("\n1. x"), "1\\. x");
        assert_eq!(l("12)"), "12\\)");
        // What cannot open a block is left as it is.
        assert_eq!(l("--security-opt x"), "--security-opt x");
        assert_eq!(l("#hashtag"), "#hashtag");
        assert_eq!(l("4.5"), "4.5");
        assert_eq!(l("10.0.0.1"), "10.0.0.1");
        assert_eq!(l("my_app_1"), "my_app_1");
        assert_eq!(l("kubelet on <n>"), "kubelet on &lt;n&gt;");
        assert_eq!(line_start(&code("```")), "```` ``` ````");
    }

    #[test]
    fn text_with_code_keeps_the_message_code_spans() {
        assert_eq!(
            text_with_code("see `bulkhead checks explain 2.1` -> done"),
            "see `bulkhead checks explain 2.1` -&gt; done"
        );
        // A host value inside a span stays literal; outside one it is escaped.
        assert_eq!(
            text_with_code("the probe `nc -z <h> 80` on <b>"),
            "the probe `nc -z <h> 80` on &lt;b&gt;"
        );
        assert_eq!(text_with_code("`a` and `` b`c ``"), "`a` and ``b`c``");
        // A backtick with no partner is shown as a backtick.
        assert_eq!(text_with_code("it's a`b"), "it's a\\`b");
        assert_eq!(
            text_with_code(&format!("`{HOSTILE}` x")),
            "`we<b>b&\"x'|`y\\`\\` x"
        );
    }

    #[test]
    fn code_span_fence_outlasts_any_backtick_run() {
        assert_eq!(code("docker ps"), "`docker ps`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("a``b`c"), "```a``b`c```");
        // A backtick at an end would merge with the fence: pad, and CommonMark strips the pads.
        assert_eq!(code(HOSTILE), "`` we<b>b&\"x'|`y` ``");
        assert_eq!(code(" a "), "`  a  `");
        assert_eq!(code("a\nb"), "`a b`");
        assert_eq!(code(""), "");
    }

    #[test]
    fn fenced_block_cannot_be_closed_by_its_body() {
        assert_eq!(fenced("sh", "echo hi"), "```sh\necho hi\n```\n");
        assert_eq!(fenced("diff", "+x\n"), "```diff\n+x\n```\n");
        assert_eq!(
            fenced("diff", " ```\n+````\n"),
            "`````diff\n ```\n+````\n`````\n"
        );
    }
}
