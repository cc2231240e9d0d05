//! Small model programs shared by tests and the benchmark, built on kmodel's runtime primitives
//! only (heap, krefs, mutexes, lists; no devices): the mutex counters, the hotplug models of
//! checkers.md §7, and the planted list-walk race.

use std::sync::Arc;

use kmodel::kref::Kref;
use kmodel::{Kernel, Obj};

use crate::Program;

/// n threads each do k increments (read + write of a heap counter) under one mutex; init
/// spawns them, joins them and checks the total. Its Mazurkiewicz classes are the lock
/// acquisition orders: (nk)!/(k!)^n.
pub fn counters(n: u32, k: u32) -> Program {
    Arc::new(move |kr: &Kernel| {
        let m = kr.mutex_init("counter_lock");
        let c = kr.kzalloc("u32", "counter", 0u32);
        let ts: Vec<_> = (0..n)
            .map(|i| {
                kr.spawn(&format!("inc{i}"), move |kr| {
                    for _ in 0..k {
                        kr.mutex_lock(m);
                        let v = kr.read(c, |v| *v);
                        kr.write(c, |x| *x = v + 1);
                        kr.mutex_unlock(m);
                    }
                })
            })
            .collect();
        for t in ts {
            kr.join(t);
        }
        let total = kr.read(c, |v| *v);
        if total != n * k {
            kr.warn(format!(
                "lost update: counter is {total}, expected {}",
                n * k
            ));
        }
        kr.kfree(c);
    })
}

type Entry = Option<(Obj<u32>, Kref)>;

fn put(k: &Kernel, o: Obj<u32>, r: Kref, owner: String) {
    k.kref_put(r, owner, move |k| k.kfree(o));
}

fn unplug(k: &Kernel, m: kmodel::mutex::Mutex, reg: Obj<Entry>) {
    k.mutex_lock(m);
    let e = k.write(reg, |r| r.take());
    k.mutex_unlock(m);
    if let Some((o, r)) = e {
        put(k, o, r, "published".into());
    }
}

fn lookup(k: &Kernel, m: kmodel::mutex::Mutex, reg: Obj<Entry>, fixed: bool, me: String) {
    k.mutex_lock(m);
    let e = k.read(reg, |r| *r);
    if let (Some((_, r)), true) = (e, fixed) {
        k.kref_get(r, me.clone());
    }
    k.mutex_unlock(m);
    if let Some((o, r)) = e {
        k.read(o, |_| ());
        if fixed {
            put(k, o, r, me);
        }
    }
}

fn modeset(k: &Kernel, o: Obj<u32>, r: Kref, me: String) {
    k.read(o, |_| ());
    put(k, o, r, me);
}

/// The hotplug models of checkers.md §7. An object with a kref whose release kfrees it is
/// published in a registry (a heap `Option` under a mutex). `unplug`: lock, take, unlock,
/// put if taken. `lookup`: lock, read the entry, \[fixed: get under the lock\], unlock, use,
/// \[fixed: put\]. `modeset` already holds a reference: use, put.
///
/// `lookups_on_init`: hp3 runs its one lookup on init; hpn(l, m) spawns every thread and
/// init only joins. Buggy (`fixed = false`) lookups take no reference (the historical
/// `of_drm_find_bridge` contract).
pub fn hotplug(lookups: u32, modesets: u32, fixed: bool, lookup_on_init: bool) -> Program {
    Arc::new(move |k: &Kernel| {
        let o = k.kzalloc("struct drm_bridge", "bridge", 0u32);
        let r = k.kref_init(o.id(), "published");
        for i in 0..modesets {
            k.kref_get(r, format!("modeset{i}"));
        }
        let reg = k.kzalloc("struct bridge_registry", "registry", Some((o, r)) as Entry);
        let m = k.mutex_init("bridge_lock");
        let mut ts = vec![k.spawn("unplug", move |k| unplug(k, m, reg))];
        let spawned_lookups = if lookup_on_init {
            lookups.saturating_sub(1)
        } else {
            lookups
        };
        for i in 0..spawned_lookups {
            ts.push(k.spawn(&format!("lookup{i}"), move |k| {
                lookup(k, m, reg, fixed, format!("lookup{i}"))
            }));
        }
        for i in 0..modesets {
            ts.push(k.spawn(&format!("modeset{i}"), move |k| {
                modeset(k, o, r, format!("modeset{i}"))
            }));
        }
        if lookup_on_init && lookups > 0 {
            lookup(k, m, reg, fixed, "lookup-init".into());
        }
        for t in ts {
            k.join(t);
        }
        k.kfree(reg);
    })
}

/// hp3: unplug and a modeset spawned, one lookup on init.
pub fn hp3(fixed: bool) -> Program {
    hotplug(1, 1, fixed, true)
}

/// hpn(l, m): unplug, `l` lookups and `m` modesets, all spawned; init only joins.
pub fn hpn(l: u32, m: u32, fixed: bool) -> Program {
    hotplug(l, m, fixed, false)
}

/// Planted race (a): a walker goes over a list without holding references while a remover
/// `list_del`s and frees the element the walker stands on.
pub fn list_walk_race() -> Program {
    Arc::new(|k: &Kernel| {
        let head = k.list_head_init("bridge_list");
        let a = k.kzalloc("struct drm_bridge", "bridge-a", 1u32);
        let b = k.kzalloc("struct drm_bridge", "bridge-b", 2u32);
        let na = k.list_node(a);
        let nb = k.list_node(b);
        k.list_add_tail(na, head);
        k.list_add_tail(nb, head);
        let walker = k.spawn("walker", move |k| {
            let mut cur = k.list_first(head);
            while let Some(n) = cur {
                let owner = if n == na { a } else { b };
                k.read(owner, |_| ());
                cur = k.list_next(head, owner, n);
            }
        });
        let remover = k.spawn("remover", move |k| {
            k.list_del(na);
            k.kfree(a);
        });
        k.join(walker);
        k.join(remover);
        k.list_del(nb);
        k.kfree(b);
    })
}

/// The same walk, correct: the remover takes the list's mutex, and so does the walker for its
/// whole walk.
pub fn list_walk_locked() -> Program {
    Arc::new(|k: &Kernel| {
        let head = k.list_head_init("bridge_list");
        let m = k.mutex_init("bridge_lock");
        let a = k.kzalloc("struct drm_bridge", "bridge-a", 1u32);
        let b = k.kzalloc("struct drm_bridge", "bridge-b", 2u32);
        let na = k.list_node(a);
        let nb = k.list_node(b);
        k.list_add_tail(na, head);
        k.list_add_tail(nb, head);
        let walker = k.spawn("walker", move |k| {
            k.mutex_lock(m);
            let mut cur = k.list_first(head);
            while let Some(n) = cur {
                let owner = if n == na { a } else { b };
                k.read(owner, |_| ());
                cur = k.list_next(head, owner, n);
            }
            k.mutex_unlock(m);
        });
        let remover = k.spawn("remover", move |k| {
            k.mutex_lock(m);
            k.list_del(na);
            k.mutex_unlock(m);
            k.kfree(a);
        });
        k.join(walker);
        k.join(remover);
        k.list_del(nb);
        k.kfree(b);
    })
}
