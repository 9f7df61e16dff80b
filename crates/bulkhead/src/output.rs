//! Where output goes (stdout or `--output FILE`) and whether it is coloured.

use std::io::{IsTerminal, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Colour only a terminal, and never when `NO_COLOR` is set to a non-empty value (unless
    /// forced with `always`). no-color.org: an empty `NO_COLOR` is the same as unset.
    pub fn enabled(self, to_file: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                !to_file
                    && std::env::var_os("NO_COLOR").unwrap_or_default().is_empty()
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

/// Write `text` to `path` (atomically: a temporary file beside it, then rename) or to stdout.
pub fn emit(text: &str, path: Option<&Path>) -> Result<(), String> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .or_else(|e| {
                    // A closed pipe (`bulkhead audit | head`) is not an error worth reporting.
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        Ok(())
                    } else {
                        Err(format!("writing to stdout: {e}"))
                    }
                })
        }
        Some(p) => {
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = dir.join(format!(
                ".{}.bulkhead-tmp",
                p.file_name().and_then(|n| n.to_str()).unwrap_or("out")
            ));
            std::fs::write(&tmp, text).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
            std::fs::rename(&tmp, p)
                .map_err(|e| format!("renaming {} to {}: {e}", tmp.display(), p.display()))
        }
    }
}
