//! `/api/configs`: profiles in the ledger.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde_json::{Map, Value};
use strangle_core::error::FieldError;
use strangle_core::profile::Profile;
use strangle_store::StoredProfile;

use super::error::{ApiError, ErrorBody, NoQuery};
use super::Api;

type St = State<Arc<Api>>;

/// A profile as saved, with the settings that are valid but probably not what was meant
/// (a fraction written for a percent, an exit threshold within the capped round-trip fees).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SavedProfile {
    /// The stored profile.
    #[serde(flatten)]
    pub stored: StoredProfile,
    /// Warnings, each naming its field; nothing was refused.
    pub warnings: Vec<strangle_core::profile::Warning>,
}

impl SavedProfile {
    fn of(stored: StoredProfile) -> Self {
        let p = &stored.profile;
        let warnings = p.warnings().into_iter().chain(p.fee_warnings()).collect();
        Self { stored, warnings }
    }
}

/// The body as a JSON object (a profile is never an array, a string or a number).
fn object_of(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::field(
            "profile",
            "body",
            format!("a profile is a JSON object, not {}", kind_of(&other)),
        )),
        Err(e) => Err(ApiError::field("profile", "body", e.to_string())),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The fields of `full` (a whole profile as JSON) that `given` leaves out, as dotted paths;
/// nested objects are compared field by field.
fn missing_fields(
    given: &Map<String, Value>,
    full: &Map<String, Value>,
    prefix: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in full {
        let path = format!("{prefix}{k}");
        match (given.get(k), v) {
            (None, _) => out.push(path),
            (Some(Value::Object(g)), Value::Object(f)) => {
                out.extend(missing_fields(g, f, &format!("{path}.")))
            }
            _ => {}
        }
    }
    out
}

/// Parses and validates a profile body; every problem is reported, nothing is changed.
fn profile_from(body: &Bytes) -> Result<Profile, ApiError> {
    profile_of(Value::Object(object_of(body)?))
}

/// Reads and validates a profile from JSON.
fn profile_of(v: Value) -> Result<Profile, ApiError> {
    let p: Profile =
        serde_json::from_value(v).map_err(|e| ApiError::field("profile", "body", e.to_string()))?;
    match p.validate() {
        Ok(()) => Ok(p),
        Err(strangle_core::Error::InvalidProfile(v)) => Err(ApiError::Invalid {
            what: "profile",
            fields: v.0,
        }),
        Err(e) => Err(ApiError::Unprocessable(e.to_string())),
    }
}

/// Refuses a change to a profile whose engine runs.
async fn not_running(api: &Api, id: i64, change: &str) -> Result<(), ApiError> {
    if api.trading.is_running(id).await {
        return Err(ApiError::Conflict(format!(
            "the profile is running: stop it before {change} it"
        )));
    }
    Ok(())
}

/// The JSON of the profile list last served, with the list it was made from: while the
/// store's cache hands out the same list (no write, not expired), the body is reused, and
/// one profile's body is its slice of the list's.
#[derive(Default)]
pub struct ListJson(std::sync::Mutex<Option<Arc<Bodies>>>);

/// The JSON of one list of profiles.
struct Bodies {
    /// The list it was made from.
    from: Arc<Vec<StoredProfile>>,
    /// `[profile,profile,...]`, as `serde_json::to_vec` writes the list.
    list: Bytes,
    /// Each profile's id and where its JSON lies in `list`.
    each: Vec<(i64, std::ops::Range<usize>)>,
}

impl Bodies {
    fn of(from: Arc<Vec<StoredProfile>>) -> Result<Self, ApiError> {
        let mut list = Vec::with_capacity(from.len() * 1024 + 2);
        let mut each = Vec::with_capacity(from.len());
        list.push(b'[');
        for (i, p) in from.iter().enumerate() {
            if i > 0 {
                list.push(b',');
            }
            let start = list.len();
            serde_json::to_writer(&mut list, p)
                .map_err(|e| ApiError::Internal(format!("profiles to JSON: {e}")))?;
            each.push((p.id, start..list.len()));
        }
        list.push(b']');
        Ok(Self {
            from,
            list: Bytes::from(list),
            each,
        })
    }
}

impl ListJson {
    /// The bodies for `list`, made once per list.
    fn bodies(&self, list: Arc<Vec<StoredProfile>>) -> Result<Arc<Bodies>, ApiError> {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = last.as_ref().filter(|b| Arc::ptr_eq(&b.from, &list)) {
            return Ok(b.clone());
        }
        let made = Arc::new(Bodies::of(list)?);
        *last = Some(made.clone());
        Ok(made)
    }

    /// The list's body.
    fn list(&self, list: Arc<Vec<StoredProfile>>) -> Result<Bytes, ApiError> {
        Ok(self.bodies(list)?.list.clone())
    }

    /// Profile `id`'s body, if `list` has it.
    fn profile(&self, list: Arc<Vec<StoredProfile>>, id: i64) -> Result<Option<Bytes>, ApiError> {
        let b = self.bodies(list)?;
        Ok(b.each
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, at)| b.list.slice(at.clone())))
    }
}

/// Every profile.
#[utoipa::path(get, path = "/api/configs", tag = "configs",
    responses((status = 200, description = "Every profile", body = Vec<StoredProfile>)))]
pub async fn list_configs(State(api): St, _: NoQuery) -> Result<Response, ApiError> {
    Ok(super::json_body(
        api.configs_json
            .list(api.profiles.list(&api.store).await?)?,
    ))
}

/// The settings a new profile starts from (every field at its default; `name` empty).
#[utoipa::path(get, path = "/api/configs/defaults", tag = "configs",
    responses((status = 200, description = "A profile with every default", body = Profile)))]
pub async fn default_config(_: NoQuery) -> Json<Profile> {
    Json(Profile::default())
}

/// Creates a profile.
#[utoipa::path(post, path = "/api/configs", tag = "configs", request_body = Profile,
    responses(
        (status = 201, description = "Created, with warnings", body = SavedProfile),
        (status = 409, description = "A profile with this name exists", body = ErrorBody),
        (status = 422, description = "Invalid profile; every bad field is listed", body = ErrorBody)))]
pub async fn create_config(
    State(api): St,
    _: NoQuery,
    body: Bytes,
) -> Result<(StatusCode, Json<SavedProfile>), ApiError> {
    let p = profile_from(&body)?;
    // The cached profiles are dropped across the write (see `profile_cache`).
    let _writing = api.profiles.writing();
    Ok((
        StatusCode::CREATED,
        Json(SavedProfile::of(api.store.create_profile(&p).await?)),
    ))
}

/// One profile.
#[utoipa::path(get, path = "/api/configs/{id}", tag = "configs",
    params(("id" = i64, Path, description = "Profile id")),
    responses(
        (status = 200, description = "The profile", body = StoredProfile),
        (status = 404, description = "No such profile", body = ErrorBody)))]
pub async fn get_config(
    State(api): St,
    _: NoQuery,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let list = api.profiles.list(&api.store).await?;
    match api.configs_json.profile(list, id)? {
        Some(body) => Ok(super::json_body(body)),
        None => Err(strangle_store::StoreError::NoProfile(id.to_string()).into()),
    }
}

/// Replaces a profile's settings with the whole profile given (refused while its engine
/// runs). Every field must be there: a field left out is a 422 naming it (PATCH changes some
/// fields and keeps the rest).
#[utoipa::path(put, path = "/api/configs/{id}", tag = "configs", request_body = Profile,
    params(("id" = i64, Path, description = "Profile id")),
    responses(
        (status = 200, description = "Updated, with warnings", body = SavedProfile),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 409, description = "Name taken, or the profile is running", body = ErrorBody),
        (status = 422, description = "Invalid or partial profile; every bad or missing field is listed", body = ErrorBody)))]
pub async fn update_config(
    State(api): St,
    _: NoQuery,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Json<SavedProfile>, ApiError> {
    let given = object_of(&body)?;
    api.store.profile_by_id(id).await?;
    not_running(&api, id, "changing").await?;
    let full = match serde_json::to_value(Profile::default()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let missing = missing_fields(&given, &full, "");
    if !missing.is_empty() {
        return Err(ApiError::Invalid {
            what: "profile",
            fields: missing
                .into_iter()
                .map(|field| FieldError {
                    field,
                    message: "missing: PUT replaces the whole profile (PATCH changes only the \
                              fields it is given)"
                        .into(),
                })
                .collect(),
        });
    }
    let p = profile_of(Value::Object(given))?;
    // The cached profiles are dropped across the write (see `profile_cache`).
    let _writing = api.profiles.writing();
    Ok(Json(SavedProfile::of(
        api.store.update_profile(id, &p).await?,
    )))
}

/// Changes the fields given and keeps every other (a JSON merge patch: nested objects merge
/// field by field, `null` turns a limit off or clears an optional setting). Refused while the
/// profile's engine runs; the result is validated as a whole.
#[utoipa::path(patch, path = "/api/configs/{id}", tag = "configs", request_body = Object,
    params(("id" = i64, Path, description = "Profile id")),
    responses(
        (status = 200, description = "Updated, with warnings", body = SavedProfile),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 409, description = "Name taken, or the profile is running", body = ErrorBody),
        (status = 422, description = "The result is invalid; every bad field is listed", body = ErrorBody)))]
pub async fn patch_config(
    State(api): St,
    _: NoQuery,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Json<SavedProfile>, ApiError> {
    let patch = object_of(&body)?;
    let stored = api.store.profile_by_id(id).await?;
    let mut merged = serde_json::to_value(&stored.profile)
        .map_err(|e| ApiError::Internal(format!("profile {id} as JSON: {e}")))?;
    crate::profile_file::merge(&mut merged, Value::Object(patch));
    let p = profile_of(merged)?;
    not_running(&api, id, "changing").await?;
    // The cached profiles are dropped across the write (see `profile_cache`).
    let _writing = api.profiles.writing();
    Ok(Json(SavedProfile::of(
        api.store.update_profile(id, &p).await?,
    )))
}

/// Deletes a profile (not the active one, not a running one).
#[utoipa::path(delete, path = "/api/configs/{id}", tag = "configs",
    params(("id" = i64, Path, description = "Profile id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 409, description = "The profile is active or running", body = ErrorBody)))]
pub async fn delete_config(
    State(api): St,
    Path(id): Path<i64>,
    _: NoQuery,
) -> Result<StatusCode, ApiError> {
    not_running(&api, id, "deleting").await?;
    // The cached profiles are dropped across the write (see `profile_cache`).
    let _writing = api.profiles.writing();
    api.store.delete_profile(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a profile the active one.
#[utoipa::path(post, path = "/api/configs/{id}/activate", tag = "configs",
    params(("id" = i64, Path, description = "Profile id")),
    responses(
        (status = 200, description = "Now active", body = StoredProfile),
        (status = 404, description = "No such profile", body = ErrorBody)))]
pub async fn activate_config(
    State(api): St,
    _: NoQuery,
    Path(id): Path<i64>,
) -> Result<Json<StoredProfile>, ApiError> {
    // The cached profiles are dropped across the write (see `profile_cache`).
    let _writing = api.profiles.writing();
    Ok(Json(api.store.activate_profile(id).await?))
}

/// `POST /api/configs/import`: what to import.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// Configurations of the original Python platform: one row, a list of rows, or its
    /// `GET /api/configs` answer (`{"configurations": [...]}`).
    #[schema(value_type = Object)]
    pub from_seed: Value,
    /// Report the mapping without storing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// One imported configuration.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// The profile as read (stored unless a dry run).
    pub profile: Profile,
    /// Its id in the ledger (none in a dry run).
    pub id: Option<i64>,
    /// Whether it is now the active profile.
    pub active: bool,
    /// Every mapping made and every field not carried.
    pub notes: Vec<strangle_core::profile::seed::Note>,
    /// Settings that are valid but probably not meant.
    pub warnings: Vec<strangle_core::profile::Warning>,
}

/// The import's result.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReply {
    /// Nothing was stored.
    pub dry_run: bool,
    /// One per configuration, in the order given.
    pub imported: Vec<Imported>,
}

/// Imports configurations of the original Python platform (`from_seed`): each is mapped to
/// a profile and created, or replaces the profile of its name; the answer lists every mapping
/// made and every field not carried. All are read before any is stored: one bad field refuses
/// them all (422 naming each as `NAME: field`). A running profile is not replaced (409).
#[utoipa::path(post, path = "/api/configs/import", tag = "configs", request_body = ImportRequest,
    responses(
        (status = 200, description = "Imported (or, in a dry run, read)", body = ImportReply),
        (status = 409, description = "A profile to replace is running", body = ErrorBody),
        (status = 422, description = "A configuration cannot be read; every bad field is listed", body = ErrorBody)))]
pub async fn import_configs(
    State(api): St,
    _: NoQuery,
    body: Bytes,
) -> Result<Json<ImportReply>, ApiError> {
    use strangle_core::profile::seed;
    let req: ImportRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::field("request", "body", e.to_string()))?;
    let rows = seed::configurations(&req.from_seed).map_err(|e| match e {
        strangle_core::Error::InvalidProfile(v) => ApiError::Invalid {
            what: "request",
            fields: v.0,
        },
        e => ApiError::Unprocessable(e.to_string()),
    })?;
    let mut reads = Vec::new();
    let mut bad = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let name = row
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map_or_else(|| format!("[{i}]"), str::to_string);
        match seed::from_seed(&Value::Object(row.clone())) {
            Ok(r) => reads.push(r),
            Err(strangle_core::Error::InvalidProfile(v)) => {
                bad.extend(v.0.into_iter().map(|e| FieldError {
                    field: format!("{name}: {}", e.field),
                    message: e.message,
                }))
            }
            Err(e) => bad.push(FieldError {
                field: name,
                message: e.to_string(),
            }),
        }
    }
    if !bad.is_empty() {
        return Err(ApiError::Invalid {
            what: "profile",
            fields: bad,
        });
    }
    // The cached profiles are dropped across the write (see `profile_cache`).
    let _writing = api.profiles.writing();
    let mut imported = Vec::new();
    for r in reads {
        let p = &r.profile;
        let warnings = p.warnings().into_iter().chain(p.fee_warnings()).collect();
        if req.dry_run {
            imported.push(Imported {
                profile: r.profile.clone(),
                id: None,
                active: false,
                notes: r.notes,
                warnings,
            });
            continue;
        }
        let stored = match api.store.profile(&p.name).await {
            Ok(old) => {
                not_running(&api, old.id, "replacing").await?;
                api.store.update_profile(old.id, p).await?
            }
            Err(strangle_store::StoreError::NoProfile(_)) => api.store.create_profile(p).await?,
            Err(e) => return Err(e.into()),
        };
        let stored = if r.active {
            api.store.activate_profile(stored.id).await?
        } else {
            stored
        };
        imported.push(Imported {
            profile: stored.profile,
            id: Some(stored.id),
            active: stored.active,
            notes: r.notes,
            warnings,
        });
    }
    Ok(Json(ImportReply {
        dry_run: req.dry_run,
        imported,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn stored(id: i64, name: &str) -> StoredProfile {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("a valid time");
        let mut profile = Profile::default();
        profile.name = name.into();
        StoredProfile {
            id,
            active: id == 2,
            created_at: at,
            updated_at: at,
            profile,
        }
    }

    /// The list body is what serde writes for the list, each profile's slice what it writes
    /// for the profile; a new list is written again.
    #[test]
    fn bodies_are_serde_s_bytes_and_made_once_per_list() {
        let list = Arc::new(vec![
            stored(1, "a"),
            stored(2, "b \"quoted\""),
            stored(5, "c"),
        ]);
        let cache = ListJson::default();
        let body = cache.list(list.clone()).expect("written");
        assert_eq!(&body[..], &serde_json::to_vec(&*list).expect("json")[..]);
        for p in list.iter() {
            let one = cache.profile(list.clone(), p.id).expect("written");
            assert_eq!(
                one.as_deref(),
                Some(&serde_json::to_vec(p).expect("json")[..])
            );
        }
        assert_eq!(cache.profile(list.clone(), 3).expect("written"), None);
        let again = cache.list(list.clone()).expect("written");
        assert_eq!(
            again.as_ptr(),
            body.as_ptr(),
            "the same list: the same body"
        );
        let empty = cache.list(Arc::new(vec![])).expect("written");
        assert_eq!(&empty[..], b"[]");
    }
}
