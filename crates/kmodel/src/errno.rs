//! `linux/errno.h`: the error numbers model functions return.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A kernel error number (positive, as in `-EINVAL` without the sign).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Errno(pub i32);

impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ENOENT: Errno = Errno(2);
    pub const EIO: Errno = Errno(5);
    pub const ENOMEM: Errno = Errno(12);
    pub const EBUSY: Errno = Errno(16);
    pub const EEXIST: Errno = Errno(17);
    pub const ENODEV: Errno = Errno(19);
    pub const EINVAL: Errno = Errno(22);
    pub const EDEADLK: Errno = Errno(35);
    pub const EPROBE_DEFER: Errno = Errno(517);

    /// The kernel's symbolic name.
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            5 => "EIO",
            12 => "ENOMEM",
            16 => "EBUSY",
            17 => "EEXIST",
            19 => "ENODEV",
            22 => "EINVAL",
            35 => "EDEADLK",
            517 => "EPROBE_DEFER",
            _ => "E?",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "E?" => write!(f, "-{}", self.0),
            n => write!(f, "-{n}"),
        }
    }
}

impl std::error::Error for Errno {}
