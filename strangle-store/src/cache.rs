//! The profiles, held in memory for the API's frequent reads (`GET /api/configs`,
//! `/api/configs/{id}`, the runtime view), so those answer without a database read.
//!
//! Every write to the profiles through the store empties the cache, and a read that loaded
//! the list while a write happened does not keep it (a generation counter tells). Another
//! process writing the same ledger (a `strangle configs` command beside `serve`, a second
//! runner on PostgreSQL) is not seen by this one's writes: the cached list is therefore also
//! reloaded once it is [`PROFILE_CACHE_TTL`] old. Reads that start an engine do not use the
//! cache: they read the database.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::profiles::StoredProfile;

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
pub(crate) struct ProfileCache {
    state: Mutex<State>,
}

impl ProfileCache {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached list if it is younger than [`PROFILE_CACHE_TTL`], or the generation to
    /// pass to [`ProfileCache::put`] after reading the database.
    pub(crate) fn get(&self) -> Result<Arc<Vec<StoredProfile>>, u64> {
        let s = self.lock();
        match &s.list {
            Some((list, at)) if at.elapsed() < PROFILE_CACHE_TTL => Ok(list.clone()),
            _ => Err(s.generation),
        }
    }

    /// Keeps `list`, read when the generation was `generation`, unless a write has
    /// happened since (then the list may predate it and is not kept).
    pub(crate) fn put(&self, generation: u64, list: Arc<Vec<StoredProfile>>, read_at: Instant) {
        let mut s = self.lock();
        if s.generation == generation {
            s.list = Some((list, read_at));
        }
    }

    /// Forgets the list now and again when the returned guard drops (the write ended, failed
    /// or was cancelled): a read that started during the write is not served afterwards.
    pub(crate) fn writing(&self) -> Writing<'_> {
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
pub(crate) struct Writing<'a>(&'a ProfileCache);

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
}
