//! Randomised schedulers: PCT and uniform random, with a small deterministic RNG.

use kmodel::{SchedView, Scheduler, Tid};

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and fully determined by its seed, so a
/// seed reproduces a run on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The RNG of execution `index` of a search seeded with `seed`: each execution draws
    /// from its own stream, so executions can run on any worker in any order.
    pub fn for_execution(seed: u64, index: u64) -> Self {
        let mut r = Rng(seed ^ 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(index.wrapping_add(1)));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by rejection so there is no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// Uniform random walk: a uniformly random enabled thread at every point.
pub(crate) struct RandomSched {
    pub rng: Rng,
}

impl Scheduler for RandomSched {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        let n = view.enabled().count() as u64;
        if n == 1 {
            return view.enabled().next().map(|(t, _)| t);
        }
        let i = self.rng.below(n) as usize;
        view.enabled().nth(i).map(|(t, _)| t)
    }
}

/// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010) in the Coyote/shuttle
/// variant: random distinct thread priorities, a new thread takes a random place in the
/// order, `depth - 1` change points drawn uniformly from `1..=k` where `k` counts only
/// points with more than one enabled thread; at a change point the running highest-priority
/// thread drops below every other. A bug of depth `d` is hit with probability at least
/// `1/(n·k^(d-1))` per run.
pub(crate) struct PctSched {
    rng: Rng,
    /// Highest priority first.
    order: Vec<Tid>,
    seen: usize,
    change_points: Vec<u32>,
    /// Points with more than one enabled thread so far.
    pub count: u32,
}

impl PctSched {
    /// `k = None` is the learning run: no change points.
    pub fn new(mut rng: Rng, depth: u32, k: Option<u32>) -> Self {
        let mut change_points = Vec::new();
        if let Some(k) = k {
            let k = k.max(1);
            let want = (depth.saturating_sub(1)).min(k) as usize;
            while change_points.len() < want {
                let c = 1 + rng.below(k as u64) as u32;
                if !change_points.contains(&c) {
                    change_points.push(c);
                }
            }
        }
        PctSched {
            rng,
            order: Vec::new(),
            seen: 0,
            change_points,
            count: 0,
        }
    }
}

impl Scheduler for PctSched {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        while self.seen < view.threads.len() {
            let pos = self.rng.below(self.order.len() as u64 + 1) as usize;
            self.order.insert(pos, Tid(self.seen as u32));
            self.seen += 1;
        }
        let mut en = view.enabled();
        let first = en.next()?.0;
        if en.next().is_none() {
            return Some(first);
        }
        self.count += 1;
        if self.change_points.contains(&self.count) {
            if let Some(pos) = self.order.iter().position(|t| view.is_enabled(*t)) {
                let t = self.order.remove(pos);
                self.order.push(t);
            }
        }
        self.order.iter().copied().find(|t| view.is_enabled(*t))
    }
}
