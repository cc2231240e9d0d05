//! A set of model threads by id: one machine word for threads 0–63 (every program seen so
//! far), growing for higher ids, so the explorer supports any number of threads.

use kmodel::Tid;

/// A set of [`Tid`]s. Threads below 64 live in `lo`; higher ones in `hi` (word `w` holds
/// threads `64 (w + 1) ..`), allocated only when such a thread is inserted.
///
/// # Invariants
///
/// Equality and hashing ignore trailing zero words of `hi`, so a set is equal to itself
/// however it was built.
#[derive(Clone, Debug, Default)]
pub(crate) struct ThreadSet {
    lo: u64,
    hi: Vec<u64>,
}

impl ThreadSet {
    pub fn insert(&mut self, t: Tid) {
        let i = t.0 as usize;
        if i < 64 {
            self.lo |= 1 << i;
        } else {
            let w = i / 64 - 1;
            if self.hi.len() <= w {
                self.hi.resize(w + 1, 0);
            }
            self.hi[w] |= 1 << (i % 64);
        }
    }

    pub fn contains(&self, t: Tid) -> bool {
        let i = t.0 as usize;
        if i < 64 {
            self.lo & (1 << i) != 0
        } else {
            self.hi
                .get(i / 64 - 1)
                .is_some_and(|w| w & (1 << (i % 64)) != 0)
        }
    }

    pub fn intersects(&self, other: &ThreadSet) -> bool {
        self.lo & other.lo != 0 || self.hi.iter().zip(&other.hi).any(|(a, b)| a & b != 0)
    }

    pub fn clear(&mut self) {
        self.lo = 0;
        self.hi.clear();
    }

    fn trimmed(&self) -> &[u64] {
        let n = self.hi.iter().rposition(|w| *w != 0).map_or(0, |p| p + 1);
        &self.hi[..n]
    }
}

impl FromIterator<Tid> for ThreadSet {
    fn from_iter<I: IntoIterator<Item = Tid>>(iter: I) -> Self {
        let mut s = ThreadSet::default();
        for t in iter {
            s.insert(t);
        }
        s
    }
}

impl PartialEq for ThreadSet {
    fn eq(&self, other: &Self) -> bool {
        self.lo == other.lo && self.trimmed() == other.trimmed()
    }
}

impl Eq for ThreadSet {}

impl std::hash::Hash for ThreadSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.lo.hash(state);
        self.trimmed().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(t: u32) -> ThreadSet {
        [Tid(t)].into_iter().collect()
    }

    #[test]
    fn sets_beyond_one_word() {
        let mut a = single(3);
        a.insert(Tid(64));
        a.insert(Tid(200));
        for t in [3, 64, 200] {
            assert!(a.contains(Tid(t)), "{t}");
        }
        for t in [0, 63, 65, 127, 128, 199, 201, 1000] {
            assert!(!a.contains(Tid(t)), "{t}");
        }
        let b: ThreadSet = [Tid(5), Tid(200)].into_iter().collect();
        assert!(a.intersects(&b));
        assert!(!a.intersects(&single(130)));
        // Equal however built: trailing zero words do not count.
        let mut c = single(1);
        c.insert(Tid(300));
        c.hi[3] = 0;
        assert_eq!(c, single(1));
        use std::hash::{BuildHasher, RandomState};
        let st = RandomState::new();
        assert_eq!(st.hash_one(&c), st.hash_one(single(1)));
        c.clear();
        assert!(!c.contains(Tid(1)));
    }
}
