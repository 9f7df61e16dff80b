//! Making untrusted text safe to print on a terminal.
//!
//! Outputs quote what bulkhead read: a scanned Dockerfile's lines, container command lines,
//! labels, mount paths, file names. Printed raw, an escape sequence among them is obeyed by the
//! user's terminal: `ESC [1A ESC [2K` moves up and erases the line above (a scanned pull request
//! could erase the finding about itself), a carriage return overwrites a line, `ESC ]` sets the
//! window title or a hyperlink, and Unicode bidirectional overrides reorder what is shown
//! ("Trojan Source"). [`visible`] writes each such character as a `\uXXXX` escape instead, the
//! form JSON itself uses, so a JSON output stays the same JSON and a text output shows the byte.
//!
//! The colours bulkhead itself paints are Select Graphic Rendition sequences of a small palette
//! ([`PALETTE`]); those are kept, wherever they come from, as they can neither move the cursor
//! nor hide text (there is no concealed, black or background colour among them).

use std::borrow::Cow;

/// The SGR parameters bulkhead's coloured output uses: reset, bold, dim, and the foreground
/// colours red, green, yellow, blue, magenta and cyan.
pub const PALETTE: &[&str] = &["0", "1", "2", "31", "32", "33", "34", "35", "36"];

/// Whether `c` changes how a terminal shows the text around it rather than being shown: C0
/// controls other than tab and newline, DEL, C1 controls, the bidirectional marks, embeddings,
/// overrides and isolates, and the Unicode line and paragraph separators. (A value shown on one
/// line also needs its tabs and newlines escaped; the text renderers do that for each value.)
pub fn acts_on_terminal(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The length of the palette colour sequence at the start of `rest` (which begins with ESC), or
/// None when it is anything else.
fn palette_sequence(rest: &str) -> Option<usize> {
    let body = rest.strip_prefix("\x1b[")?;
    let end = body.find('m')?;
    let params = &body[..end];
    let known = params.split(';').all(|p| PALETTE.contains(&p));
    known.then_some(2 + end + 1)
}

/// Whether byte `b` may start a character [`visible`] escapes: every such character starts with
/// one of these bytes in UTF-8, a C0 control other than tab and newline, DEL, 0xC2 (U+0080 to
/// U+00BF), 0xD8 (U+061C) or 0xE2 (U+2000 to U+2FFF). Written without branches (`&`, `|`) so
/// that [`any_byte`] can test many bytes per instruction.
fn may_start_escaped(b: u8) -> bool {
    ((b < 0x20) & (b != b'\n') & (b != b'\t'))
        | (b == 0x7f)
        | (b == 0xc2)
        | (b == 0xd8)
        | (b == 0xe2)
}

/// Whether `test` holds for any byte of `text`. A whole report passes through [`visible`] on
/// every run, and nearly always nothing in it needs escaping: the bytes are tested a block at a
/// time, without stopping at the first hit inside a block, which lets the compiler test a block
/// with vector instructions (a byte-by-byte search took a tenth of the time from the last answer
/// of the Docker daemon to the end of an audit).
pub fn any_byte(text: &str, test: impl Fn(u8) -> bool) -> bool {
    text.as_bytes()
        .chunks(64)
        .any(|block| block.iter().fold(false, |hit, &b| hit | test(b)))
}

/// `text` with every character that would act on the terminal (see [`acts_on_terminal`])
/// written as a `\uXXXX` escape, except colour sequences of [`PALETTE`]: for a whole output,
/// which holds bulkhead's own colours. Borrowed when nothing needed changing, which is nearly
/// always.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !any_byte(text, may_start_escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.char_indices();
    let mut changed = false;
    while let Some((at, c)) = chars.next() {
        if c == '\x1b' {
            if let Some(len) = palette_sequence(&text[at..]) {
                out.push_str(&text[at..at + len]);
                // The rest of the sequence is ASCII, one char per byte.
                for _ in 1..len {
                    chars.next();
                }
                continue;
            }
        }
        if acts_on_terminal(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
            changed = true;
        } else {
            out.push(c);
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for text in ["", "FROM debian:12\n\tRUN true\n", "café — naïve ✓ 日本"] {
            assert!(
                matches!(visible(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    /// The search goes a block of bytes at a time: a character to escape is found wherever it
    /// falls, at either end of a block, across two, or in the short last one.
    #[test]
    fn a_character_to_escape_is_found_anywhere_in_a_long_text() {
        let plain = "a".repeat(200);
        for at in [0, 1, 62, 63, 64, 65, 127, 128, 190, 199] {
            for hostile in ["\x1b", "\r", "\u{202e}", "\u{85}"] {
                let mut text = plain.clone();
                text.replace_range(at..at + 1, hostile);
                let shown = visible(&text);
                assert!(matches!(shown, Cow::Owned(_)), "{hostile:?} at {at}");
                assert!(!shown.contains(hostile), "{hostile:?} at {at}: {shown}");
            }
        }
        assert!(!any_byte(&plain, |b| b != b'a'));
        assert!(any_byte(&plain, |b| b == b'a'));
    }

    #[test]
    fn cursor_movement_and_erasing_are_shown_not_obeyed() {
        assert_eq!(
            visible("RUN echo \x1b[2K\x1b[1A\x1b[2Khidden\r"),
            "RUN echo \\u001b[2K\\u001b[1A\\u001b[2Khidden\\u000d"
        );
        // A window title or hyperlink (OSC), ended by BEL or ST.
        assert_eq!(
            visible("\x1b]0;owned\x07 \u{9b}1A"),
            "\\u001b]0;owned\\u0007 \\u009b1A"
        );
    }

    #[test]
    fn bidirectional_overrides_are_shown_as_escapes() {
        assert_eq!(
            visible("access_level = \"user\u{202e} \u{2066}// admin\u{2069} \u{2066}\""),
            "access_level = \"user\\u202e \\u2066// admin\\u2069 \\u2066\""
        );
        // Ordinary punctuation from the same UTF-8 block stays.
        assert_eq!(visible("a – b … c • d"), "a – b … c • d");
    }

    #[test]
    fn palette_colours_are_kept_and_others_escaped() {
        let ours = "\x1b[31;1m[FAIL]\x1b[0m \x1b[2mmanual\x1b[0m";
        assert_eq!(visible(ours), ours);
        // Concealed, black and background colours could hide text: escaped.
        assert_eq!(
            visible("\x1b[8mx\x1b[30;40my"),
            "\\u001b[8mx\\u001b[30;40my"
        );
        // An unterminated sequence at the end is escaped, not read past the end.
        assert_eq!(visible("x\x1b[31"), "x\\u001b[31");
    }

    #[test]
    fn escapes_are_json_escapes_so_json_stays_the_same_json() {
        let value = "a\u{202e}b\u{85}c";
        let json = serde_json::to_string(&serde_json::json!({ "v": value })).unwrap();
        let shown = visible(&json);
        assert_ne!(shown, json);
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back["v"], value);
    }
}
