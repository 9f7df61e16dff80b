//! Splitting an example command line into words, for tests that check or run the examples
//! bulkhead's help shows.

/// A command line split into words as a POSIX shell would for these examples: whitespace
/// separates, single and double quotes group and are removed. Panics on an unbalanced quote (an
/// example a user could not paste).
pub fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let (mut word, mut quote, mut in_word) = (String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unbalanced quote in {line:?}");
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_group_and_are_removed() {
        assert_eq!(
            super::words(r#"bulkhead scan --label 'a b' "c d"e  f"#),
            vec!["bulkhead", "scan", "--label", "a b", "c de", "f"]
        );
    }
}
