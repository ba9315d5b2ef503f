//! The profiles, held by the server in one shared snapshot for the API's frequent reads
//! (`GET /api/configs`, `/api/configs/{id}`, the heartbeat and runtime views), so those answer
//! without a database read. The store stays a store: the cache is the server's.
//!
//! Every route that writes a profile holds [`ProfileCache::writing`] across the write: the
//! snapshot is dropped, and a read that loaded the list while the write happened does not
//! keep it (a generation counter tells); the next read swaps a fresh one in. Another process
//! writing the same ledger (a `strangle configs` command beside `serve`, a second runner on
//! PostgreSQL) is not seen by this one's writes: the snapshot is therefore also reloaded once
//! it is [`PROFILE_CACHE_TTL`] old. Reads that start an engine do not use the cache: they
//! read the database.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use strangle_store::{profile_in, Store, StoreError, StoredProfile};

/// How long a cached profile list is served before it is read again, which bounds how late
/// another process's edit shows here.
pub const PROFILE_CACHE_TTL: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct State {
    /// Bumped by every write.
    generation: u64,
    /// The list and when it was read.
    list: Option<(Arc<Vec<StoredProfile>>, Instant)>,
}

/// Every profile, by name, as last read, or nothing.
#[derive(Debug, Default)]
pub struct ProfileCache {
    state: Mutex<State>,
}

impl ProfileCache {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every profile, by name: the snapshot when it is recent, else read from `store` and
    /// kept (unless a write happened meanwhile).
    pub async fn list(&self, store: &Store) -> Result<Arc<Vec<StoredProfile>>, StoreError> {
        let generation = match self.get() {
            Ok(list) => return Ok(list),
            Err(generation) => generation,
        };
        let read_at = Instant::now();
        let list = Arc::new(store.profiles().await?);
        self.put(generation, list.clone(), read_at);
        Ok(list)
    }

    /// Profile `id`, from [`ProfileCache::list`].
    pub async fn by_id(&self, store: &Store, id: i64) -> Result<StoredProfile, StoreError> {
        profile_in(&self.list(store).await?, id).cloned()
    }

    /// The cached list if it is younger than [`PROFILE_CACHE_TTL`], or the generation to
    /// pass to [`ProfileCache::put`] after reading the database.
    fn get(&self) -> Result<Arc<Vec<StoredProfile>>, u64> {
        let s = self.lock();
        match &s.list {
            Some((list, at)) if at.elapsed() < PROFILE_CACHE_TTL => Ok(list.clone()),
            _ => Err(s.generation),
        }
    }

    /// Keeps `list`, read when the generation was `generation`, unless a write has
    /// happened since (then the list may predate it and is not kept).
    fn put(&self, generation: u64, list: Arc<Vec<StoredProfile>>, read_at: Instant) {
        let mut s = self.lock();
        if s.generation == generation {
            s.list = Some((list, read_at));
        }
    }

    /// Forgets the list now and again when the returned guard drops (the write ended, failed
    /// or was cancelled): a read that started during the write is not served afterwards.
    pub fn writing(&self) -> Writing<'_> {
        self.invalidate();
        Writing(self)
    }

    /// Forgets the list.
    fn invalidate(&self) {
        let mut s = self.lock();
        s.generation = s.generation.wrapping_add(1);
        s.list = None;
    }
}

/// A write to the profiles under way (see [`ProfileCache::writing`]).
pub struct Writing<'a>(&'a ProfileCache);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.invalidate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_during_a_read_keeps_the_read_out_of_the_cache() {
        let c = ProfileCache::default();
        let g = c.get().expect_err("empty");
        let writing = c.writing();
        c.put(g, Arc::new(vec![]), Instant::now());
        assert!(c.get().is_err(), "a list read before a write is not kept");
        let g = c.get().expect_err("still empty");
        c.put(g, Arc::new(vec![]), Instant::now());
        assert!(
            c.get().is_ok(),
            "a list read during the write is kept while it lasts"
        );
        drop(writing);
        assert!(c.get().is_err(), "and forgotten when the write ends");
        let g = c.get().expect_err("empty");
        c.put(g, Arc::new(vec![]), Instant::now());
        assert!(c.get().is_ok());
    }

    #[test]
    fn an_old_list_is_read_again() {
        let c = ProfileCache::default();
        let g = c.get().expect_err("empty");
        let old = Instant::now()
            .checked_sub(PROFILE_CACHE_TTL)
            .expect("the monotonic clock is past one TTL");
        c.put(g, Arc::new(vec![]), old);
        assert!(c.get().is_err());
    }

    /// A write through the server shows in the next read; another process's write shows once
    /// the snapshot is [`PROFILE_CACHE_TTL`] old (a real SQLite ledger, two handles on it).
    #[tokio::test]
    async fn writes_show_at_once_here_and_after_the_ttl_from_elsewhere() {
        use strangle_core::profile::Profile;
        let dir = std::env::temp_dir().join(format!(
            "strangle_cache_{}_{}",
            std::process::id(),
            std::time::SystemTime::now() // wall-clock-ok: a unique file name, not a market time
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("l.db");
        let here = Store::open(&path.display().to_string())
            .await
            .expect("opens");
        let other = Store::open(&path.display().to_string())
            .await
            .expect("opens");
        let cache = ProfileCache::default();
        assert!(cache.list(&here).await.expect("list").is_empty());
        {
            let _writing = cache.writing();
            here.create_profile(&Profile::named("alpha"))
                .await
                .expect("create");
        }
        assert_eq!(cache.list(&here).await.expect("list").len(), 1, "at once");
        other
            .create_profile(&Profile::named("elsewhere"))
            .await
            .expect("create");
        assert_eq!(
            cache.list(&here).await.expect("list").len(),
            1,
            "served from memory"
        );
        tokio::time::sleep(PROFILE_CACHE_TTL + Duration::from_millis(50)).await;
        assert_eq!(
            cache.list(&here).await.expect("list").len(),
            2,
            "after the TTL"
        );
        drop((here, other));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
