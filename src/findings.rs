//! The findings model shared by every stage that can find something: each
//! finding names its rule (defined once in [`crate::rules`]), has a severity,
//! evidence and a fix hint.

use serde::Serialize;

pub use crate::rules::{Rule, Severity};

/// One thing found, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// Path inside the image, when the finding is about a file.
    pub path: Option<String>,
    /// 0-based index of the layer in the manifest's layer list.
    pub layer: Option<usize>,
    pub layer_digest: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// The Dockerfile step that made the layer (`created_by` in the history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl Finding {
    pub fn new(rule: Rule, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            rule,
            severity,
            path: None,
            layer: None,
            layer_digest: None,
            message: message.into(),
            hint: None,
            created_by: None,
        }
    }

    pub fn path(mut self, path: impl Into<String>) -> Finding {
        self.path = Some(path.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }

    pub fn note(message: impl Into<String>) -> Finding {
        Finding::new(Rule::ArchiveNote, Severity::Info, message)
    }
}
