//! Escaping for the HTML renderers, beyond the plain escaping of `bulkhead_threats::svg::esc`.

use crate::markdown::{code_spans, Span};
use bulkhead_threats::svg::esc;

/// A generated message that marks commands and values with backticks, as harden's do ("see
/// `bulkhead checks explain 2.1`"): the HTML counterpart of [`crate::markdown::text_with_code`].
/// Everything is escaped, and each span between matching backtick runs is shown in `<code>`
/// without its backticks; a backtick that nothing closes is shown as it is. The parts are cut
/// as the Markdown cuts them, so both reports show the same words as code.
pub fn text_with_code(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for part in code_spans(s) {
        match part {
            Span::Text(t) => out.push_str(&esc(t)),
            Span::Code(c) => {
                out.push_str("<code>");
                out.push_str(&esc(c));
                out.push_str("</code>");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_code_shows_the_message_code_spans_as_code() {
        assert_eq!(
            text_with_code("see `bulkhead checks explain 2.1` -> done"),
            "see <code>bulkhead checks explain 2.1</code> -&gt; done"
        );
        assert_eq!(
            text_with_code(
                "give one with --health-cmd, e.g. the probe `nc -z 127.0.0.1 80 || exit 1`"
            ),
            "give one with --health-cmd, e.g. the probe <code>nc -z 127.0.0.1 80 || exit 1</code>"
        );
        // Markup in the message or in a span is text, inside <code> too.
        assert_eq!(
            text_with_code("the probe `nc -z <h> 80` on <b>"),
            "the probe <code>nc -z &lt;h&gt; 80</code> on &lt;b&gt;"
        );
        // A longer run holds a backtick; one space at each end is dropped, as in Markdown.
        assert_eq!(
            text_with_code("`a` and `` b`c ``"),
            "<code>a</code> and <code>b`c</code>"
        );
        // A backtick with no partner is shown as a backtick.
        assert_eq!(text_with_code("it's a`b"), "it&#39;s a`b");
        assert_eq!(text_with_code("``a`"), "``a`");
        assert_eq!(
            text_with_code("`we<b>b&\"x'|`y`` x"),
            "<code>we&lt;b&gt;b&amp;&quot;x&#39;|</code>y`` x"
        );
        assert_eq!(text_with_code("no code"), "no code");
        assert_eq!(text_with_code(""), "");
    }
}
