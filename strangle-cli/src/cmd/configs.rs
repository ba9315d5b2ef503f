//! `strangle configs`: profiles in the ledger.

use std::path::PathBuf;

use clap::Subcommand;
use strangle_store::{Store, StoredProfile};

use crate::error::CliError;
use crate::profile_file::{self, Format};

/// What to do with profiles.
#[derive(Debug, Subcommand)]
pub enum Configs {
    /// List every profile.
    List,
    /// Print one profile.
    Show {
        /// Name or id.
        profile: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "toml")]
        format: Format,
    },
    /// Add a profile from a TOML or JSON file (refused if the name is taken).
    Create {
        /// The file.
        file: PathBuf,
    },
    /// Change a profile's settings from a file: the fields it gives replace the stored
    /// ones, the fields it leaves out keep their values (as the API's PATCH does).
    Update {
        /// Name or id.
        profile: String,
        /// The file.
        file: PathBuf,
    },
    /// Make a profile the active one.
    Activate {
        /// Name or id.
        profile: String,
    },
    /// Delete a profile (not the active one).
    Delete {
        /// Name or id.
        profile: String,
    },
    /// Add or replace a profile from a file, by its name; or, with --from-seed, the
    /// configurations of the original Python platform (a JSON row, a list of rows, or its
    /// `GET /api/configs` answer), printing every mapping made and every field not carried.
    Import {
        /// The file (a strangle profile, TOML or JSON).
        #[arg(required_unless_present = "from_seed", conflicts_with = "from_seed")]
        file: Option<PathBuf>,
        /// A JSON export of the original platform's configurations.
        #[arg(long, value_name = "FILE")]
        from_seed: Option<PathBuf>,
        /// With --from-seed: print the mapping, store nothing.
        #[arg(long, requires = "from_seed")]
        dry_run: bool,
    },
    /// Write a profile to standard output.
    Export {
        /// Name or id.
        profile: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "toml")]
        format: Format,
    },
}

/// Finds a profile by id (all digits) or name.
pub async fn find(store: &Store, key: &str) -> Result<StoredProfile, CliError> {
    match key.parse::<i64>() {
        Ok(id) => Ok(store.profile_by_id(id).await?),
        Err(_) => Ok(store.profile(key).await?),
    }
}

/// Runs the subcommand.
pub async fn run(store: &Store, cmd: Configs) -> Result<(), CliError> {
    match cmd {
        Configs::List => {
            let all = store.profiles().await?;
            if all.is_empty() {
                crate::say!("no profiles; add one with: strangle configs create FILE");
            }
            crate::say!(
                "{:>4}  {:<24} {:<4} {:<8} {:<12} active",
                "id",
                "name",
                "asset",
                "mode",
                "delta band"
            );
            for p in all {
                let b = p.profile.delta_band;
                crate::say!(
                    "{:>4}  {:<24} {:<4} {:<8} {:<12} {}",
                    p.id,
                    p.profile.name,
                    p.profile.underlying,
                    format!("{:?}", p.profile.strike_mode).to_lowercase(),
                    format!("{:.2}-{:.2}", b.low, b.high),
                    if p.active { "*" } else { "" }
                );
            }
        }
        Configs::Show { profile, format } | Configs::Export { profile, format } => {
            let p = find(store, &profile).await?;
            crate::put!("{}", profile_file::render(&p.profile, format)?);
        }
        Configs::Create { file } => {
            let p = store.create_profile(&profile_file::read(&file)?).await?;
            crate::say!("created profile {} (id {})", p.profile.name, p.id);
            warn(&p.profile);
        }
        Configs::Update { profile, file } => {
            let old = find(store, &profile).await?;
            let new = profile_file::patched(&old.profile, profile_file::read_patch(&file)?)
                .map_err(|e| CliError::Invalid(format!("{}: {e}", file.display())))?;
            let changes = differences(&old.profile, &new);
            let p = store.update_profile(old.id, &new).await?;
            if changes.is_empty() {
                crate::say!("profile {} (id {}) unchanged", p.profile.name, p.id);
            } else {
                crate::say!(
                    "updated profile {} (id {}): {}",
                    p.profile.name,
                    p.id,
                    changes.join(", ")
                );
            }
            warn(&p.profile);
        }
        Configs::Activate { profile } => {
            let id = find(store, &profile).await?.id;
            let p = store.activate_profile(id).await?;
            crate::say!("active profile: {} (id {})", p.profile.name, p.id);
        }
        Configs::Delete { profile } => {
            let p = find(store, &profile).await?;
            store.delete_profile(p.id).await?;
            crate::say!("deleted profile {} (id {})", p.profile.name, p.id);
        }
        Configs::Import {
            file,
            from_seed,
            dry_run,
        } => {
            if let Some(seed) = from_seed {
                return import_seed(store, &seed, dry_run).await;
            }
            let Some(file) = file else {
                return Err(CliError::Invalid(
                    "give a profile file or --from-seed FILE".into(),
                ));
            };
            let new = profile_file::read(&file)?;
            let p = put_by_name(store, &new).await?;
            crate::say!("imported profile {} (id {})", p.profile.name, p.id);
            warn(&p.profile);
        }
    }
    Ok(())
}

/// The profile to run: a file if given, else the ledger's profile named `key`, else the
/// ledger's active profile.
pub async fn resolve(
    store: &Store,
    file: Option<&std::path::Path>,
    key: Option<&str>,
) -> Result<strangle_core::profile::Profile, CliError> {
    if let Some(path) = file {
        return profile_file::read(path);
    }
    match key {
        Some(key) => Ok(find(store, key).await?.profile),
        None => store
            .active_profile()
            .await?
            .map(|p| p.profile)
            .ok_or_else(|| {
                CliError::NotFound(
                    "no active profile: pass --profile or --config, or run `strangle configs activate`"
                        .into(),
                )
            }),
    }
}

/// Creates the profile, or replaces the settings of the one with its name.
async fn put_by_name(
    store: &Store,
    new: &strangle_core::profile::Profile,
) -> Result<StoredProfile, CliError> {
    Ok(match store.profile(&new.name).await {
        Ok(old) => store.update_profile(old.id, new).await?,
        Err(strangle_store::StoreError::NoProfile(_)) => store.create_profile(new).await?,
        Err(e) => return Err(e.into()),
    })
}

/// `configs import --from-seed`: every configuration is read (and refused, all of them, if
/// any is wrong) before anything is stored.
async fn import_seed(store: &Store, path: &std::path::Path, dry_run: bool) -> Result<(), CliError> {
    use strangle_core::profile::seed;
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Invalid(format!("{}: {e}", path.display())))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Invalid(format!("{}: not JSON: {e}", path.display())))?;
    let mut imports = Vec::new();
    let mut problems = Vec::new();
    for (i, row) in seed::configurations(&v)?.into_iter().enumerate() {
        let name = row
            .get("name")
            .and_then(|n| n.as_str())
            .map_or_else(|| format!("configuration {}", i + 1), str::to_string);
        match seed::from_seed(&serde_json::Value::Object(row.clone())) {
            Ok(imp) => imports.push(imp),
            Err(strangle_core::Error::InvalidProfile(v)) => {
                for e in v.0 {
                    problems.push(format!("{name}: {}: {}", e.field, e.message));
                }
            }
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    if !problems.is_empty() {
        return Err(CliError::Invalid(format!(
            "{}: nothing imported:\n  {}",
            path.display(),
            problems.join("\n  ")
        )));
    }
    for imp in &imports {
        crate::say!("{}:", imp.profile.name);
        for n in &imp.notes {
            let kind = serde_json::to_value(n.kind)
                .ok()
                .and_then(|k| k.as_str().map(str::to_string))
                .unwrap_or_default();
            crate::say!(
                "  {:<28} {:<28} {:<11} {}",
                n.from,
                n.to.as_deref()
                    .map_or("-".to_string(), |t| format!("→ {t}")),
                kind,
                n.message
            );
        }
        if dry_run {
            crate::say!("  (dry run: not stored)");
            continue;
        }
        let p = put_by_name(store, &imp.profile).await?;
        let p = if imp.active {
            store.activate_profile(p.id).await?
        } else {
            p
        };
        crate::say!(
            "  imported as profile {} (id {}){}",
            p.profile.name,
            p.id,
            if p.active { ", active" } else { "" }
        );
        warn(&p.profile);
    }
    Ok(())
}

/// Says on stderr which settings of the stored profile named like `p` a run from a file
/// replaces (the engine saves the profile it runs), so that no edit is taken silently.
pub async fn say_changes(
    store: &Store,
    p: &strangle_core::profile::Profile,
) -> Result<(), CliError> {
    let old = match store.profile(&p.name).await {
        Ok(old) => old.profile,
        Err(strangle_store::StoreError::NoProfile(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let changes = differences(&old, p);
    if !changes.is_empty() {
        eprintln!(
            "profile {:?} in the ledger differs from the file; saving the file's settings: {}",
            p.name,
            changes.join(", ")
        );
    }
    Ok(())
}

/// The settings that differ between two profiles, as `field: old → new` (nested fields by
/// their dotted path).
pub fn differences(
    old: &strangle_core::profile::Profile,
    new: &strangle_core::profile::Profile,
) -> Vec<String> {
    fn walk(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        match (a, b) {
            (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    let null = serde_json::Value::Null;
                    walk(
                        &p,
                        x.get(k).unwrap_or(&null),
                        y.get(k).unwrap_or(&null),
                        out,
                    );
                }
            }
            (a, b) if a != b => out.push(format!("{path}: {a} → {b}")),
            _ => {}
        }
    }
    let (Ok(a), Ok(b)) = (serde_json::to_value(old), serde_json::to_value(new)) else {
        return vec!["(the profiles could not be compared)".into()];
    };
    let mut out = Vec::new();
    walk("", &a, &b, &mut out);
    out
}

/// Prints the profile's warnings (settings that are valid but probably not meant) to stderr.
pub fn warn(p: &strangle_core::profile::Profile) {
    for w in p.warnings().into_iter().chain(p.fee_warnings()) {
        eprintln!("warning: {}: {}", w.field, w.message);
    }
}
