//! `linux/list.h` with `CONFIG_DEBUG_LIST`: intrusive lists and their corruption checks.
//!
//! A [`ListNode`] is a `struct list_head` member embedded in a heap object (its owner). Its
//! state follows the kernel's: zeroed memory (never initialised), self-linked (after
//! `INIT_LIST_HEAD` or `list_del_init`), on a list, or poisoned (after `list_del`). Walking a
//! list reads each entry's `next` pointer from the entry's own memory, so a walk that stands on
//! an entry another thread has freed is a use-after-free, and one that stands on a deleted
//! entry follows `LIST_POISON1`.

use crate::report::ViolationKind;
use crate::sched::{Access, AccessKind, Field, Kernel, ObjId};
use crate::slab::Obj;
use crate::{ObjKind, State};

/// A list head (`LIST_HEAD(bridge_list)`).
///
/// # Invariants
///
/// Always names a [`ListRec`] in its kernel's object table.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListHead(ObjId);

impl ListHead {
    pub fn id(self) -> ObjId {
        self.0
    }
}

/// A `struct list_head` member of a heap object.
///
/// # Invariants
///
/// Indexes the kernel's node table.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListNode(u32);

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum NodeState {
    /// Zeroed memory: `next == NULL`.
    Zeroed,
    /// `INIT_LIST_HEAD`: points to itself.
    SelfLinked,
    OnList(ObjId),
    /// After `list_del`: `next == LIST_POISON1`.
    Poisoned,
}

pub(crate) struct NodeRec {
    pub owner: ObjId,
    pub state: NodeState,
}

pub(crate) struct ListRec {
    pub entries: Vec<ListNode>,
}

impl State {
    fn list(&mut self, h: ObjId) -> &mut ListRec {
        match &mut self.obj_mut(h).kind {
            ObjKind::List(l) => l,
            _ => unreachable!("not a list head"),
        }
    }
}

impl Kernel {
    /// `LIST_HEAD(name)`: an empty list.
    pub fn list_head_init(&self, name: &str) -> ListHead {
        let mut st = self.st.borrow_mut();
        ListHead(st.new_object(
            "struct list_head",
            name.to_string(),
            ObjKind::List(ListRec {
                entries: Vec::new(),
            }),
        ))
    }

    /// A `list_head` member of `owner`, as zeroed memory (`kzalloc` does not link it).
    pub fn list_node<T>(&self, owner: Obj<T>) -> ListNode {
        let mut st = self.st.borrow_mut();
        st.list_nodes.push(NodeRec {
            owner: owner.id(),
            state: NodeState::Zeroed,
        });
        ListNode(st.list_nodes.len() as u32 - 1)
    }

    fn node_state(&self, n: ListNode) -> (ObjId, NodeState) {
        let st = self.st.borrow();
        let r = &st.list_nodes[n.0 as usize];
        (r.owner, r.state)
    }

    fn set_node_state(&self, n: ListNode, s: NodeState) {
        self.st.borrow_mut().list_nodes[n.0 as usize].state = s;
    }

    /// Touch the node's memory (inside its owner): a use-after-free if the owner is gone.
    /// Only the member's own memory: it commutes with accesses to the owner's other fields.
    fn touch_node<T: 'static>(&self, owner: Obj<T>, n: ListNode, kind: AccessKind) {
        self.touch_field(owner, kind, Field::list_node(n.0));
    }

    /// `INIT_LIST_HEAD(&obj->member)`.
    pub fn init_list_head<T: 'static>(&self, owner: Obj<T>, n: ListNode) {
        self.touch_node(owner, n, AccessKind::Write);
        self.set_node_state(n, NodeState::SelfLinked);
    }

    /// Whether the member is self-linked or zeroed (`list_empty(&obj->member)`), reading it.
    pub fn list_node_empty<T: 'static>(&self, owner: Obj<T>, n: ListNode) -> bool {
        self.touch_node(owner, n, AccessKind::Read);
        matches!(
            self.node_state(n).1,
            NodeState::SelfLinked | NodeState::Zeroed
        )
    }

    /// `list_add_tail`. Adding an entry that is still on a list corrupts that list: reported.
    pub fn list_add_tail(&self, n: ListNode, head: ListHead) {
        let _f = self.func("list_add_tail");
        self.point(Access::new(head.0, AccessKind::ListWrite));
        let (_, s) = self.node_state(n);
        if let NodeState::OnList(other) = s {
            let name = self.st.borrow().obj(other).name.clone();
            self.violation(
                ViolationKind::ListCorruption,
                Some(self.node_state(n).0),
                None,
                format!("list_add corruption: entry is still on list {name}"),
            );
            self.st.borrow_mut().list(other).entries.retain(|&e| e != n);
        }
        self.st.borrow_mut().list(head.0).entries.push(n);
        self.set_node_state(n, NodeState::OnList(head.0));
    }

    /// `list_del`: unlink and poison. On a self-linked node it is harmless; on a poisoned or
    /// zeroed one it is reported, as `CONFIG_DEBUG_LIST` does.
    pub fn list_del(&self, n: ListNode) {
        self.del(n, NodeState::Poisoned, "list_del");
    }

    /// `list_del_init`: unlink and self-link.
    pub fn list_del_init(&self, n: ListNode) {
        self.del(n, NodeState::SelfLinked, "list_del_init");
    }

    fn del(&self, n: ListNode, after: NodeState, func: &'static str) {
        let _f = self.func(func);
        let (owner, s) = self.node_state(n);
        // On a list, the list changes; off it, only the member's own pointers.
        let access = match s {
            NodeState::OnList(h) => Access::new(h, AccessKind::ListWrite),
            _ => Access::to_field(owner, AccessKind::ListWrite, Field::list_node(n.0)),
        };
        self.point(access);
        match self.node_state(n).1 {
            NodeState::OnList(h) => {
                self.st.borrow_mut().list(h).entries.retain(|&e| e != n);
                self.set_node_state(n, after);
            }
            NodeState::SelfLinked => self.set_node_state(n, after),
            NodeState::Poisoned => self.violation(
                ViolationKind::ListCorruption,
                Some(owner),
                None,
                "list_del corruption, entry->next is LIST_POISON1 (deleted twice)".into(),
            ),
            NodeState::Zeroed => self.violation(
                ViolationKind::ListCorruption,
                Some(owner),
                None,
                "list_del corruption, entry->next is NULL (never initialised)".into(),
            ),
        }
    }

    /// `list_del_init` made without the lock that serialises the list's other updates (as
    /// `drm_bridge_add` does on the lingering list from v6.19). Its loads of the neighbours and
    /// its stores through them are two steps: when another thread relinks a neighbour in
    /// between, the stores go through stale pointers and the list is corrupted, reported as
    /// `CONFIG_DEBUG_LIST` reports the broken links (the unlink itself still happens).
    pub fn list_del_init_unlocked(&self, n: ListNode) {
        let _f = self.func("list_del_init");
        let NodeState::OnList(h) = self.node_state(n).1 else {
            // Not on a list: nothing to race with.
            return self.del(n, NodeState::SelfLinked, "list_del_init");
        };
        self.point(Access::new(h, AccessKind::ListRead));
        let before = self.neighbours(h, n);
        self.point(Access::new(h, AccessKind::ListWrite));
        let now = match self.node_state(n).1 {
            NodeState::OnList(h2) if h2 == h => self.neighbours(h, n),
            _ => None,
        };
        if now != before {
            let (owner, _) = self.node_state(n);
            let name = self.st.borrow().obj(h).name.clone();
            self.violation(
                ViolationKind::ListCorruption,
                Some(owner),
                None,
                format!(
                    "list_del corruption on {name}: a neighbour was relinked between \
                     list_del_init's loads and stores (no common lock)"
                ),
            );
        }
        if let NodeState::OnList(h) = self.node_state(n).1 {
            self.st.borrow_mut().list(h).entries.retain(|&e| e != n);
        }
        self.set_node_state(n, NodeState::SelfLinked);
    }

    /// `n`'s previous and next entries on `h` (`None` stands for the head).
    fn neighbours(&self, h: ObjId, n: ListNode) -> Option<(Option<ListNode>, Option<ListNode>)> {
        let mut st = self.st.borrow_mut();
        let l = st.list(h);
        let i = l.entries.iter().position(|&e| e == n)?;
        let prev = i.checked_sub(1).map(|p| l.entries[p]);
        Some((prev, l.entries.get(i + 1).copied()))
    }

    /// `list_move_tail`: delete from wherever it is and add to `head`.
    pub fn list_move_tail(&self, n: ListNode, head: ListHead) {
        let _f = self.func("list_move_tail");
        self.point(Access::new(head.0, AccessKind::ListWrite));
        if let NodeState::OnList(h) = self.node_state(n).1 {
            self.st.borrow_mut().list(h).entries.retain(|&e| e != n);
        }
        self.st.borrow_mut().list(head.0).entries.push(n);
        self.set_node_state(n, NodeState::OnList(head.0));
    }

    /// The entries' owners, in list order, read in one step (a walk under the list's lock).
    pub fn list_entries(&self, head: ListHead) -> Vec<ObjId> {
        self.point(Access::new(head.0, AccessKind::ListRead));
        let mut st = self.st.borrow_mut();
        let entries = st.list(head.0).entries.clone();
        entries
            .iter()
            .map(|n| st.list_nodes[n.0 as usize].owner)
            .collect()
    }

    /// `list_first_entry_or_null`: the first entry's node, reading the head.
    pub fn list_first(&self, head: ListHead) -> Option<ListNode> {
        self.point(Access::new(head.0, AccessKind::ListRead));
        self.st.borrow_mut().list(head.0).entries.first().copied()
    }

    /// The entry after `n` on `head` (`list_next_entry`), reading `n`'s `next` pointer from its
    /// owner's memory. Reading it from a freed owner is a use-after-free; from a deleted entry
    /// it is `LIST_POISON1` (reported, and the walk ends).
    ///
    /// Two steps: a read of the list, then the read of `n`'s node. `list_del` and `list_add`
    /// declare a change of the list, not of the neighbours' nodes they rewrite (`prev->next`,
    /// `next->prev`) nor of the poisoned entry, so without the first read an unlink of `n` or of
    /// its successor would commute with the walk's read and a search could miss the walk that
    /// follows `LIST_POISON1` or skips an entry. A change between the two steps is seen by the
    /// second, as it would be by the walk's load of `next`.
    pub fn list_next<T: 'static>(
        &self,
        head: ListHead,
        owner: Obj<T>,
        n: ListNode,
    ) -> Option<ListNode> {
        let _f = self.func("list_next_entry");
        self.point(Access::new(head.0, AccessKind::ListRead));
        self.touch_node(owner, n, AccessKind::Read);
        match self.node_state(n).1 {
            NodeState::OnList(h) if h == head.0 => {
                let mut st = self.st.borrow_mut();
                let l = st.list(h);
                let i = l.entries.iter().position(|&e| e == n)?;
                l.entries.get(i + 1).copied()
            }
            NodeState::Poisoned => {
                self.violation(
                    ViolationKind::ListCorruption,
                    Some(owner.id()),
                    None,
                    "list walk through a deleted entry: next is LIST_POISON1".into(),
                );
                None
            }
            _ => None,
        }
    }

    /// The heap object that owns node `n`.
    pub fn list_node_owner(&self, n: ListNode) -> ObjId {
        self.node_state(n).0
    }
}
