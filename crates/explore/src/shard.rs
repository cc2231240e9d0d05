//! Sharded DPOR: a deterministic split of the search space into parts that separate
//! processes explore with no coordination (`bridgesim explore --shard i/n`), and whose
//! results `bridgesim merge` combines.
//!
//! The split: the first choice points of the program (steps with two or more enabled
//! threads) are enumerated in full, every enabled thread at each, breadth first, until there
//! are at least [`LEAVES_PER_SHARD`]` · n` prefixes (or the prefixes end). Each prefix is a
//! *leaf*; leaves are numbered in depth-first order (their choice sequences sorted), and
//! shard `i` explores leaves `i, i + n, i + 2n, …`, each with source-set DPOR rooted at the
//! state after the prefix. Every shard computes the same leaves, so no shard needs another.
//!
//! The prefix tree is searched with sleep sets (naive DFS with sleep sets, Godefroid 1996):
//! at a choice point every thread that is not asleep is enumerated, and a thread tried
//! earlier there sleeps in its later siblings' subtrees until a dependent step wakes it. A
//! prefix that runs into a state where every enabled thread is asleep is dropped. Each leaf
//! keeps its sleep set, and its DPOR starts from it.
//!
//! Soundness: sleep-set DFS over the prefixes reaches, for every Mazurkiewicz trace, a
//! prefix of some execution of that trace whose continuation is not asleep; source-set DPOR
//! with sleep sets called on that state with that sleep set (Abdulla et al., Algorithm 1,
//! `Explore(E, Sleep)`) explores every trace extending it that the sleep set does not
//! exclude. Races against steps of the prefix need no backtracking there: every awake
//! alternative at a prefix choice point is a leaf of its own. The cost is the top of the
//! tree reduced by sleep sets only (no source sets): the sum of the shards' executions is
//! at least that of one unsharded DPOR.

use kmodel::{SchedView, Scheduler, Tid};

use crate::exec::{run_one, Runner};
use crate::report::InternalError;
use crate::tree::Node;

/// Leaves wanted per shard: enough that round-robin assignment evens out subtree sizes.
pub const LEAVES_PER_SHARD: usize = 32;

/// Prefixes are never deeper than this many choice points.
const MAX_PREFIX_CHOICES: usize = 24;

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

/// Follows `path` at its choice points, records a fixed [`Node`] per step with the sleep
/// set a sleep-set search would have there, and stops at the first choice point past the
/// path, recording the threads to enumerate there (the enabled ones that are not asleep).
///
/// The prefix tree is searched as naive DFS with sleep sets (Godefroid), the threads of a
/// choice point in thread order: the child of thread `t` finds asleep every thread tried
/// before `t` there (and every thread asleep there) whose access is independent of `t`'s,
/// exactly as [`crate::tree`] carries sleep sets. A prefix that reaches a point where every
/// enabled thread is asleep is a redundant order of another prefix and is no leaf.
struct PrefixSched<'a> {
    path: &'a [Tid],
    choices: usize,
    nodes: Vec<Node>,
    end: PrefixEnd,
    relation: crate::hb::Relation,
}

/// How a prefix run stopped.
enum PrefixEnd {
    /// At the first choice point past the path, with the threads to enumerate there.
    Frontier(Vec<Tid>),
    /// The execution ended within the path.
    Ended,
    /// Every enabled thread was asleep: the prefix is redundant.
    Blocked,
}

impl Scheduler for PrefixSched<'_> {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        let enabled: Vec<_> = view.enabled().collect();
        let mut sleep = Vec::new();
        if let Some(parent) = self.nodes.last() {
            parent.child_sleep_into(&enabled, self.relation, &mut sleep);
        }
        let awake: Vec<Tid> = enabled
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| !sleep.iter().any(|(u, _)| u == t))
            .collect();
        let (chosen, before) = if enabled.len() > 1 {
            let Some(&t) = self.path.get(self.choices) else {
                self.end = if awake.is_empty() {
                    PrefixEnd::Blocked
                } else {
                    PrefixEnd::Frontier(awake)
                };
                return None;
            };
            self.choices += 1;
            if !awake.contains(&t) {
                self.end = PrefixEnd::Blocked;
                return None;
            }
            // The threads a sleep-set DFS tried here before `t`.
            let before: Vec<Tid> = awake.iter().copied().filter(|u| *u < t).collect();
            (t, before)
        } else {
            let Some(&t) = awake.first() else {
                self.end = PrefixEnd::Blocked;
                return None;
            };
            (t, Vec::new())
        };
        let mut node = Node::fixed(enabled, view.current, chosen);
        node.sleep = sleep;
        for u in before {
            node.done.insert(u);
        }
        self.nodes.push(node);
        Some(chosen)
    }
}

/// Run the prefix `path`: its nodes, and how it stopped.
fn run_prefix(runner: &Runner, path: &[Tid]) -> Result<(Vec<Node>, PrefixEnd), InternalError> {
    let mut s = PrefixSched {
        path,
        choices: 0,
        nodes: Vec::new(),
        end: PrefixEnd::Ended,
        relation: runner.relation,
    };
    run_one(runner, &mut s).map_err(|message| InternalError {
        message,
        schedule: Some(kmodel::Schedule(path.to_vec()).to_string()),
    })?;
    Ok((s.nodes, s.end))
}

/// The leaves of a split into `count` shards, as choice sequences in depth-first order, and
/// the prefix executions run to find them.
pub(crate) fn leaves(runner: &Runner, count: u32) -> Result<(Vec<Vec<Tid>>, u64), InternalError> {
    let target = LEAVES_PER_SHARD * count as usize;
    let mut level: Vec<Vec<Tid>> = vec![Vec::new()];
    let mut ended = Vec::new();
    let mut runs = 0;
    for _ in 0..MAX_PREFIX_CHOICES {
        if level.is_empty() || level.len() + ended.len() >= target {
            break;
        }
        let mut next = Vec::new();
        for path in level {
            runs += 1;
            match run_prefix(runner, &path)?.1 {
                PrefixEnd::Frontier(ts) => next.extend(ts.into_iter().map(|t| {
                    let mut p = path.clone();
                    p.push(t);
                    p
                })),
                PrefixEnd::Ended => ended.push(path),
                PrefixEnd::Blocked => {}
            }
        }
        level = next;
    }
    level.extend(ended);
    level.sort();
    Ok((level, runs))
}

/// The path (fixed nodes) of leaf `path`, for [`crate::tree::Engine::from_stack`].
pub(crate) fn leaf_stack(runner: &Runner, path: &[Tid]) -> Result<Vec<Node>, InternalError> {
    run_prefix(runner, path).map(|(nodes, _)| nodes)
}
