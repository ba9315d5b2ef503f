//! API credentials: from the environment or from a file only its owner can read. The secret
//! lives in a [`Secret`], which never prints itself.

use std::path::Path;

use crate::error::{DeltaError, Secret};

/// Environment variable holding the API key.
pub const KEY_VAR: &str = "STRANGLE_DELTA_API_KEY";
/// Environment variable holding the API secret.
pub const SECRET_VAR: &str = "STRANGLE_DELTA_API_SECRET";
/// Environment variable naming a credentials file (`key` and `secret` lines, `KEY=value`).
pub const FILE_VAR: &str = "STRANGLE_DELTA_CREDENTIALS_FILE";

/// An API key and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The key (not secret, but not printed in full either).
    pub api_key: String,
    /// The secret.
    pub secret: Secret,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.key_hint())
            .field("secret", &self.secret)
            .finish()
    }
}

impl Credentials {
    /// Builds credentials; both parts must be non-empty.
    pub fn new(api_key: impl Into<String>, secret: impl Into<String>) -> Result<Self, DeltaError> {
        let api_key = api_key.into().trim().to_string();
        let secret = secret.into().trim().to_string();
        if api_key.is_empty() || secret.is_empty() {
            return Err(DeltaError::Credentials(
                "the API key and secret must both be non-empty".into(),
            ));
        }
        Ok(Self {
            api_key,
            secret: Secret::new(secret),
        })
    }

    /// The first four characters of the key, for messages.
    pub fn key_hint(&self) -> String {
        let head: String = self.api_key.chars().take(4).collect();
        format!("{head}…")
    }

    /// Reads `STRANGLE_DELTA_API_KEY` / `STRANGLE_DELTA_API_SECRET`, or the file named by
    /// `STRANGLE_DELTA_CREDENTIALS_FILE`. `Ok(None)` when none is set.
    pub fn from_env() -> Result<Option<Self>, DeltaError> {
        if let Ok(path) = std::env::var(FILE_VAR) {
            return Self::from_file(Path::new(&path)).map(Some);
        }
        match (std::env::var(KEY_VAR), std::env::var(SECRET_VAR)) {
            (Ok(k), Ok(s)) => Self::new(k, s).map(Some),
            (Err(_), Err(_)) => Ok(None),
            _ => Err(DeltaError::Credentials(format!(
                "set both {KEY_VAR} and {SECRET_VAR}, or neither"
            ))),
        }
    }

    /// Reads `api_key=...` and `api_secret=...` lines from a file that only its owner may
    /// read or write (mode 600 or stricter on Unix).
    pub fn from_file(path: &Path) -> Result<Self, DeltaError> {
        let shown = path.display();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path)
                .map_err(|e| DeltaError::Credentials(format!("{shown}: {e}")))?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(DeltaError::Credentials(format!(
                    "{shown} is readable by others (mode {mode:o}); run: chmod 600 {shown}"
                )));
            }
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| DeltaError::Credentials(format!("{shown}: {e}")))?;
        let (mut key, mut secret) = (None, None);
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(DeltaError::Credentials(format!(
                    "{shown}:{}: expected name=value",
                    n + 1
                )));
            };
            let v = v.trim().trim_matches('"').to_string();
            match k.trim() {
                "api_key" => key = Some(v),
                "api_secret" => secret = Some(v),
                other => {
                    return Err(DeltaError::Credentials(format!(
                        "{shown}:{}: unknown name {other:?} (expected api_key or api_secret)",
                        n + 1
                    )))
                }
            }
        }
        match (key, secret) {
            (Some(k), Some(s)) => Self::new(k, s),
            _ => Err(DeltaError::Credentials(format!(
                "{shown}: needs both api_key and api_secret"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credentials::new("abcdefgh", "topsecretvalue").expect("valid");
        let s = format!("{c:?}");
        assert!(
            !s.contains("topsecretvalue") && !s.contains("abcdefgh"),
            "{s}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("strangle-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let f = dir.join("creds");
        std::fs::write(&f, "api_key=abc\napi_secret=s3cr3t\n").expect("write");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = Credentials::from_file(&f).expect_err("world-readable");
        assert!(e.to_string().contains("chmod 600"), "{e}");
        assert!(!e.to_string().contains("s3cr3t"));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let c = Credentials::from_file(&f).expect("private file");
        assert_eq!(c.api_key, "abc");
        std::fs::write(&f, "api_key=abc\npassword=x\n").expect("write");
        let e = Credentials::from_file(&f).expect_err("unknown name");
        assert!(e.to_string().contains("password"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
