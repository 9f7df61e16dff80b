//! File permission bits, compared as bitmasks.
//!
//! The reference tools compare modes as decimal numbers, so 622 passes "644 or stricter". The only
//! correct test is that the mode grants nothing the limit does not: `mode & !allowed == 0`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Permission bits of a file (including setuid, setgid and sticky), shown in octal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mode(pub u32);

impl Mode {
    /// True when this mode grants no bit outside `allowed` (e.g. `allowed = 0o644`).
    pub fn at_most(self, allowed: u32) -> bool {
        self.0 & !allowed & 0o7777 == 0
    }

    /// The bits this mode grants beyond `allowed`.
    pub fn excess(self, allowed: u32) -> u32 {
        self.0 & !allowed & 0o7777
    }

    /// Parse an octal string such as `"0644"`, `"644"` or `"0o644"`.
    pub fn parse(s: &str) -> Option<Mode> {
        let s = s.trim();
        let s = s.strip_prefix("0o").unwrap_or(s);
        if s.is_empty() || s.len() > 5 {
            return None;
        }
        u32::from_str_radix(s, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .map(Mode)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

impl Serialize for Mode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Mode::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid octal mode {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_comparison_pitfall_is_not_repeated() {
        // Each of these passes docker-bench's decimal "<= 644" test but grants extra bits.
        for m in [0o622, 0o633, 0o602] {
            assert!(!Mode(m).at_most(0o644), "{:o} must not pass 644", m);
        }
        assert!(!Mode(0o737).at_most(0o755));
        assert!(!Mode(0o606).at_most(0o660));
        assert!(Mode(0o640).at_most(0o644));
        assert!(Mode(0o400).at_most(0o444));
        assert!(Mode(0o555).at_most(0o755));
        assert!(!Mode(0o4755).at_most(0o755), "setuid is an extra bit");
    }

    #[test]
    fn octal_round_trip() {
        assert_eq!(Mode::parse("0644"), Some(Mode(0o644)));
        assert_eq!(Mode::parse("644"), Some(Mode(0o644)));
        assert_eq!(Mode::parse("0o600"), Some(Mode(0o600)));
        assert_eq!(Mode::parse("998"), None);
        assert_eq!(Mode(0o644).to_string(), "0644");
        let j = serde_json::to_string(&Mode(0o4755)).unwrap();
        assert_eq!(j, "\"4755\"");
        assert_eq!(serde_json::from_str::<Mode>(&j).unwrap(), Mode(0o4755));
    }
}
