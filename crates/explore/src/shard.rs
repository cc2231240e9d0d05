//! Sharded DPOR: a deterministic split of the search space into parts that separate
//! processes explore with no coordination (`bridgesim explore --shard i/n`), and whose
//! results `bridgesim merge` combines.
//!
//! The split ([`crate::tree::Split`]): a state lies in the *prefix* while fewer than `D`
//! states before it are *branching* (two or more awake threads: enabled, not asleep), `D`
//! the least depth that gives at least `L` leaves ([`split`]). The prefix is searched as
//! naive DFS with sleep sets (Godefroid 1996): at each of its states every awake thread, the
//! current one first and then the others in thread order, and a thread tried earlier there sleeps in its later siblings' subtrees until a
//! dependent step wakes it. A *leaf* is the subtree of the first state past the prefix on a
//! path, searched with source-set DPOR with sleep sets from the sleep set it has there, or an
//! execution that ends inside the prefix. Leaves are numbered in the order this search
//! reaches them; shard `i` of `n` searches leaves `i, i + n, i + 2n, …` and cuts every
//! execution that reaches the root of another leaf there (a *prefix execution*, counted
//! apart). Every shard runs the same search up to those cuts, so every shard numbers the
//! leaves alike, and no shard needs another.
//!
//! **Search order.** Without `--all`, the unsharded DPOR search reports the first violation
//! of this same search with every leaf its own ([`FIRST_VIOLATION_LEAVES`], the split of
//! every first-violation shard too, whatever `n`), which explores leaf 0, then leaf 1, …,
//! each leaf's DPOR exactly as the shard that owns it runs it (a race against a state of the
//! prefix adds nothing: every awake thread there is already queued or asleep). So its first
//! violation is the first violation of the lowest leaf that has one, and that is the one the
//! merge reports (`stats.shard.first_leaf`). (It runs plain DPOR first, whose first
//! execution is the leaf order's first: no preemption, the current thread first; only a
//! violation found later sends it round in leaf order: `Explorer::run_first_violation`.) With `--all` the order does not matter (the set of
//! distinct violations is order-free): the unsharded search is plain DPOR, and the shards
//! split into `L = ` [`LEAVES_PER_SHARD`]` · n` leaves so that round-robin evens out.
//!
//! Soundness: sleep-set DFS over the prefix reaches, for every Mazurkiewicz trace, a
//! prefix of some execution of that trace whose continuation is not asleep; source-set DPOR
//! with sleep sets called on that state with that sleep set (Abdulla et al., Algorithm 1,
//! `Explore(E, Sleep)`) explores every trace extending it that the sleep set does not
//! exclude. Races against steps of the prefix need no backtracking: every awake alternative
//! at a prefix state is explored. The cost is the prefix reduced by sleep sets only (no
//! source sets): the leaves' executions add up to at least one unsharded DPOR run's.

use crate::exec::Runner;
use crate::report::InternalError;
use crate::tree::{Engine, Mode, Split, Take};

/// Leaves wanted per shard with `--all`: enough that round-robin assignment evens out
/// subtree sizes.
pub const LEAVES_PER_SHARD: u64 = 32;

/// Leaves of the first-violation split, the same for every number of shards (and for the
/// unsharded search): round-robin evens out up to about 4 shards.
pub const FIRST_VIOLATION_LEAVES: u64 = 128;

/// Prefixes never have more than this many branching states.
const MAX_PREFIX_DEPTH: u32 = 24;

/// Part `index` of `count` (`0 <= index < count`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    /// `i/n` with `0 <= i < n`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("expected i/n (e.g. 0/4), found `{s}`"))?;
        let index: u32 = i
            .parse()
            .map_err(|_| format!("expected a shard number before `/` in i/n, found `{i}`"))?;
        let count: u32 = n
            .parse()
            .map_err(|_| format!("expected a shard count after `/` in i/n, found `{n}`"))?;
        if count == 0 || index >= count {
            return Err(format!("expected 0 <= i < n in i/n, found {index}/{count}"));
        }
        Ok(Shard { index, count })
    }
}

/// The split with at least `leaves` leaves (or the whole tree in its prefix, or
/// [`MAX_PREFIX_DEPTH`]), taking `take`; and the executions run to find it. A counting round
/// of depth `d` ([`Take::Nothing`]: the very search that then runs, every execution cut at its
/// leaf's root) counts the leaves of every depth up to `d`; the next round's depth comes from
/// the growth per level seen so far. Every shard runs the same rounds and finds the same depth.
pub(crate) fn split(
    runner: &Runner,
    leaves: u64,
    take: Take,
) -> Result<(Split, u64), InternalError> {
    let mut runs = 0;
    let mut depth = 1;
    loop {
        let count = Split {
            depth,
            take: Take::Nothing,
        };
        let mut e = Engine::new(Mode::Dpor).with_split(Some(count));
        while let Some(r) = e.next(runner) {
            r?;
            runs += 1;
        }
        if let Some(d) = (1..=depth).find(|&k| e.leaves_at(k) >= leaves) {
            return Ok((Split { depth: d, take }, runs));
        }
        let roots = e.roots_at.get(depth as usize).copied().unwrap_or(0);
        if roots == 0 || depth == MAX_PREFIX_DEPTH {
            return Ok((Split { depth, take }, runs));
        }
        // Levels still needed at the growth of the last half of the levels.
        let now = e.leaves_at(depth) as f64;
        let back = (depth / 2).max(1);
        let before = e.leaves_at(depth - back).max(1) as f64;
        let growth = (now / before).powf(1.0 / back as f64);
        let needed = if growth > 1.01 {
            ((leaves as f64 / now).ln() / growth.ln()).ceil() as u32
        } else {
            depth
        };
        depth = (depth + needed.clamp(1, depth)).min(MAX_PREFIX_DEPTH);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{models, Options};

    /// The counting rounds rest on this: a round of depth `d` counts, for every `k <= d`, the
    /// leaves a round of depth `k` reaches.
    #[test]
    fn one_round_counts_the_leaves_of_every_shallower_depth() {
        // counters(2, 1) ends inside a depth-8 prefix (ended leaves), the others reach it.
        for program in [
            models::counters(2, 1),
            models::hpn(2, 1, false),
            models::counters(3, 2),
        ] {
            let config = crate::replay::config_for(&Options::default());
            let runner = Runner::new(program, config, false);
            let round = |depth| {
                let take = Take::Nothing;
                let mut e = Engine::new(Mode::Dpor).with_split(Some(Split { depth, take }));
                while let Some(r) = e.next(&runner) {
                    r.expect("no host panic");
                }
                e
            };
            let deep = round(8);
            let mut grew = false;
            for k in 1..=8 {
                let leaves = round(k).leaves_reached;
                assert_eq!(deep.leaves_at(k), leaves, "depth {k}");
                grew |= k > 1 && leaves > round(k - 1).leaves_reached;
            }
            assert!(grew, "a split that never grows tests nothing");
        }
    }
}
