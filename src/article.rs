//! Reading an article from a file: a text file (first line the title, a
//! blank line, then the body) or an HTML page (main text extracted).

use std::path::Path;

use anyhow::{Context, Result};

use crate::extract;

/// An article's title and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub title: String,
    pub body: String,
}

impl Article {
    /// Splits text of the form "title\n\nbody".
    pub fn from_text(text: &str) -> Article {
        let text = text.trim_start_matches('\u{feff}');
        let mut lines = text.lines();
        let title = lines.next().unwrap_or("").trim().to_string();
        let body: Vec<&str> = lines.collect();
        Article {
            title,
            body: body.join("\n"),
        }
    }

    pub fn from_html(html: &str) -> Article {
        let e = extract::extract(html);
        Article {
            title: e.title,
            body: e.text,
        }
    }

    /// Reads a file, choosing the reader by its extension (or by a leading `<`).
    pub fn load(path: &Path) -> Result<Article> {
        let bytes =
            std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let looks_html = text.trim_start().starts_with('<');
        if ext == "html" || ext == "htm" || (ext != "txt" && looks_html) {
            Ok(Article::from_html(&text))
        } else {
            Ok(Article::from_text(&text))
        }
    }
}
