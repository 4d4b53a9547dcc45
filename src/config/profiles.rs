//! Profiles as the AWS SDKs see them: the config and credentials files
//! merged by the shared rules.

use super::document::{Document, FileKind, Item, Section};

/// Where a property's value was last set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub file: FileKind,
    /// 1-based line of the `key = value` line.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Lower-case: property names are case-insensitive.
    pub key: String,
    /// Continuation lines are joined with `\n`; a property with
    /// sub-properties holds them as written (`\nname = value` per line).
    pub value: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub name: String,
    /// In the order the keys first appear, config file before credentials file.
    pub properties: Vec<Property>,
    /// The key store that holds this profile's long-term keys (`mfa add`),
    /// known from its marker without opening the store.
    pub stored_keys: Option<&'static str>,
}

impl Profile {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    /// A value that is present and not empty.
    pub fn get_nonempty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// A one-line value that is present and not empty; `None` for a value
    /// continued onto indented lines (for listings, which must not show
    /// what such lines may hold).
    pub fn get_single(&self, key: &str) -> Option<&str> {
        self.get_nonempty(key).filter(|v| !v.contains('\n'))
    }

    /// A one-line value for a key mfa acts on. A value continued onto
    /// indented lines is an error that names the line but quotes nothing:
    /// the joined lines may hold a secret.
    pub fn scalar(&self, key: &str) -> Result<Option<&str>, crate::error::UsageError> {
        let Some(property) = self.properties.iter().find(|p| p.key == key) else {
            return Ok(None);
        };
        if property.value.contains('\n') {
            let file = match property.origin.file {
                super::FileKind::Config => "config",
                super::FileKind::Credentials => "credentials",
            };
            return Err(crate::error::UsageError::new(format!(
                "profile `{}`: {key} (line {} of the {file} file) is followed by indented lines, which continue its value; write it on one line",
                self.name, property.origin.line
            )));
        }
        Ok(Some(property.value.as_str()).filter(|v| !v.is_empty()))
    }

    fn set(&mut self, key: &str, value: String, origin: Origin) {
        match self.properties.iter_mut().find(|p| p.key == key) {
            Some(existing) => {
                existing.value = value;
                existing.origin = origin;
            }
            None => self.properties.push(Property {
                key: key.to_string(),
                value,
                origin,
            }),
        }
    }

    fn append(&mut self, key: &str, text: &str) {
        if let Some(existing) = self.properties.iter_mut().find(|p| p.key == key) {
            existing.value.push('\n');
            existing.value.push_str(text);
        }
    }
}

/// Every profile of both files, merged, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profiles {
    pub list: Vec<Profile>,
    /// Position of each name in `list`: lookups stay cheap with thousands
    /// of profiles (a linear search made merging quadratic).
    index: std::collections::HashMap<String, usize>,
}

impl Profiles {
    pub fn from_documents(config: Option<&Document>, credentials: Option<&Document>) -> Profiles {
        let mut profiles = Profiles::default();
        if let Some(doc) = config {
            // `[profile default]` wins over `[default]`: when both exist the
            // bare one is ignored whole.
            let has_prefixed_default = doc.lines.iter().any(|l| {
                matches!(&l.item, Item::Section(Section::Profile { name, bare_default: false }) if name == "default")
            });
            profiles.merge(doc, has_prefixed_default);
        }
        if let Some(doc) = credentials {
            profiles.merge(doc, false);
        }
        profiles
    }

    fn merge(&mut self, doc: &Document, skip_bare_default: bool) {
        let mut current: Option<usize> = None;
        let mut last_key: Option<String> = None;
        for (index, line) in doc.lines.iter().enumerate() {
            match &line.item {
                Item::Blank | Item::Comment => {}
                Item::Section(Section::Profile { name, bare_default }) => {
                    last_key = None;
                    current = if *bare_default && skip_bare_default {
                        None
                    } else {
                        Some(self.index_of_or_insert(name))
                    };
                }
                Item::Section(Section::Ignored { .. }) => {
                    current = None;
                    last_key = None;
                }
                Item::Property { key, value } => {
                    // A key with characters the SDKs reject is ignored, and
                    // so are its continuation lines.
                    if !super::document::is_valid_name(key) {
                        last_key = None;
                        continue;
                    }
                    last_key = Some(key.clone());
                    if let Some(i) = current {
                        let origin = Origin {
                            file: doc.kind,
                            line: index + 1,
                        };
                        self.list[i].set(key, value.clone(), origin);
                    }
                }
                Item::Continuation { text } | Item::SubProperty { text } => {
                    if let (Some(i), Some(key)) = (current, &last_key) {
                        self.list[i].append(key, text);
                    }
                }
            }
        }
    }

    fn index_of_or_insert(&mut self, name: &str) -> usize {
        match self.index.get(name) {
            Some(i) => *i,
            None => {
                self.index.insert(name.to_string(), self.list.len());
                self.list.push(Profile {
                    name: name.to_string(),
                    properties: Vec::new(),
                    stored_keys: None,
                });
                self.list.len() - 1
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.index.get(name).map(|i| &self.list[*i])
    }

    /// Notes which profiles have keys in a key store; a profile known only
    /// there (added with `mfa add`) joins the list.
    pub fn with_stored(mut self, stored: &[(String, &'static str)]) -> Profiles {
        for (name, backend) in stored {
            let i = self.index_of_or_insert(name);
            self.list[i].stored_keys = Some(backend);
        }
        self
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|p| p.name.as_str())
    }

    /// Names close to `name`, best first, for "did you mean" messages.
    pub fn suggestions(&self, name: &str) -> Vec<&str> {
        let wanted = name.to_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .names()
            .filter_map(|candidate| {
                let lower = candidate.to_lowercase();
                let score = strsim::jaro_winkler(&wanted, &lower);
                let contains = !wanted.is_empty()
                    && (lower.contains(&wanted) || wanted.contains(lower.as_str()));
                (score >= 0.8 || contains).then_some((score, candidate))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }
}
